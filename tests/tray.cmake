# `ruvector-memopt tray` under xvfb-run against the views' replay daemon
# (tests/tray/tray_xvfb.sh). Only where the tray is built (MEMOPT_TRAY) and
# xvfb-run and node are installed.
find_program(XVFB_RUN_PROGRAM xvfb-run)
find_program(NODE_PROGRAM node)
if(MEMOPT_HAVE_TRAY AND XVFB_RUN_PROGRAM AND NODE_PROGRAM)
  add_test(NAME tray_xvfb
           COMMAND bash ${CMAKE_SOURCE_DIR}/tests/tray/tray_xvfb.sh $<TARGET_FILE:ruvector-memopt>
                   ${CMAKE_SOURCE_DIR}/tests/node/views)
  set_tests_properties(tray_xvfb PROPERTIES LABELS integration TIMEOUT 240)
endif()

# Without the helper beside it, `tray` says which file is missing and
# exits 1 (the binary itself never loads GTK).
if(MEMOPT_HAVE_TRAY)
  add_test(NAME tray_helper_missing
           COMMAND bash -c "d=$(mktemp -d) && cp \"$1\" \"$d/\" && out=$(\"$d/ruvector-memopt\" tray --dump-menu 2>&1); rc=$?; rm -rf \"$d\"; echo \"$out\"; [ $rc -eq 1 ] && [[ $out == *'ruvector-memopt-tray is missing'* ]] && ! ldd \"$1\" | grep -q libgtk"
                   _ $<TARGET_FILE:ruvector-memopt>)
  set_tests_properties(tray_helper_missing PROPERTIES LABELS integration TIMEOUT 60)
endif()
