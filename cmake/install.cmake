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
