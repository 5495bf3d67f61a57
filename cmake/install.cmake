# cmake --install build [--prefix P] (default /usr/local):
#   P/bin/joulebench
#   P/lib/joulebench/   its plugins (model zoo, network, SentencePiece shim)
#   P/share/joulebench/ the data scripts/fetch_data.sh extracted (texts, images, vocabularies, weights)
#   P/include/joulebench/ the public headers
#   P/share/man/man1/   the man pages (below)
# The binary finds its plugins and data relative to itself (src/core/paths.h):
# the tree can be moved or copied, and no build or source path is compiled in.
install(TARGETS joulebench RUNTIME DESTINATION bin)
install(TARGETS joulebench_net_plugin LIBRARY DESTINATION lib/joulebench)
if(JOULEBENCH_WITH_TORCH)  # the zoo and its SentencePiece shim
  install(TARGETS joulebench_zoo joulebench_sentencepiece LIBRARY DESTINATION lib/joulebench)
endif()
# The npm client (openai) is there for the tests only.
install(DIRECTORY ${JOULEBENCH_FETCHED_DATA_DIR}/ DESTINATION share/joulebench PATTERN openai EXCLUDE)
install(DIRECTORY include/joulebench DESTINATION include)
install(FILES ${CMAKE_BINARY_DIR}/generated/joulebench/version.h DESTINATION include/joulebench)
#   P/share/man/man1/   joulebench(1) and joulebench-COMMAND(1), from each command's --help (help2man)
find_program(JOULEBENCH_HELP2MAN help2man)
if(JOULEBENCH_HELP2MAN)
  set(JOULEBENCH_MAN_DIR ${CMAKE_BINARY_DIR}/man/man1)
  add_custom_command(OUTPUT ${JOULEBENCH_MAN_DIR}/joulebench.1
    COMMAND ${PROJECT_SOURCE_DIR}/scripts/make_man_pages.sh $<TARGET_FILE:joulebench> ${JOULEBENCH_MAN_DIR}
            ${PROJECT_VERSION}
    DEPENDS joulebench ${PROJECT_SOURCE_DIR}/scripts/make_man_pages.sh
    COMMENT "man pages from each command's --help")
  add_custom_target(joulebench_man ALL DEPENDS ${JOULEBENCH_MAN_DIR}/joulebench.1)
  install(DIRECTORY ${JOULEBENCH_MAN_DIR} DESTINATION share/man)
else()
  message(STATUS "help2man not found: no man pages (scripts/setup.sh installs it); `joulebench CMD --help` has "
                 "the same text")
endif()

# A Debian package from the same rules: `cpack -G DEB` in the build folder
# (/usr prefix; Depends computed from the binaries by dpkg-shlibdeps).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME joulebench)
set(CPACK_PACKAGE_VENDOR joulebench)
set(CPACK_PACKAGE_CONTACT "joulebench developers <joulebench@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "energy and carbon cost of AI inference, measured honestly")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The plugins' libtorch is found through dlopen, which dpkg-shlibdeps cannot
# see; OpenBLAS is what makes it fast (README, "Dependencies").
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libtorch1.13, libopenblas0-pthread")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "python3")
include(CPack)
