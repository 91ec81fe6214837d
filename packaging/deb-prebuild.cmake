# deb-prebuild.cmake: run by cpack after it installs each package's files and before it packs
# them: Debian wants manual pages compressed with gzip -9n (no name, no timestamp).
file(GLOB_RECURSE xs_files "${CPACK_TEMPORARY_DIRECTORY}/*")
foreach(file ${xs_files})
  if(file MATCHES "/share/man/man[1-9]/[^/]+\\.[1-9]$")
    execute_process(COMMAND gzip -9nf ${file} COMMAND_ERROR_IS_FATAL ANY)
  endif()
endforeach()
