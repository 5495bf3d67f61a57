// TensorFlow.js graph models (model.json + binary weight shards), read by the
// project itself and run with libtorch: the topology is a TensorFlow GraphDef
// in JSON ("node": name, op, input, attr), the weights manifest lists every
// constant (name, shape, dtype, optional quantization) in shard order.
// Float weights become parameters of a torch::nn::Module (so they count and
// move like any module's), and the graph is interpreted op by op on NHWC
// tensors, as TensorFlow lays them out.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace joulebench::models::tfjs {

// Reads every weight of a weights manifest (dtypes float32, int32, bool;
// quantized float16, uint8 and uint16 are dequantized to float32). `dir` is
// the folder the shard paths are relative to. Throws InputError naming the
// file for missing or short shards and unsupported dtypes.
std::map<std::string, torch::Tensor> read_weights(const nlohmann::json& manifest, const std::filesystem::path& dir,
                                                  const std::string& source);

class GraphModel : public torch::nn::Module {
 public:
  // Reads model.json and its shards; throws InputError naming the file.
  explicit GraphModel(const std::filesystem::path& model_json);

  // Feeds placeholders by name and evaluates the requested outputs ("name" or
  // "name:1" for a node's second output), computing only what they need.
  std::vector<torch::Tensor> run(const std::map<std::string, torch::Tensor>& feeds,
                                 const std::vector<std::string>& outputs);

  // Ops the interpreter knows; load fails early on a graph using others.
  static const std::vector<std::string>& supported_ops();
  std::size_t node_count() const { return nodes_.size(); }

 private:
  struct Node {
    std::string name, op;
    std::vector<std::string> inputs;
    nlohmann::json attr;
  };
  std::vector<torch::Tensor> apply_op(const Node& n, const std::vector<torch::Tensor>& in);

  std::string source_;
  std::map<std::string, Node> nodes_;
  std::map<std::string, torch::Tensor> constants_;
};

}  // namespace joulebench::models::tfjs
