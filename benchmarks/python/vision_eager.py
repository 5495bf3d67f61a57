#!/usr/bin/env python3
"""PyTorch eager reference for the vision zoo benchmark (docs/benchmarks.md,
"Vision models"): the same architectures and shapes as the bare forwards of
benchmarks/vision_benchmark.cpp, run by Debian's python3-torch and
python3-torchvision on random weights.

  /usr/bin/python3 benchmarks/python/vision_eager.py [--threads N] [resnet50|vit_base|unet_sd15] ...

Each model runs in its own process (its peak RSS is its own). Prints one
JSON line per model: median wall ms and median process-CPU ms per forward
over the timed iterations (with one thread the CPU time is the whole work,
comparable even when other jobs share the machine), peak RSS in MiB,
parameter count (checked against the Hugging Face count).
"""
import json
import resource
import statistics
import subprocess
import sys
import time

import torch
from torch import nn
import torch.nn.functional as F

THREADS = 2  # --threads


# ---- SD 1.5 UNet2DConditionModel, as diffusers builds it (conv proj, GEGLU) ----
class ResnetBlock(nn.Module):
    def __init__(self, cin, cout, temb=1280, groups=32):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin, eps=1e-5)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.time_emb_proj = nn.Linear(temb, cout)
        self.norm2 = nn.GroupNorm(groups, cout, eps=1e-5)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.conv_shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.time_emb_proj(F.silu(temb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return (self.conv_shortcut(x) if self.conv_shortcut is not None else x) + h


class Attention(nn.Module):
    def __init__(self, dim, ctx_dim, heads):
        super().__init__()
        self.heads = heads
        self.to_q = nn.Linear(dim, dim, bias=False)
        self.to_k = nn.Linear(ctx_dim, dim, bias=False)
        self.to_v = nn.Linear(ctx_dim, dim, bias=False)
        self.to_out = nn.ModuleList([nn.Linear(dim, dim)])

    def forward(self, x, ctx=None):
        ctx = x if ctx is None else ctx
        b, n, c = x.shape
        h = self.heads
        q = self.to_q(x).view(b, -1, h, c // h).transpose(1, 2)
        k = self.to_k(ctx).view(b, -1, h, c // h).transpose(1, 2)
        v = self.to_v(ctx).view(b, -1, h, c // h).transpose(1, 2)
        # diffusers' AttnProcessor on torch 1.x: baddbmm(beta=0, alpha=scale), softmax, bmm.
        q, k, v = (t.reshape(b * h, -1, c // h) for t in (q, k, v))
        empty = torch.empty(q.shape[0], q.shape[1], k.shape[1], dtype=q.dtype)
        scores = torch.baddbmm(empty, q, k.transpose(-1, -2), beta=0, alpha=(c // h) ** -0.5)
        a = torch.bmm(scores.softmax(dim=-1), v).view(b, h, n, c // h)
        return self.to_out[0](a.transpose(1, 2).reshape(b, n, c))


class Transformer2D(nn.Module):
    def __init__(self, c, heads=8, ctx_dim=768):
        super().__init__()
        self.norm = nn.GroupNorm(32, c, eps=1e-6)
        self.proj_in = nn.Conv2d(c, c, 1)
        self.norm1, self.norm2, self.norm3 = nn.LayerNorm(c), nn.LayerNorm(c), nn.LayerNorm(c)
        self.attn1 = Attention(c, c, heads)
        self.attn2 = Attention(c, ctx_dim, heads)
        self.ff_in = nn.Linear(c, 8 * c)
        self.ff_out = nn.Linear(4 * c, c)
        self.proj_out = nn.Conv2d(c, c, 1)

    def forward(self, x, ctx):
        b, c, hh, ww = x.shape
        s = self.proj_in(self.norm(x)).permute(0, 2, 3, 1).reshape(b, hh * ww, c)
        s = self.attn1(self.norm1(s)) + s
        s = self.attn2(self.norm2(s), ctx) + s
        a, gate = self.ff_in(self.norm3(s)).chunk(2, dim=-1)
        s = self.ff_out(a * F.gelu(gate)) + s
        return self.proj_out(s.reshape(b, hh, ww, c).permute(0, 3, 1, 2)) + x


class UNet(nn.Module):
    def __init__(self, boc=(320, 640, 1280, 1280), down_attn=(1, 1, 1, 0), up_attn=(0, 1, 1, 1), layers=2):
        super().__init__()
        temb = boc[0] * 4
        self.conv_in = nn.Conv2d(4, boc[0], 3, padding=1)
        self.lin1, self.lin2 = nn.Linear(boc[0], temb), nn.Linear(temb, temb)
        self.down = nn.ModuleList()
        out = boc[0]
        n = len(boc)
        for i in range(n):
            cin, out = out, boc[i]
            st = nn.Module()
            st.resnets = nn.ModuleList([ResnetBlock(cin if j == 0 else out, out, temb) for j in range(layers)])
            st.attentions = nn.ModuleList([Transformer2D(out) for _ in range(layers)] if down_attn[i] else [])
            st.down = nn.Conv2d(out, out, 3, stride=2, padding=1) if i < n - 1 else None
            self.down.append(st)
        c = boc[-1]
        self.mid_res = nn.ModuleList([ResnetBlock(c, c, temb), ResnetBlock(c, c, temb)])
        self.mid_attn = Transformer2D(c)
        rev = list(reversed(boc))
        self.up = nn.ModuleList()
        out = rev[0]
        for i in range(n):
            prev, out, cin = out, rev[i], rev[min(i + 1, n - 1)]
            st = nn.Module()
            st.resnets = nn.ModuleList()
            for j in range(layers + 1):
                skip = cin if j == layers else out
                st.resnets.append(ResnetBlock((prev if j == 0 else out) + skip, out, temb))
            st.attentions = nn.ModuleList([Transformer2D(out) for _ in range(layers + 1)] if up_attn[i] else [])
            st.up = nn.Conv2d(out, out, 3, padding=1) if i < n - 1 else None
            self.up.append(st)
        self.norm_out = nn.GroupNorm(32, boc[0], eps=1e-5)
        self.conv_out = nn.Conv2d(boc[0], 4, 3, padding=1)
        self.dim = boc[0]

    def forward(self, x, t, ctx):
        half = self.dim // 2
        freqs = torch.exp(-torch.log(torch.tensor(10000.0)) * torch.arange(half) / half)
        args = t.float().reshape(-1, 1) * freqs[None]
        emb = torch.cat([args.cos(), args.sin()], -1).expand(x.shape[0], -1)
        emb = self.lin2(F.silu(self.lin1(emb)))
        x = self.conv_in(x)
        skips = [x]
        for st in self.down:
            for j, r in enumerate(st.resnets):
                x = r(x, emb)
                if len(st.attentions):
                    x = st.attentions[j](x, ctx)
                skips.append(x)
            if st.down is not None:
                x = st.down(x)
                skips.append(x)
        x = self.mid_res[1](self.mid_attn(self.mid_res[0](x, emb), ctx), emb)
        for st in self.up:
            for j, r in enumerate(st.resnets):
                x = r(torch.cat([x, skips.pop()], 1), emb)
                if len(st.attentions):
                    x = st.attentions[j](x, ctx)
            if st.up is not None:
                x = st.up(F.interpolate(x, scale_factor=2.0, mode="nearest"))
        return self.conv_out(F.silu(self.norm_out(x)))


def build(name):
    import torchvision

    if name == "resnet50":
        m = torchvision.models.resnet50()
        m.fc = nn.Identity()  # ResNetModel: no classifier
        return m, (torch.randn(1, 3, 224, 224),), 23_508_032, 20
    if name == "vit_base":
        m = torchvision.models.vit_b_16()
        m.heads = nn.Identity()  # the encoder; torchvision's ViT has no pooler (HF: +590,592)
        return m, (torch.randn(1, 3, 224, 224),), 86_389_248 - 590_592, 20
    if name == "unet_sd15":
        m = UNet()
        args = (torch.randn(2, 4, 64, 64), torch.tensor(981.0), torch.randn(2, 77, 768))
        return m, args, 859_520_964, 3
    raise SystemExit(f"unknown model {name}")


def run_one(name):
    torch.set_num_threads(THREADS)
    torch.manual_seed(0)
    model, args, expected_params, iters = build(name)
    params = sum(p.numel() for p in model.parameters())
    if params != expected_params:
        raise SystemExit(f"{name}: {params} parameters, expected {expected_params}")
    model.eval()
    times, cpu = [], []
    with torch.inference_mode():
        model(*args)  # warm-up
        for _ in range(iters):
            t0, c0 = time.perf_counter(), time.process_time()
            model(*args)
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"model": name, "ms": round(statistics.median(times), 1),
                      "cpu_ms": round(statistics.median(cpu), 1), "iterations": iters,
                      "peak_rss_MiB": round(peak, 1), "parameters": params, "threads": THREADS,
                      "torch": torch.__version__}), flush=True)


if __name__ == "__main__":
    argv = sys.argv[1:]
    if len(argv) >= 2 and argv[0] == "--threads":
        THREADS = int(argv[1])
        argv = argv[2:]
    names = argv or ["resnet50", "vit_base", "unet_sd15"]
    if len(names) == 1:
        run_one(names[0])
    else:
        for n in names:
            subprocess.run([sys.executable, __file__, "--threads", str(THREADS), n], check=True)
