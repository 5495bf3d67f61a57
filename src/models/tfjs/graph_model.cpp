#include "models/tfjs/graph_model.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <functional>
#include <set>

#include "joulebench/error.h"

namespace joulebench::models::tfjs {

namespace {

std::vector<std::uint8_t> read_file(const std::filesystem::path& p, const std::string& source) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw InputError(fmt::format("tfjs model '{}': cannot read weight shard '{}'", source, p.string()));
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

torch::Tensor dequantize(const std::uint8_t* data, std::int64_t n, const nlohmann::json& q, const std::string& name,
                         const std::string& source) {
  const auto dtype = q.value("dtype", "");
  if (dtype == "float16") {
    auto half = torch::empty({n}, torch::kHalf);
    std::memcpy(half.data_ptr(), data, static_cast<std::size_t>(n) * 2);
    return half.to(torch::kFloat32);
  }
  if (dtype == "uint8" || dtype == "uint16") {
    // Affine quantization: value = q * scale + min.
    double scale = q.at("scale").get<double>(), min = q.at("min").get<double>();
    torch::Tensor raw;
    if (dtype == "uint8") {
      raw = torch::empty({n}, torch::kUInt8);
      std::memcpy(raw.data_ptr(), data, static_cast<std::size_t>(n));
    } else {
      auto u16 = torch::empty({n}, torch::kInt32);
      auto* dst = u16.data_ptr<std::int32_t>();
      for (std::int64_t i = 0; i < n; ++i) dst[i] = data[2 * i] | (data[2 * i + 1] << 8);  // little-endian
      raw = u16;
    }
    return raw.to(torch::kFloat32) * scale + min;
  }
  throw InputError(fmt::format("tfjs model '{}': weight '{}' has unsupported quantization '{}'", source, name, dtype));
}

std::size_t element_bytes(const std::string& dtype, const nlohmann::json& q) {
  if (!q.is_null()) {
    auto d = q.value("dtype", "");
    if (d == "float16" || d == "uint16") return 2;
    if (d == "uint8") return 1;
    return 0;
  }
  if (dtype == "float32" || dtype == "int32") return 4;
  if (dtype == "bool") return 1;
  return 0;
}

}  // namespace

std::map<std::string, torch::Tensor> read_weights(const nlohmann::json& manifest, const std::filesystem::path& dir,
                                                  const std::string& source) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& group : manifest) {
    std::vector<std::uint8_t> bytes;
    for (const auto& p : group.at("paths")) {
      auto chunk = read_file(dir / p.get<std::string>(), source);
      bytes.insert(bytes.end(), chunk.begin(), chunk.end());
    }
    std::size_t offset = 0;
    for (const auto& w : group.at("weights")) {
      const auto name = w.at("name").get<std::string>();
      const auto dtype = w.at("dtype").get<std::string>();
      std::vector<std::int64_t> shape = w.at("shape").get<std::vector<std::int64_t>>();
      std::int64_t n = 1;
      for (auto d : shape) n *= d;
      nlohmann::json q = w.contains("quantization") ? w.at("quantization") : nlohmann::json();
      std::size_t eb = element_bytes(dtype, q);
      if (eb == 0) throw InputError(fmt::format("tfjs model '{}': weight '{}' has unsupported dtype '{}'", source, name, dtype));
      std::size_t size = eb * static_cast<std::size_t>(n);
      if (offset + size > bytes.size())
        throw InputError(fmt::format("tfjs model '{}': weight shards end before weight '{}' ({} bytes short)", source,
                                     name, offset + size - bytes.size()));
      const std::uint8_t* data = bytes.data() + offset;
      torch::Tensor t;
      if (!q.is_null()) {
        t = dequantize(data, n, q, name, source);
        if (dtype == "int32") t = t.round().to(torch::kInt32);
      } else if (dtype == "float32" || dtype == "int32") {
        t = torch::empty({n}, dtype == "float32" ? torch::kFloat32 : torch::kInt32);
        std::memcpy(t.data_ptr(), data, size);
      } else {
        t = torch::empty({n}, torch::kBool);
        std::memcpy(t.data_ptr(), data, size);
      }
      out[name] = t.reshape(shape);
      offset += size;
    }
    if (offset != bytes.size())
      throw InputError(fmt::format("tfjs model '{}': {} bytes of weight data left over (manifest and shards disagree)",
                                   source, bytes.size() - offset));
  }
  return out;
}

const std::vector<std::string>& GraphModel::supported_ops() {
  static const std::vector<std::string> ops = {
      "Const",  "Placeholder", "Identity", "Conv2D", "_FusedConv2D", "DepthwiseConv2dNative",
      "FusedDepthwiseConv2dNative", "Add", "AddV2", "Sub", "Mul", "RealDiv", "FloorDiv", "FloorMod", "Equal",
      "Relu", "Relu6", "Sigmoid", "Mean", "ConcatV2", "Reshape", "Cast", "ExpandDims", "StridedSlice",
      "ResizeBilinear", "MaxPool", "TopKV2", "GatherV2"};
  return ops;
}

GraphModel::GraphModel(const std::filesystem::path& model_json) : source_(model_json.string()) {
  std::ifstream in(model_json);
  if (!in) throw InputError(fmt::format("cannot open tfjs model '{}' (run scripts/fetch_data.sh?)", source_));
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const std::exception& e) {
    throw InputError(fmt::format("tfjs model '{}' is not valid JSON: {}", source_, e.what()));
  }
  if (j.value("format", "") != "graph-model" || !j.contains("modelTopology") || !j.contains("weightsManifest"))
    throw InputError(fmt::format("'{}' is not a tfjs graph model (format \"graph-model\" with modelTopology and "
                                 "weightsManifest expected)",
                                 source_));
  const auto& ops = supported_ops();
  for (const auto& n : j.at("modelTopology").at("node")) {
    Node node;
    node.name = n.at("name").get<std::string>();
    node.op = n.at("op").get<std::string>();
    if (n.contains("input"))
      for (const auto& i : n.at("input")) node.inputs.push_back(i.get<std::string>());
    node.attr = n.value("attr", nlohmann::json::object());
    if (std::find(ops.begin(), ops.end(), node.op) == ops.end())
      throw InputError(fmt::format("tfjs model '{}': op '{}' (node '{}') is not supported by joulebench's reader",
                                   source_, node.op, node.name));
    nodes_[node.name] = std::move(node);
  }
  constants_ = read_weights(j.at("weightsManifest"), model_json.parent_path(), source_);
  // Float constants are the model's parameters; integer ones (shapes, axes) stay plain tensors.
  for (auto& [name, t] : constants_) {
    if (t.is_floating_point()) {
      std::string pname = name;
      std::replace(pname.begin(), pname.end(), '.', '_');
      t = register_parameter(pname, t, /*requires_grad=*/false);
    }
  }
}

std::vector<torch::Tensor> GraphModel::run(const std::map<std::string, torch::Tensor>& feeds,
                                           const std::vector<std::string>& outputs) {
  std::map<std::string, std::vector<torch::Tensor>> values;
  std::set<std::string> visiting;
  std::function<const std::vector<torch::Tensor>&(const std::string&)> value_of =
      [&](const std::string& name) -> const std::vector<torch::Tensor>& {
    if (auto it = values.find(name); it != values.end()) return it->second;
    auto nit = nodes_.find(name);
    if (nit == nodes_.end()) throw InputError(fmt::format("tfjs model '{}': no node named '{}'", source_, name));
    const Node& n = nit->second;
    if (!visiting.insert(name).second)
      throw InputError(fmt::format("tfjs model '{}': cycle through node '{}'", source_, name));
    std::vector<torch::Tensor> result;
    if (n.op == "Const") {
      auto c = constants_.find(name);
      if (c == constants_.end())
        throw InputError(fmt::format("tfjs model '{}': constant '{}' has no weight in the manifest", source_, name));
      result = {c->second};
    } else if (n.op == "Placeholder") {
      auto f = feeds.find(name);
      if (f == feeds.end()) throw InputError(fmt::format("tfjs model '{}': input '{}' was not fed", source_, name));
      result = {f->second};
    } else {
      std::vector<torch::Tensor> in;
      for (const auto& ref : n.inputs) {
        if (!ref.empty() && ref[0] == '^') continue;  // control dependency
        auto colon = ref.rfind(':');
        std::string src = colon == std::string::npos ? ref : ref.substr(0, colon);
        std::size_t index = colon == std::string::npos ? 0 : std::stoul(ref.substr(colon + 1));
        const auto& v = value_of(src);
        if (index >= v.size())
          throw InputError(fmt::format("tfjs model '{}': node '{}' has no output {}", source_, src, index));
        in.push_back(v[index]);
      }
      try {
        result = apply_op(n, in);
      } catch (const c10::Error& e) {
        throw Error(fmt::format("tfjs model '{}': node '{}' ({}) failed: {}", source_, n.name, n.op,
                                e.what_without_backtrace()));
      }
    }
    visiting.erase(name);
    return values[name] = std::move(result);
  };
  std::vector<torch::Tensor> out;
  for (const auto& o : outputs) {
    auto colon = o.rfind(':');
    std::string src = colon == std::string::npos ? o : o.substr(0, colon);
    std::size_t index = colon == std::string::npos ? 0 : std::stoul(o.substr(colon + 1));
    out.push_back(value_of(src).at(index));
  }
  return out;
}

}  // namespace joulebench::models::tfjs
