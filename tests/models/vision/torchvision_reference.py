#!/usr/bin/env python3
"""Reference outputs for tests/models_vision (CrossCheck tests): torchvision's
ResNet-50 and ViT-B/16 with random weights (non-trivial BatchNorm statistics),
their weights renamed to Hugging Face's ResNetModel / ViTModel names, one
input and torchvision's output, written as safetensors into OUT_DIR.

  /usr/bin/python3 torchvision_reference.py OUT_DIR
"""
import json, os, struct, sys

import torch
import torchvision

out_dir = sys.argv[1]
torch.manual_seed(0)
def write_st(path, tensors):
    header, blobs, off = {}, [], 0
    for k, t in tensors.items():
        t = t.contiguous().float()
        b = t.numpy().tobytes()
        header[k] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        off += len(b); blobs.append(b)
    h = json.dumps(header).encode()
    tmp = f"{path}.{os.getpid()}.tmp"  # atomic: test processes may run this at the same time
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h))); f.write(h); [f.write(b) for b in blobs]
    os.replace(tmp, path)

# ResNet-50: torchvision names -> HF ResNetModel names, with non-trivial BN statistics.
m = torchvision.models.resnet50(); m.fc = torch.nn.Identity()
for mod in m.modules():
    if isinstance(mod, torch.nn.BatchNorm2d):
        mod.running_mean.uniform_(-0.1, 0.1); mod.running_var.uniform_(0.5, 1.5)
        mod.weight.data.uniform_(0.5, 1.0); mod.bias.data.uniform_(-0.1, 0.1)
m.eval()
sd = {k: v for k, v in m.state_dict().items() if not k.endswith("num_batches_tracked")}
hf = {}
def bn(src, dst):
    for s in ("weight", "bias", "running_mean", "running_var"): hf[f"{dst}.{s}"] = sd[f"{src}.{s}"]
hf["embedder.embedder.convolution.weight"] = sd["conv1.weight"]; bn("bn1", "embedder.embedder.normalization")
for s, depth in enumerate([3, 4, 6, 3]):
    for j in range(depth):
        src, dst = f"layer{s+1}.{j}", f"encoder.stages.{s}.layers.{j}"
        for k in range(3):
            hf[f"{dst}.layer.{k}.convolution.weight"] = sd[f"{src}.conv{k+1}.weight"]; bn(f"{src}.bn{k+1}", f"{dst}.layer.{k}.normalization")
        if f"{src}.downsample.0.weight" in sd:
            hf[f"{dst}.shortcut.convolution.weight"] = sd[f"{src}.downsample.0.weight"]; bn(f"{src}.downsample.1", f"{dst}.shortcut.normalization")
x = torch.randn(1, 3, 224, 224)
with torch.no_grad(): y = m(x)
hf["__input"] = x; hf["__output"] = y
write_st(os.path.join(out_dir, "resnet50.safetensors"), hf)

# ViT-B/16: torchvision vit_b_16 -> HF ViTModel names (in_proj split into q, k, v).
v = torchvision.models.vit_b_16(); v.heads = torch.nn.Identity(); v.eval()
sd = v.state_dict(); hf = {}
hf["embeddings.cls_token"] = sd["class_token"]
hf["embeddings.position_embeddings"] = sd["encoder.pos_embedding"]
hf["embeddings.patch_embeddings.projection.weight"] = sd["conv_proj.weight"]
hf["embeddings.patch_embeddings.projection.bias"] = sd["conv_proj.bias"]
for i in range(12):
    p, d = f"encoder.layers.encoder_layer_{i}", f"encoder.layer.{i}"
    w, b = sd[f"{p}.self_attention.in_proj_weight"].chunk(3), sd[f"{p}.self_attention.in_proj_bias"].chunk(3)
    for n, (ww, bb) in zip(("query", "key", "value"), zip(w, b)):
        hf[f"{d}.attention.attention.{n}.weight"] = ww; hf[f"{d}.attention.attention.{n}.bias"] = bb
    hf[f"{d}.attention.output.dense.weight"] = sd[f"{p}.self_attention.out_proj.weight"]
    hf[f"{d}.attention.output.dense.bias"] = sd[f"{p}.self_attention.out_proj.bias"]
    hf[f"{d}.layernorm_before.weight"] = sd[f"{p}.ln_1.weight"]; hf[f"{d}.layernorm_before.bias"] = sd[f"{p}.ln_1.bias"]
    hf[f"{d}.layernorm_after.weight"] = sd[f"{p}.ln_2.weight"]; hf[f"{d}.layernorm_after.bias"] = sd[f"{p}.ln_2.bias"]
    hf[f"{d}.intermediate.dense.weight"] = sd[f"{p}.mlp.0.weight"]; hf[f"{d}.intermediate.dense.bias"] = sd[f"{p}.mlp.0.bias"]
    hf[f"{d}.output.dense.weight"] = sd[f"{p}.mlp.3.weight"]; hf[f"{d}.output.dense.bias"] = sd[f"{p}.mlp.3.bias"]
hf["layernorm.weight"] = sd["encoder.ln.weight"]; hf["layernorm.bias"] = sd["encoder.ln.bias"]
hf["pooler.dense.weight"] = torch.zeros(768, 768); hf["pooler.dense.bias"] = torch.zeros(768)
x = torch.randn(1, 3, 224, 224)
with torch.no_grad(): y = v(x)  # CLS token after the final layer norm
hf["__input"] = x; hf["__output"] = y
write_st(os.path.join(out_dir, "vit.safetensors"), hf)

