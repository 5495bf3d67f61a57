#include "models/common/safetensors.h"

#include <fmt/format.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "joulebench/error.h"

namespace joulebench::models {
namespace {

std::size_t element_size(torch::Dtype dtype) { return c10::elementSize(dtype); }

std::uint64_t read_le_u64(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

torch::Dtype safetensors_dtype(const std::string& name, const std::string& file_for_errors) {
  if (name == "F32") return torch::kFloat32;
  if (name == "F16") return torch::kFloat16;
  if (name == "BF16") return torch::kBFloat16;
  if (name == "I64") return torch::kInt64;  // BatchNorm's num_batches_tracked in vision checkpoints
  throw InputError(fmt::format("{}: unsupported safetensors dtype '{}' (the zoo reads F32, F16, BF16 and I64; "
                               "convert the checkpoint, e.g. with safetensors in Python)",
                               file_for_errors, name));
}

std::string safetensors_dtype_name(torch::Dtype dtype) {
  if (dtype == torch::kFloat32) return "F32";
  if (dtype == torch::kFloat16) return "F16";
  if (dtype == torch::kBFloat16) return "BF16";
  if (dtype == torch::kInt64) return "I64";
  throw InputError(fmt::format("cannot write tensor of dtype {} to safetensors (F32, F16, BF16, I64 only)",
                               c10::toString(dtype)));
}

TensorMap read_safetensors(const std::filesystem::path& path) {
  const std::string file = path.string();
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("cannot open safetensors file '{}'", file));
  in.seekg(0, std::ios::end);
  const auto file_size = static_cast<std::uint64_t>(in.tellg());
  in.seekg(0);
  if (file_size < 8) {
    throw InputError(fmt::format("{}: truncated safetensors file ({} bytes, no header length)", file, file_size));
  }
  unsigned char len_bytes[8];
  in.read(reinterpret_cast<char*>(len_bytes), 8);
  const std::uint64_t header_len = read_le_u64(len_bytes);
  if (header_len > file_size - 8) {
    throw InputError(fmt::format("{}: truncated safetensors file: header says {} bytes, file has {} after it",
                                 file, header_len, file_size - 8));
  }
  std::string header(header_len, '\0');
  in.read(header.data(), static_cast<std::streamsize>(header_len));
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(header);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(fmt::format("{}: bad safetensors header (not JSON: {})", file, e.what()));
  }
  if (!j.is_object()) throw InputError(fmt::format("{}: bad safetensors header (not a JSON object)", file));
  const std::uint64_t data_start = 8 + header_len;
  const std::uint64_t data_size = file_size - data_start;

  TensorMap out;
  for (const auto& [name, entry] : j.items()) {
    if (name == "__metadata__") continue;
    try {
      const auto dtype = safetensors_dtype(entry.at("dtype").get<std::string>(), file);
      std::vector<std::int64_t> shape = entry.at("shape").get<std::vector<std::int64_t>>();
      const auto offsets = entry.at("data_offsets").get<std::vector<std::uint64_t>>();
      if (offsets.size() != 2 || offsets[1] < offsets[0]) {
        throw InputError(fmt::format("{}: tensor '{}' has bad data_offsets", file, name));
      }
      // Checked products: a damaged header's [2^32, 2^32] must not wrap to 0
      // bytes and reach torch::empty.
      std::uint64_t numel = 1, bytes = 0;
      bool too_big = false;
      for (auto d : shape) {
        if (d < 0) throw InputError(fmt::format("{}: tensor '{}' has a negative dimension", file, name));
        too_big = too_big || __builtin_mul_overflow(numel, static_cast<std::uint64_t>(d), &numel);
      }
      too_big = too_big || __builtin_mul_overflow(numel, element_size(dtype), &bytes);
      if (too_big || bytes > data_size)
        throw InputError(fmt::format("{}: tensor '{}' of shape {} is larger than the file's {} bytes of data: a "
                                     "damaged or hand-edited header; re-export the checkpoint",
                                     file, name, fmt::join(shape, "x"), data_size));
      if (offsets[1] - offsets[0] != bytes) {
        throw InputError(fmt::format("{}: tensor '{}' of shape {} needs {} bytes but its data_offsets span {}",
                                     file, name, fmt::join(shape, "x"), bytes, offsets[1] - offsets[0]));
      }
      if (offsets[1] > data_size) {
        throw InputError(fmt::format("{}: truncated safetensors file: tensor '{}' ends at byte {} of the data, "
                                     "which has only {} bytes",
                                     file, name, offsets[1], data_size));
      }
      auto t = torch::empty(shape, torch::TensorOptions().dtype(dtype));
      in.seekg(static_cast<std::streamoff>(data_start + offsets[0]));
      in.read(static_cast<char*>(t.data_ptr()), static_cast<std::streamsize>(bytes));
      if (!in) throw InputError(fmt::format("{}: read failed for tensor '{}'", file, name));
      out.emplace(name, std::move(t));
    } catch (const nlohmann::json::exception& e) {
      throw InputError(fmt::format("{}: bad safetensors header entry '{}': {}", file, name, e.what()));
    }
  }
  return out;
}

void write_safetensors(const std::filesystem::path& path, const TensorMap& tensors,
                       const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<torch::Tensor> data;
  std::uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    auto t = tensor.detach().to(torch::kCPU).contiguous();
    const auto dtype_name = safetensors_dtype_name(t.scalar_type());
    const std::uint64_t bytes = static_cast<std::uint64_t>(t.numel()) * t.element_size();
    header[name] = {{"dtype", dtype_name}, {"shape", t.sizes().vec()}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    data.push_back(std::move(t));
  }
  std::string text = header.dump();
  while (text.size() % 8 != 0) text.push_back(' ');  // the format pads the header with spaces
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw Error(fmt::format("cannot write safetensors file '{}'", path.string()));
  unsigned char len_bytes[8];
  std::uint64_t n = text.size();
  for (int i = 0; i < 8; ++i) len_bytes[i] = static_cast<unsigned char>((n >> (8 * i)) & 0xff);
  out.write(reinterpret_cast<const char*>(len_bytes), 8);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  for (const auto& t : data) {
    out.write(static_cast<const char*>(t.data_ptr()), static_cast<std::streamsize>(t.numel() * t.element_size()));
  }
  if (!out) throw Error(fmt::format("write failed for safetensors file '{}'", path.string()));
}

}  // namespace joulebench::models
