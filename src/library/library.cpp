// libjoulebench.so is the concern libraries linked whole (CMakeLists.txt);
// this file only gives the target a source of its own.
#include "joulebench/version.h"

extern "C" const char* joulebench_version() { return JOULEBENCH_VERSION; }
