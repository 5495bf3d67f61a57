// Image captioning as HF VisionEncoderDecoderModel
// (nlpconnect/vit-gpt2-image-captioning): ViT-base encoder (with its pooler,
// as AutoModel builds it) and the common GPT-2 with cross-attention as the
// decoder; greedy decoding with a KV cache, caption length capped. Names:
// "encoder.embeddings...", "decoder.transformer.h.0.crossattention.q_attn.weight".
#pragma once

#include <memory>
#include <vector>

#include "joulebench/models.h"

namespace joulebench::models::vision {

std::vector<ModelInfo> captioning_infos();
std::unique_ptr<Model> load_captioning(const ModelInfo& info, const LoadOptions& options);

}  // namespace joulebench::models::vision
