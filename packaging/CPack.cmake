# CPack.cmake: the Debian packages xueshi-hub, xueshi-node and xueshi-common, one per install
# component (`cpack -G DEB` in a build configured with -DCMAKE_INSTALL_PREFIX=/usr; tools/package
# does both). Each package carries its copyright and changelog.Debian.gz, its maintainer
# scripts (debian/*.in: the user xueshi, /var/lib/xueshi, the units) and its conffiles; its
# libraries' packages come from dpkg-shlibdeps.

set(XS_DEB_MAINTAINER "xueshi developers <xueshi@example.org>"
    CACHE STRING "The Maintainer of the Debian packages (name <address>)")
set(XS_DEB_RELEASE 1 CACHE STRING "The Debian revision of the packages (version PROJECT_VERSION-N)")
set(XS_DEB_VERSION ${PROJECT_VERSION}-${XS_DEB_RELEASE})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME xueshi)
set(CPACK_PACKAGE_VENDOR "xueshi developers")
set(CPACK_PACKAGE_CONTACT "${XS_DEB_MAINTAINER}")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL common hub node)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE ${XS_DEB_RELEASE})
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${XS_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION misc)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)
# Manual pages go in compressed (gzip -9n); `cmake --install` keeps them plain.
set(CPACK_PRE_BUILD_SCRIPTS ${CMAKE_CURRENT_LIST_DIR}/deb-prebuild.cmake)

set(XS_DEB_DIR ${CMAKE_BINARY_DIR}/packaging)

# xs_deb_files(COMPONENT PACKAGE UNITS OTHER CONFFILE): the package's maintainer scripts,
# conffiles, copyright and changelog; UNITS are its systemd units ("" for none), OTHER the
# other package that shares the user xueshi, CONFFILE its file under /etc ("" for none).
function(xs_deb_files component package units other conffile)
  set(dir ${XS_DEB_DIR}/${package})
  set(XS_DEB_PACKAGE ${package})
  set(XS_DEB_UNITS "${units}")
  set(XS_DEB_OTHER ${other})
  set(extra "")
  if(units)
    foreach(script postinst prerm postrm)
      configure_file(${CMAKE_CURRENT_FUNCTION_LIST_DIR}/debian/${script}.in ${dir}/${script}
                     @ONLY NEWLINE_STYLE UNIX)
      list(APPEND extra ${dir}/${script})
    endforeach()
  endif()
  if(conffile)
    file(WRITE ${dir}/conffiles "${conffile}\n")
    list(APPEND extra ${dir}/conffiles)
  endif()
  string(TOUPPER ${component} c)
  set(CPACK_DEBIAN_${c}_PACKAGE_CONTROL_EXTRA "${extra}" PARENT_SCOPE)
  # Only the packages carry these: a plain `cmake --install` leaves them out.
  install(FILES ${XS_DEB_DIR}/copyright ${XS_DEB_DIR}/changelog.Debian.gz
          DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/${package}
          COMPONENT ${component} EXCLUDE_FROM_ALL)
endfunction()

configure_file(${CMAKE_CURRENT_LIST_DIR}/debian/copyright.in ${XS_DEB_DIR}/copyright @ONLY)
configure_file(${CMAKE_CURRENT_LIST_DIR}/debian/changelog.in ${XS_DEB_DIR}/changelog.Debian @ONLY)
execute_process(COMMAND gzip -9n -c ${XS_DEB_DIR}/changelog.Debian
                OUTPUT_FILE ${XS_DEB_DIR}/changelog.Debian.gz COMMAND_ERROR_IS_FATAL ANY)

xs_deb_files(common xueshi-common "" "" "")
xs_deb_files(hub xueshi-hub "xueshi-hub.service xueshi-hub-web.service xueshi-hub-backup.timer"
             xueshi-node /etc/xueshi/hub.conf)
xs_deb_files(node xueshi-node
             "xueshi-node.service xueshi-node-web.service xueshi-node-backup.timer" xueshi-hub
             /etc/xueshi/node.conf)

set(CPACK_DEBIAN_COMMON_PACKAGE_NAME xueshi-common)
set(CPACK_DEBIAN_HUB_PACKAGE_NAME xueshi-hub)
set(CPACK_DEBIAN_NODE_PACKAGE_NAME xueshi-node)
# Hub and node run as the user their postinst makes (adduser) and print certificates in a
# Chinese font (fonts-wqy-microhei); the auditor's tool and the policies are in xueshi-common.
set(XS_DEB_SERVICE_DEPENDS "xueshi-common (= ${XS_DEB_VERSION}), adduser, fonts-wqy-microhei")
set(CPACK_DEBIAN_HUB_PACKAGE_DEPENDS "${XS_DEB_SERVICE_DEPENDS}")
set(CPACK_DEBIAN_NODE_PACKAGE_DEPENDS "${XS_DEB_SERVICE_DEPENDS}")

set(CPACK_COMPONENT_COMMON_DESCRIPTION
    "xueshi: the auditor's tool, county policies and documentation
xueshi keeps rural teachers' professional-development hours: school nodes
record them offline and sync to the county hub, which certifies them.
.
This package holds what hub and node share: the auditor's tool xueshi
(verify a receipt or certificate, certify a register sheet), the county
policies in /usr/share/xueshi/policies and the guides.")
set(CPACK_COMPONENT_HUB_DESCRIPTION
    "xueshi county hub: sync service and dashboard
xueshi keeps rural teachers' professional-development hours: school nodes
record them offline and sync to the county hub, which certifies them.
.
This package holds the county hub, xueshi-hub, with the systemd units
xueshi-hub.service (the sync service) and xueshi-hub-web.service (the
dashboard), running as the system user xueshi with their store in
/var/lib/xueshi/hub and their settings in /etc/xueshi/hub.conf.")
set(CPACK_COMPONENT_NODE_DESCRIPTION
    "xueshi school node: records, sync and web pages
xueshi keeps rural teachers' professional-development hours: school nodes
record them offline and sync to the county hub, which certifies them.
.
This package holds the school node, xueshi-node, with the systemd units
xueshi-node.service (keeps syncing, relays for satellite schools) and
xueshi-node-web.service (the operator's web pages), running as the system
user xueshi with their store in /var/lib/xueshi/node and their settings in
/etc/xueshi/node.conf.")

include(CPack)
