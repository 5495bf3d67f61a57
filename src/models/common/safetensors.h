// The safetensors format (Hugging Face's weight files), read and written by
// the project itself: an 8-byte little-endian header length, a JSON header
// {"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__"},
// then the raw tensor bytes. Supported dtypes: F32, F16, BF16 (what the
// study's checkpoints use) and I64 (BatchNorm's num_batches_tracked);
// anything else is a clear error.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <string>

namespace joulebench::models {

// Ordered by name so that written files are byte-for-byte reproducible.
using TensorMap = std::map<std::string, torch::Tensor>;

// Reads every tensor of `path` (contiguous CPU tensors in the stored dtype).
// Throws InputError naming the file for a truncated file, a bad header, an
// unsupported dtype or offsets that do not match the shape.
TensorMap read_safetensors(const std::filesystem::path& path);

// Writes `tensors` (converted to contiguous CPU; F32/F16/BF16 only) with
// optional string metadata.
void write_safetensors(const std::filesystem::path& path, const TensorMap& tensors,
                       const std::map<std::string, std::string>& metadata = {});

// "F32" <-> torch dtype; throws InputError for dtypes the zoo does not read.
torch::Dtype safetensors_dtype(const std::string& name, const std::string& file_for_errors);
std::string safetensors_dtype_name(torch::Dtype dtype);

}  // namespace joulebench::models
