# `ruvector-memopt tray` under xvfb-run against the views' replay daemon
# (tests/tray/tray_xvfb.sh). Registered everywhere: where the tray was not
# built (MEMOPT_TRAY found no ayatana-appindicator3) the tests fail naming
# the package, unless RVM_ALLOW_SKIP=tray (tests/support/tools.cmake).
include(${CMAKE_SOURCE_DIR}/tests/support/tools.cmake)
set(tray_absent "")
if(NOT MEMOPT_HAVE_TRAY)
  set(tray_absent tray)
endif()
memopt_tool_test(NAME tray_xvfb TOOLS xvfb node ABSENT ${tray_absent}
  COMMAND bash ${CMAKE_SOURCE_DIR}/tests/tray/tray_xvfb.sh $<TARGET_FILE:ruvector-memopt>
          ${CMAKE_SOURCE_DIR}/tests/node/views
  LABELS integration TIMEOUT 240)

# Without the helper beside it, `tray` says which file is missing and
# exits 1 (the binary itself never loads GTK).
memopt_tool_test(NAME tray_helper_missing ABSENT ${tray_absent}
  # (Lines, not semicolons: a semicolon would split the CMake list.)
  COMMAND bash -c "d=$(mktemp -d) && cp \"$1\" \"$d/\" && out=$(\"$d/ruvector-memopt\" tray --dump-menu 2>&1)
rc=$?
rm -rf \"$d\"
echo \"$out\"
[ $rc -eq 1 ] && [[ $out == *'ruvector-memopt-tray is missing'* ]] && ! ldd \"$1\" | grep -q libgtk"
          _ $<TARGET_FILE:ruvector-memopt>
  LABELS integration TIMEOUT 60)
