// The model zoo as a plugin: exports the registry's entry points.
#include "zoo_api.h"

extern "C" __attribute__((visibility("default"))) const joulebench::models::ZooApi* joulebench_zoo_api() {
  static const joulebench::models::ZooApi api{joulebench::models::kZooAbiVersion, &joulebench::list_models,
                                              &joulebench::load_model, &joulebench::load_torchscript};
  return &api;
}
