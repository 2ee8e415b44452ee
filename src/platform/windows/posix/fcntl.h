#pragma once
// open() flags Windows' CRT does not have. Handles are not inherited by
// child processes unless asked (CreateProcess bInheritHandles), so
// O_CLOEXEC is the default already; there are no controlling terminals
// (O_NOCTTY) and files never block on open (O_NONBLOCK). O_NOFOLLOW: a
// symbolic link needs the SeCreateSymbolicLink privilege (administrators,
// or Developer Mode) to plant, which the Windows state directory under
// %LOCALAPPDATA% does not grant others.
#include_next <fcntl.h>

#ifndef O_CLOEXEC
#define O_CLOEXEC 0
#endif
#ifndef O_NOCTTY
#define O_NOCTTY 0
#endif
#ifndef O_NONBLOCK
#define O_NONBLOCK 0
#endif
#ifndef O_NOFOLLOW
#define O_NOFOLLOW 0
#endif
