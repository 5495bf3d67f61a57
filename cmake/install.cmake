# cmake --install build [--prefix P] (default /usr/local):
#   P/bin/joulebench
#   P/lib/joulebench/   its plugins (model zoo, network, SentencePiece shim)
#   P/share/joulebench/ the data scripts/fetch_data.sh extracted (texts, images, vocabularies, weights)
#   P/include/joulebench/ the public headers
# The binary finds its plugins and data relative to itself (src/core/paths.h):
# the tree can be moved or copied, and no build or source path is compiled in.
install(TARGETS joulebench RUNTIME DESTINATION bin)
foreach(plugin joulebench_zoo joulebench_net_plugin joulebench_sentencepiece)
  if(TARGET ${plugin})
    install(TARGETS ${plugin} LIBRARY DESTINATION lib/joulebench)
  endif()
endforeach()
# The npm client (openai) is there for the tests only.
install(DIRECTORY ${JOULEBENCH_FETCHED_DATA_DIR}/ DESTINATION share/joulebench PATTERN openai EXCLUDE)
install(DIRECTORY include/joulebench DESTINATION include)
install(FILES ${CMAKE_BINARY_DIR}/generated/joulebench/version.h DESTINATION include/joulebench)

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
