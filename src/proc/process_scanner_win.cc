// The process scan on Windows, behind the same header as the procfs scan:
// Toolhelp32 lists the processes (pid, parent, image name); each one is then
// opened for query and read with the process APIs: the image path
// (QueryFullProcessImageName), the command line (NtQueryInformationProcess,
// ProcessCommandLineInformation, Windows 8.1+), working set and private bytes
// (GetProcessMemoryInfo) and the loaded modules (EnumProcessModulesEx), which
// is what the signature table reads as "libraries" (DirectML.dll,
// onnxruntime.dll, ggml*.dll, torch_cuda.dll). Listening TCP sockets come
// with their pid from GetExtendedTcpTable. `proc_root` has no meaning here.
//
// Paths are written with '/' (Windows accepts either separator), so the
// platform-free rules (basenames, model folders) apply unchanged. Open model
// files would need the system handle list (a driver or SeDebugPrivilege to
// read other processes' handles); the command line's model arguments stand in.
#include <windows.h>
// After windows.h:
#include <iphlpapi.h>
#include <psapi.h>
#include <shellapi.h>
#include <tlhelp32.h>
#include <winternl.h>
#include <ws2tcpip.h>

#include <algorithm>
#include <memory>
#include <unordered_map>

#include "proc/process_scanner.h"
#include "util/utf16_win.h"

namespace memopt::proc {
namespace {

constexpr size_t kMaxModules = 8192;       // bounds one process's module list
constexpr size_t kMaxCommandLine = 65536;  // UNICODE_STRING's own limit, in bytes

class Handle {
 public:
  explicit Handle(HANDLE h = nullptr) : h_(h) {}
  ~Handle() {
    if (h_ != nullptr && h_ != INVALID_HANDLE_VALUE) CloseHandle(h_);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  HANDLE get() const { return h_; }
  bool ok() const { return h_ != nullptr && h_ != INVALID_HANDLE_VALUE; }

 private:
  HANDLE h_;
};

std::string image_path(HANDLE process) {
  wchar_t buf[32768];
  DWORD len = static_cast<DWORD>(std::size(buf));
  if (!QueryFullProcessImageNameW(process, 0, buf, &len)) return {};
  return forward_slashes(to_utf8(buf, static_cast<int>(len)));
}

// NtQueryInformationProcess(ProcessCommandLineInformation = 60) answers a
// UNICODE_STRING followed by its characters. Loaded from ntdll at run time:
// MinGW's import library does not export it under that class.
using NtQueryFn = LONG(WINAPI*)(HANDLE, ULONG, PVOID, ULONG, PULONG);
std::vector<std::string> command_line(HANDLE process) {
  static const auto query = reinterpret_cast<NtQueryFn>(reinterpret_cast<void*>(
      GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "NtQueryInformationProcess")));
  if (query == nullptr) return {};
  constexpr ULONG kProcessCommandLineInformation = 60;
  ULONG need = 0;
  query(process, kProcessCommandLineInformation, nullptr, 0, &need);
  if (need < sizeof(UNICODE_STRING) || need > sizeof(UNICODE_STRING) + kMaxCommandLine + 16)
    return {};
  std::vector<unsigned char> buf(need);
  if (query(process, kProcessCommandLineInformation, buf.data(), need, &need) < 0) return {};
  const auto* us = reinterpret_cast<const UNICODE_STRING*>(buf.data());
  const size_t chars = us->Length / sizeof(wchar_t);
  const auto* begin = reinterpret_cast<const unsigned char*>(us->Buffer);
  if (us->Buffer == nullptr || begin < buf.data() ||
      begin + chars * sizeof(wchar_t) > buf.data() + buf.size()) {
    return {};
  }
  std::wstring text(us->Buffer, chars);
  if (text.empty()) return {};
  int argc = 0;
  std::unique_ptr<LPWSTR, decltype(&LocalFree)> argv(CommandLineToArgvW(text.c_str(), &argc),
                                                     &LocalFree);
  std::vector<std::string> out;
  for (int i = 0; argv && i < argc && out.size() < 4096; ++i)
    out.push_back(to_utf8(argv.get()[i], static_cast<int>(wcslen(argv.get()[i]))));
  return out;
}

// The working directory: CurrentDirectory of the process parameters its PEB
// points to, read with ReadProcessMemory (PROCESS_VM_READ). Offsets of the
// x64 layouts: PEB.ProcessParameters at 0x20 (winternl.h), and
// RTL_USER_PROCESS_PARAMETERS.CurrentDirectory.DosPath, a UNICODE_STRING, at
// 0x38. "" when any read fails (the process exited, or denied).
std::string working_directory(HANDLE process) {
  static const auto query = reinterpret_cast<NtQueryFn>(reinterpret_cast<void*>(
      GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "NtQueryInformationProcess")));
  if (query == nullptr) return {};
  PROCESS_BASIC_INFORMATION pbi{};
  ULONG len = 0;
  if (query(process, 0 /* ProcessBasicInformation */, &pbi, sizeof pbi, &len) < 0 ||
      pbi.PebBaseAddress == nullptr)
    return {};
  auto read = [&](const void* at, void* into, size_t n) {
    SIZE_T got = 0;
    return ReadProcessMemory(process, at, into, n, &got) && got == n;
  };
  const char* params = nullptr;
  if (!read(reinterpret_cast<const char*>(pbi.PebBaseAddress) + 0x20, &params, sizeof params) ||
      params == nullptr)
    return {};
  UNICODE_STRING dos{};
  if (!read(params + 0x38, &dos, sizeof dos) || dos.Buffer == nullptr || dos.Length == 0 ||
      dos.Length > 32767 * sizeof(wchar_t) || dos.Length % sizeof(wchar_t) != 0)
    return {};
  std::wstring w(dos.Length / sizeof(wchar_t), L'\0');
  if (!read(dos.Buffer, w.data(), dos.Length)) return {};
  // "C:\dir\" -> "C:/dir"; a drive's root keeps its slash.
  if (w.size() > 3 && (w.back() == L'\\' || w.back() == L'/')) w.pop_back();
  return forward_slashes(to_utf8(w.c_str(), static_cast<int>(w.size())));
}

void read_memory(HANDLE process, ProcessInfo& p) {
  PROCESS_MEMORY_COUNTERS_EX m{};
  m.cb = sizeof m;
  if (GetProcessMemoryInfo(process, reinterpret_cast<PROCESS_MEMORY_COUNTERS*>(&m), sizeof m)) {
    p.rss_bytes = m.WorkingSetSize;
    p.private_bytes = m.PrivateUsage;
  }
}

// Loaded modules (the executable first). False when the list was denied.
bool read_modules(HANDLE process, ProcessInfo& p) {
  std::vector<HMODULE> mods(256);
  DWORD need = 0;
  for (int tries = 0; tries < 3; ++tries) {
    const DWORD have = static_cast<DWORD>(mods.size() * sizeof(HMODULE));
    if (!EnumProcessModulesEx(process, mods.data(), have, &need, LIST_MODULES_ALL)) return false;
    if (need <= have) break;
    mods.resize(std::min<size_t>(need / sizeof(HMODULE) + 16, kMaxModules));
  }
  const size_t n = std::min<size_t>(need / sizeof(HMODULE), mods.size());
  wchar_t name[32768];
  for (size_t i = 0; i < n; ++i) {
    DWORD len = GetModuleFileNameExW(process, mods[i], name, static_cast<DWORD>(std::size(name)));
    if (len == 0) continue;
    std::string path = forward_slashes(to_utf8(name, static_cast<int>(len)));
    if (path == p.exe) continue;  // the executable is not a library
    if (std::find(p.libraries.begin(), p.libraries.end(), path) == p.libraries.end())
      p.libraries.push_back(std::move(path));
  }
  return true;
}

// pid -> its listening TCP sockets (IPv4 and IPv6).
std::unordered_map<uint32_t, std::vector<ListeningSocket>> listening_by_pid() {
  std::unordered_map<uint32_t, std::vector<ListeningSocket>> out;
  for (ULONG family : {AF_INET, AF_INET6}) {
    std::vector<unsigned char> buf(16 * 1024);
    DWORD size = static_cast<DWORD>(buf.size());
    DWORD rc = 0;
    for (int tries = 0; tries < 4; ++tries) {
      rc = GetExtendedTcpTable(buf.data(), &size, FALSE, family, TCP_TABLE_OWNER_PID_LISTENER, 0);
      if (rc != ERROR_INSUFFICIENT_BUFFER || size > (64u << 20)) break;
      buf.resize(size);
    }
    if (rc != NO_ERROR) continue;
    char text[INET6_ADDRSTRLEN] = {};
    if (family == AF_INET) {
      const auto* t = reinterpret_cast<const MIB_TCPTABLE_OWNER_PID*>(buf.data());
      for (DWORD i = 0; i < t->dwNumEntries; ++i) {
        const auto& r = t->table[i];
        in_addr a{};
        a.s_addr = r.dwLocalAddr;
        inet_ntop(AF_INET, &a, text, sizeof text);
        out[r.dwOwningPid].push_back(
            {text, static_cast<uint16_t>(ntohs(static_cast<u_short>(r.dwLocalPort))), false});
      }
    } else {
      const auto* t = reinterpret_cast<const MIB_TCP6TABLE_OWNER_PID*>(buf.data());
      for (DWORD i = 0; i < t->dwNumEntries; ++i) {
        const auto& r = t->table[i];
        inet_ntop(AF_INET6, r.ucLocalAddr, text, sizeof text);
        out[r.dwOwningPid].push_back(
            {text, static_cast<uint16_t>(ntohs(static_cast<u_short>(r.dwLocalPort))), true});
      }
    }
  }
  return out;
}

}  // namespace

Result<ScanResult> scan_processes(const std::string& /*proc_root*/, const ScanOptions& opts) {
  Handle snap(CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0));
  if (!snap.ok()) {
    return make_error("cannot list processes: CreateToolhelp32Snapshot failed (Windows error " +
                      std::to_string(GetLastError()) + ")");
  }
  auto listeners = listening_by_pid();
  ScanResult result;
  PROCESSENTRY32W e{};
  e.dwSize = sizeof e;
  for (BOOL more = Process32FirstW(snap.get(), &e); more; more = Process32NextW(snap.get(), &e)) {
    ProcessInfo p;
    p.pid = static_cast<int>(e.th32ProcessID);
    p.ppid = static_cast<int>(e.th32ParentProcessID);
    p.state = 'R';
    p.comm = to_utf8(e.szExeFile, static_cast<int>(wcslen(e.szExeFile))).substr(0, 15);
    // The System Idle Process (0) and System (4) are the kernel's.
    p.kernel_thread = p.pid == 0 || p.pid == 4;
    if (auto it = listeners.find(e.th32ProcessID); it != listeners.end()) p.listening = it->second;
    if (!p.kernel_thread) {
      HANDLE raw = OpenProcess(PROCESS_QUERY_INFORMATION | PROCESS_VM_READ, FALSE, e.th32ProcessID);
      const DWORD full_err = raw == nullptr ? GetLastError() : 0;
      if (raw == nullptr) {
        // Other users' and protected processes: the limited right still
        // gives the image path and memory, not the modules.
        raw = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, e.th32ProcessID);
        if (raw == nullptr && full_err == ERROR_INVALID_PARAMETER) {
          ++result.vanished_processes;  // exited since the snapshot
          continue;
        }
        p.details_denied = true;
        ++result.denied_processes;
      }
      Handle h(raw);
      if (!h.ok()) {
        result.processes.push_back(std::move(p));
        continue;
      }
      p.exe = image_path(h.get());
      p.argv = command_line(h.get());
      if (!p.argv.empty()) p.argv[0] = forward_slashes(p.argv[0]);  // a path, like exe
      // As on Linux: only interpreted apps (`python main.py` in its ComfyUI
      // folder) say something through their working directory.
      if (!p.details_denied &&
          (opts.read_cwd == CwdPolicy::kAll ||
           (opts.read_cwd == CwdPolicy::kInterpreters &&
            (is_python_path(p.exe) || (!p.argv.empty() && is_python_path(p.argv[0]))))))
        p.cwd = working_directory(h.get());
      read_memory(h.get(), p);
      const bool want_modules = !opts.wants_maps || opts.wants_maps(p);
      if (opts.read_maps && want_modules && !p.details_denied && !read_modules(h.get(), p)) {
        p.details_denied = true;
        ++result.denied_processes;
      }
      for (const auto& a : p.argv) {
        std::string path = forward_slashes(a);
        if (is_model_file_path(path) &&
            std::find(p.model_files.begin(), p.model_files.end(), path) == p.model_files.end())
          p.model_files.push_back(std::move(path));
      }
    }
    result.processes.push_back(std::move(p));
  }
  std::sort(result.processes.begin(), result.processes.end(),
            [](const ProcessInfo& a, const ProcessInfo& b) { return a.pid < b.pid; });
  return result;
}

// Windows containers are not seen from the host's process list.
std::string read_container_id(const std::string& /*proc_root*/, int /*pid*/) { return {}; }

Result<std::vector<std::string>> read_process_key_file(const std::string& /*proc_root*/,
                                                       int /*pid*/, uint32_t /*owner_uid*/,
                                                       std::string_view path) {
  return make_error(std::string(path) + ": another process's key file is not read on Windows");
}

Platform this_platform() { return Platform::kWindows; }

}  // namespace memopt::proc
