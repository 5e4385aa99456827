# What `cmake --install` puts where, and the .deb CPack makes of it (README: "Install"). The programs go to
# bin, a man page per program (made from its --help) to share/man/man1, the bash completion to
# bash-completion's directory under one name per program (it loads completions by command name), and the
# Wireshark dissectors to Wireshark's global Lua plugin folder (lib/<multiarch>/wireshark/plugins, the one
# Debian's Wireshark reads when the prefix is /usr; `tshark -G folders` shows it).
include(GNUInstallDirs)

set(parley_programs parley-server parley-client parley-conform parley-fuzz parley-load)
set(parley_summaries
    "reference servers for the five Parley chat protocols"
    "reference clients for the five Parley chat protocols"
    "conformance suites: verdicts per spec rule for a server or client"
    "wire fuzzer for a running server or client of a Parley protocol"
    "load generator for a chat server: deliveries per second, latency, CPU and memory")
install(TARGETS ${parley_programs} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

set(man_pages)
foreach(program summary IN ZIP_LISTS parley_programs parley_summaries)
  string(TOUPPER ${program} upper)
  set(others ${parley_programs})
  list(REMOVE_ITEM others ${program})
  list(TRANSFORM others APPEND "(1)")
  list(JOIN others ", " see_also)
  set(page ${CMAKE_BINARY_DIR}/man/${program}.1)
  add_custom_command(OUTPUT ${page}
    COMMAND ${CMAKE_COMMAND} -DPROGRAM=$<TARGET_FILE:${program}> -DNAME=${program} -DNAME_UPPER=${upper}
            "-DSUMMARY=${summary}" -DVERSION=${PROJECT_VERSION} "-DSEE_ALSO=${see_also}" -DOUT=${page}
            -P ${CMAKE_CURRENT_SOURCE_DIR}/cmake/man_page.cmake
    DEPENDS ${program} ${CMAKE_CURRENT_SOURCE_DIR}/cmake/man_page.cmake
    COMMENT "man page of ${program}" VERBATIM)
  list(APPEND man_pages ${page})
endforeach()
add_custom_target(man_pages ALL DEPENDS ${man_pages})
install(FILES ${man_pages} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

foreach(program IN LISTS parley_programs)
  install(FILES tools/completions/parley.bash DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
          RENAME ${program})
endforeach()

set(PARLEY_WIRESHARK_DIR "lib/${CMAKE_LIBRARY_ARCHITECTURE}/wireshark/plugins" CACHE STRING
    "where the Wireshark Lua dissectors go, under the install prefix")
install(DIRECTORY tools/wireshark/ DESTINATION ${PARLEY_WIRESHARK_DIR}/parley FILES_MATCHING PATTERN "*.lua")

# The .deb: its dependencies are the shared libraries the programs link, as dpkg-shlibdeps finds their
# Debian runtime packages (libssl3, libyaml-cpp, libstdc++6, ...), never a -dev package.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME parley)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "test-and-conformance harness for five small chat protocols")
set(CPACK_PACKAGE_DESCRIPTION
    "Parley checks a server or client of itp, securechat, multiparty, sslmessager or peerchat against the\n\
protocol's numbered rules (parley-conform), fuzzes it over the wire (parley-fuzz), loads it\n\
(parley-load), and ships reference servers and clients (parley-server, parley-client), man pages, bash\n\
completion and Wireshark dissectors.")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "Parley developers <parley@localhost>")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "tshark | wireshark, bash-completion")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_STRIP_FILES ON)  # the tree is built with -g1 for backtraces; the package needs no symbols
include(CPack)
