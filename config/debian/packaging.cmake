# Install rules and the Debian package (cpack -G DEB in the build folder):
#   /usr/bin/haven-server
#   /etc/haven/haven.toml                 the development config with an installed system's
#                                         paths (a conffile: upgrades keep local changes)
#   /usr/share/haven/crisis, .../web      crisis lists and resources, the built web client
#   /usr/share/doc/haven/deploying.md
#   /lib/systemd/system/haven.service     sandboxed, runs as the haven system user
#   /var/lib/haven                        state, made by the unit and by postinst
include(GNUInstallDirs)

install(TARGETS haven-server haven-admin RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# One source for the options and their documentation: config/haven.toml, with the three paths
# that differ on an installed system.
file(READ ${PROJECT_SOURCE_DIR}/config/haven.toml haven_toml)
foreach(pair
    "static_dir = \"../client-web/dist\"|static_dir = \"/usr/share/haven/web\""
    "audit_file = \"../data/audit.jsonl\"|audit_file = \"/var/lib/haven/audit.jsonl\""
    "crisis_dir = \"crisis\"|crisis_dir = \"/usr/share/haven/crisis\"")
  string(REPLACE "|" ";" parts "${pair}")
  list(GET parts 0 development)
  list(GET parts 1 installed)
  string(FIND "${haven_toml}" "${development}" found)
  if(found EQUAL -1)
    message(FATAL_ERROR "config/haven.toml no longer has ${development}: update packaging.cmake")
  endif()
  string(REPLACE "${development}" "${installed}" haven_toml "${haven_toml}")
endforeach()
string(REPLACE "# Haven development configuration, used by scripts/run.sh."
  "# Haven configuration of the Debian package (the service reads it at start)." haven_toml
  "${haven_toml}")
file(WRITE ${PROJECT_BINARY_DIR}/package/haven.toml "${haven_toml}")
install(FILES ${PROJECT_BINARY_DIR}/package/haven.toml DESTINATION /etc/haven)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/config/crisis/ DESTINATION ${CMAKE_INSTALL_DATADIR}/haven/crisis)
# Built by scripts/build-web.sh (npm); a package made without it serves the built-in page.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/client-web/dist/ DESTINATION ${CMAKE_INSTALL_DATADIR}/haven/web
  OPTIONAL)
install(FILES ${PROJECT_SOURCE_DIR}/docs/deploying.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES ${PROJECT_SOURCE_DIR}/config/systemd/haven.service DESTINATION /lib/systemd/system)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME haven)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "Haven maintainers <haven@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "moderated real-time chat server for online peer support")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_DEPENDS
  "adduser, libboost-json1.81.0, libboost-program-options1.81.0, libboost-url1.81.0, libfmt9, libhiredis0.14, libicu72, libprotobuf32, libspdlog1.10, libssl3, libstdc++6, libc6, libgcc-s1, zlib1g")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "redis-server")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${PROJECT_SOURCE_DIR}/config/debian/conffiles ${PROJECT_SOURCE_DIR}/config/debian/postinst
  ${PROJECT_SOURCE_DIR}/config/debian/prerm ${PROJECT_SOURCE_DIR}/config/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
include(CPack)
