#!/usr/bin/env python3
"""The text zoo's architectures written in PyTorch eager Python, in the style of
Hugging Face transformers (modeling_bert / gpt2 / bloom / t5 / bart), as the
reference for benchmarks/text_models_benchmark.cpp. Same configs (from the C++
presets), same shapes, same workload, same thread count; random weights.

  text_eager.py --config CONFIG.json --family bert --task fill-mask --batch 8 --threads 2

prints one JSON line: seconds per batch (best of the timed runs), items/s, peak RSS.
"""
import argparse
import json
import math
import resource
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

NEG = torch.finfo(torch.float32).min


def gelu_new(x):
    return F.gelu(x, approximate="tanh")


def act(name):
    return {"gelu": F.gelu, "relu": F.relu, "gelu_new": gelu_new, "gelu_pytorch_tanh": gelu_new}[name]


def padding_bias(mask, q_len, causal):
    b, k_len = mask.shape
    keep = mask.bool()[:, None, None, :]
    if causal:
        q = torch.arange(k_len - q_len, k_len)[:, None]
        k = torch.arange(k_len)[None, :]
        keep = keep & (k <= q)[None, None]
    return torch.zeros(keep.shape).masked_fill(~keep, NEG)


def split(x, h):
    b, t, d = x.shape
    return x.view(b, t, h, d // h).transpose(1, 2)


def merge(x):
    b, h, t, d = x.shape
    return x.transpose(1, 2).reshape(b, t, h * d)


def attend(q, k, v, bias, scale):
    scores = torch.matmul(q, k.transpose(-1, -2)) * scale
    if bias is not None:
        scores = scores + bias
    return torch.matmul(F.softmax(scores, dim=-1), v)


# ---------------------------------------------------------------- encoders
class EncoderLayer(nn.Module):
    def __init__(self, h, heads, inter, eps, activation):
        super().__init__()
        self.heads = heads
        self.query, self.key, self.value = nn.Linear(h, h), nn.Linear(h, h), nn.Linear(h, h)
        self.attn_out, self.attn_norm = nn.Linear(h, h), nn.LayerNorm(h, eps=eps)
        self.inter, self.out, self.out_norm = nn.Linear(h, inter), nn.Linear(inter, h), nn.LayerNorm(h, eps=eps)
        self.act = activation

    def forward(self, x, bias):
        q, k, v = split(self.query(x), self.heads), split(self.key(x), self.heads), split(self.value(x), self.heads)
        ctx = merge(attend(q, k, v, bias, 1.0 / math.sqrt(q.shape[-1])))
        a = self.attn_norm(self.attn_out(ctx) + x)
        return self.out_norm(self.out(self.act(self.inter(a))) + a)


class Encoder(nn.Module):
    def __init__(self, c, family, task):
        super().__init__()
        h = c.get("hidden_size", c.get("dim"))
        layers = c.get("num_hidden_layers", c.get("n_layers"))
        heads = c.get("num_attention_heads", c.get("n_heads"))
        inter = c.get("intermediate_size", c.get("hidden_dim"))
        eps = c.get("layer_norm_eps", 1e-5 if family == "roberta" else 1e-12)
        self.family, self.task = family, task
        self.word = nn.Embedding(c["vocab_size"], h)
        self.pos = nn.Embedding(c.get("max_position_embeddings", 512), h)
        self.types = None if family == "distilbert" else nn.Embedding(c.get("type_vocab_size", 2), h)
        self.norm = nn.LayerNorm(h, eps=eps)
        a = act(c.get("hidden_act", c.get("activation", "gelu")))
        self.layers = nn.ModuleList([EncoderLayer(h, heads, inter, eps, a) for _ in range(layers)])
        labels = len(c.get("id2label", {})) or 2
        if task == "text-classification":
            self.pre = nn.Linear(h, h)  # pooler / roberta dense / pre_classifier
            self.cls = nn.Linear(h, labels)
        elif task == "token-classification":
            self.cls = nn.Linear(h, labels)
        elif task == "question-answering":
            self.cls = nn.Linear(h, 2)
        else:
            self.transform, self.tnorm = nn.Linear(h, h), nn.LayerNorm(h, eps=eps)
            self.bias = nn.Parameter(torch.zeros(c["vocab_size"]))
        self.pad = c.get("pad_token_id", 1 if family == "roberta" else 0)

    def forward(self, ids, mask):
        t = ids.shape[1]
        if self.family == "roberta":
            m = ids.ne(self.pad).long()
            pos = torch.cumsum(m, 1) * m + self.pad
        else:
            pos = torch.arange(t)[None]
        x = self.word(ids) + self.pos(pos)
        if self.types is not None:
            x = x + self.types.weight[0]
        x = self.norm(x)
        bias = padding_bias(mask, t, False)
        for layer in self.layers:
            x = layer(x, bias)
        if self.task == "text-classification":
            first = x[:, 0]
            h = torch.tanh(self.pre(first)) if self.family != "distilbert" else F.relu(self.pre(first))
            return self.cls(h)
        if self.task in ("token-classification", "question-answering"):
            return self.cls(x)
        y = self.tnorm(F.gelu(self.transform(x)))
        return F.linear(y, self.word.weight, self.bias)  # HF: decoder Linear tied to the embeddings


# ---------------------------------------------------------------- decoders
class Gpt2(nn.Module):
    def __init__(self, c):
        super().__init__()
        e, self.heads = c["n_embd"], c["n_head"]
        inner = c.get("n_inner") or 4 * e
        self.wte, self.wpe = nn.Embedding(c["vocab_size"], e), nn.Embedding(c.get("n_positions", 1024), e)
        self.blocks = nn.ModuleList()
        for _ in range(c["n_layer"]):
            b = nn.Module()
            b.ln_1, b.ln_2 = nn.LayerNorm(e), nn.LayerNorm(e)
            b.c_attn, b.c_proj = nn.Linear(e, 3 * e), nn.Linear(e, e)  # Conv1D == Linear with transposed storage
            b.c_fc, b.mlp_proj = nn.Linear(e, inner), nn.Linear(inner, e)
            self.blocks.append(b)
        self.ln_f = nn.LayerNorm(e)
        self.eos = c.get("eos_token_id", c["vocab_size"] - 1)

    def step(self, ids, mask, cache):
        t = ids.shape[1]
        pos = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 1)[:, -t:]
        x = self.wte(ids) + self.wpe(pos)
        bias = padding_bias(mask, t, True)
        e = x.shape[-1]
        for i, b in enumerate(self.blocks):
            q, k, v = b.c_attn(b.ln_1(x)).split(e, 2)
            q, k, v = split(q, self.heads), split(k, self.heads), split(v, self.heads)
            if i in cache:
                k, v = torch.cat([cache[i][0], k], 2), torch.cat([cache[i][1], v], 2)
            cache[i] = (k, v)
            x = x + b.c_proj(merge(attend(q, k, v, bias, 1.0 / math.sqrt(q.shape[-1]))))
            x = x + b.mlp_proj(gelu_new(b.c_fc(b.ln_2(x))))
        return torch.matmul(self.ln_f(x)[:, -1], self.wte.weight.t())


def alibi(mask, heads):
    closest = 2 ** math.floor(math.log2(heads))
    base = 2 ** (-(2 ** -(math.log2(closest) - 3)))
    slopes = [base ** i for i in range(1, closest + 1)]
    if closest != heads:
        extra = 2 ** (-(2 ** -(math.log2(2 * closest) - 3)))
        slopes += [extra ** (1 + 2 * i) for i in range(min(closest, heads - closest))]
    pos = (mask.float().cumsum(-1) - 1) * mask
    return (torch.tensor(slopes)[None, :, None] * pos[:, None, :])[:, :, None, :]


class Bloom(nn.Module):
    def __init__(self, c):
        super().__init__()
        e, self.heads = c["hidden_size"], c["n_head"]
        self.emb, self.emb_norm = nn.Embedding(c["vocab_size"], e), nn.LayerNorm(e)
        self.blocks = nn.ModuleList()
        for _ in range(c["n_layer"]):
            b = nn.Module()
            b.ln_1, b.ln_2 = nn.LayerNorm(e), nn.LayerNorm(e)
            b.qkv, b.dense = nn.Linear(e, 3 * e), nn.Linear(e, e)
            b.up, b.down = nn.Linear(e, 4 * e), nn.Linear(4 * e, e)
            self.blocks.append(b)
        self.ln_f = nn.LayerNorm(e)
        self.eos = c.get("eos_token_id", 2)

    def step(self, ids, mask, cache):
        bsz, t = ids.shape
        x = self.emb_norm(self.emb(ids))
        hd = x.shape[-1] // self.heads
        bias = padding_bias(mask, t, True) + alibi(mask, self.heads)
        for i, b in enumerate(self.blocks):
            fused = b.qkv(b.ln_1(x)).view(bsz, t, self.heads, 3, hd)
            q, k, v = (fused[..., j, :].transpose(1, 2) for j in range(3))
            if i in cache:
                k, v = torch.cat([cache[i][0], k], 2), torch.cat([cache[i][1], v], 2)
            cache[i] = (k, v)
            x = x + b.dense(merge(attend(q, k, v, bias, 1.0 / math.sqrt(hd))))
            x = x + b.down(gelu_new(b.up(b.ln_2(x))))
        return torch.matmul(self.ln_f(x[:, -1]), self.emb.weight.t())


# ---------------------------------------------------------------- encoder-decoders
class RmsNorm(nn.Module):
    def __init__(self, d, eps=1e-6):
        super().__init__()
        self.weight, self.eps = nn.Parameter(torch.ones(d)), eps

    def forward(self, x):
        var = x.float().pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(var + self.eps))


class Attn(nn.Module):
    def __init__(self, d, heads, inner, bias, scale):
        super().__init__()
        self.q, self.k, self.v = nn.Linear(d, inner, bias), nn.Linear(d, inner, bias), nn.Linear(d, inner, bias)
        self.o, self.heads, self.scale = nn.Linear(inner, d, bias), heads, scale

    def forward(self, x, bias, cache=None, key=None, memory=None):
        q = split(self.q(x), self.heads)
        if memory is not None:
            if cache is not None and key in cache:
                k, v = cache[key]
            else:
                k, v = split(self.k(memory), self.heads), split(self.v(memory), self.heads)
        else:
            k, v = split(self.k(x), self.heads), split(self.v(x), self.heads)
            if cache is not None and key in cache:
                k, v = torch.cat([cache[key][0], k], 2), torch.cat([cache[key][1], v], 2)
        if cache is not None:
            cache[key] = (k, v)
        scale = self.scale or 1.0 / math.sqrt(q.shape[-1])
        return self.o(merge(attend(q, k, v, bias, scale)))


def t5_buckets(rel, bidirectional, n=32, max_distance=128):
    buckets = torch.zeros_like(rel)
    if bidirectional:
        n //= 2
        buckets += (rel > 0).long() * n
        rel = rel.abs()
    else:
        rel = -torch.min(rel, torch.zeros_like(rel))
    exact = n // 2
    large = exact + (torch.log(rel.float() / exact) / math.log(max_distance / exact) * (n - exact)).long()
    large = torch.min(large, torch.full_like(large, n - 1))
    return buckets + torch.where(rel < exact, rel, large)


class T5(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, kv, ff, heads = c["d_model"], c["d_kv"], c["d_ff"], c["num_heads"]
        self.gated = c.get("feed_forward_proj", "relu").startswith("gated")
        self.tied, self.d = c.get("tie_word_embeddings", True), d
        self.shared = nn.Embedding(c["vocab_size"], d)
        inner = heads * kv

        def layer(decoder):
            m = nn.Module()
            m.self_attn, m.self_norm = Attn(d, heads, inner, False, 1.0), RmsNorm(d)
            if decoder:
                m.cross_attn, m.cross_norm = Attn(d, heads, inner, False, 1.0), RmsNorm(d)
            m.wi, m.wo, m.ff_norm = nn.Linear(d, ff, False), nn.Linear(ff, d, False), RmsNorm(d)
            if self.gated:
                m.wi_1 = nn.Linear(d, ff, False)
            return m

        self.enc = nn.ModuleList([layer(False) for _ in range(c["num_layers"])])
        self.dec = nn.ModuleList([layer(True) for _ in range(c.get("num_decoder_layers", c["num_layers"]))])
        self.enc_rel, self.dec_rel = nn.Embedding(32, heads), nn.Embedding(32, heads)
        self.enc_final, self.dec_final = RmsNorm(d), RmsNorm(d)
        self.lm_head = None if self.tied else nn.Linear(d, c["vocab_size"], False)
        self.start, self.eos = c.get("decoder_start_token_id", 0), c.get("eos_token_id", 1)

    def ff(self, m, x):
        h = m.ff_norm(x)
        inner = gelu_new(m.wi(h)) * m.wi_1(h) if self.gated else F.relu(m.wi(h))
        return x + m.wo(inner)

    def rel_bias(self, table, q_len, k_len, bidirectional):
        ctx = torch.arange(k_len - q_len, k_len)[:, None]
        mem = torch.arange(k_len)[None, :]
        return table(t5_buckets(mem - ctx, bidirectional)).permute(2, 0, 1)[None]

    def encode(self, ids, mask):
        t = ids.shape[1]
        x = self.shared(ids)
        bias = padding_bias(mask, t, False) + self.rel_bias(self.enc_rel, t, t, True)
        for m in self.enc:
            x = x + m.self_attn(m.self_norm(x), bias)
            x = self.ff(m, x)
        return self.enc_final(x)

    def step(self, ids, states, enc_mask, cache):
        b, t = ids.shape
        past = cache[(0, "self")][0].shape[2] if (0, "self") in cache else 0
        x = self.shared(ids)
        self_bias = padding_bias(torch.ones(b, past + t), t, True) + self.rel_bias(self.dec_rel, t, past + t, False)
        cross_bias = padding_bias(enc_mask, t, False)
        for i, m in enumerate(self.dec):
            x = x + m.self_attn(m.self_norm(x), self_bias, cache, (i, "self"))
            x = x + m.cross_attn(m.cross_norm(x), cross_bias, cache, (i, "cross"), states)
            x = self.ff(m, x)
        h = self.dec_final(x[:, -1])
        if self.lm_head is not None:
            return self.lm_head(h)
        return torch.matmul(h * self.d ** -0.5, self.shared.weight.t())


class Bart(nn.Module):
    def __init__(self, c):
        super().__init__()
        d = c["d_model"]
        self.shared = nn.Embedding(c["vocab_size"], d)
        pos = c.get("max_position_embeddings", 1024) + 2
        self.enc_pos, self.dec_pos = nn.Embedding(pos, d), nn.Embedding(pos, d)
        self.enc_norm, self.dec_norm = nn.LayerNorm(d), nn.LayerNorm(d)

        def layer(decoder, heads, ffn):
            m = nn.Module()
            m.self_attn, m.self_norm = Attn(d, heads, d, True, None), nn.LayerNorm(d)
            if decoder:
                m.cross_attn, m.cross_norm = Attn(d, heads, d, True, None), nn.LayerNorm(d)
            m.fc1, m.fc2, m.final_norm = nn.Linear(d, ffn), nn.Linear(ffn, d), nn.LayerNorm(d)
            return m

        self.enc = nn.ModuleList([layer(False, c["encoder_attention_heads"], c["encoder_ffn_dim"])
                                  for _ in range(c["encoder_layers"])])
        self.dec = nn.ModuleList([layer(True, c["decoder_attention_heads"], c["decoder_ffn_dim"])
                                  for _ in range(c["decoder_layers"])])
        self.register_buffer("final_logits_bias", torch.zeros(1, c["vocab_size"]))
        self.start, self.eos = c.get("decoder_start_token_id", 2), c.get("eos_token_id", 2)

    def encode(self, ids, mask):
        t = ids.shape[1]
        x = self.enc_norm(self.shared(ids) + self.enc_pos(torch.arange(2, t + 2)))
        bias = padding_bias(mask, t, False)
        for m in self.enc:
            x = m.self_norm(x + m.self_attn(x, bias))
            x = m.final_norm(x + m.fc2(F.gelu(m.fc1(x))))
        return x

    def step(self, ids, states, enc_mask, cache):
        b, t = ids.shape
        past = cache[(0, "self")][0].shape[2] if (0, "self") in cache else 0
        x = self.dec_norm(self.shared(ids) + self.dec_pos(torch.arange(past + 2, past + t + 2)))
        self_bias = padding_bias(torch.ones(b, past + t), t, True)
        cross_bias = padding_bias(enc_mask, t, False)
        for i, m in enumerate(self.dec):
            x = m.self_norm(x + m.self_attn(x, self_bias, cache, (i, "self")))
            x = m.cross_norm(x + m.cross_attn(x, cross_bias, cache, (i, "cross"), states))
            x = m.final_norm(x + m.fc2(F.gelu(m.fc1(x))))
        return torch.matmul(x[:, -1], self.shared.weight.t()) + self.final_logits_bias[0]


# ---------------------------------------------------------------- workload
def greedy(next_logits, batch, new_tokens, eos, ids_mask=None):
    """Exactly `new_tokens` greedy steps (EOS suppressed), KV cache."""
    out = []
    step_ids = None
    for s in range(new_tokens):
        logits = next_logits(step_ids, s)
        logits[:, eos] = -float("inf")
        nxt = logits.argmax(-1)
        out.append(nxt)
        step_ids = nxt[:, None]
    return torch.stack(out, 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--family", required=True)
    ap.add_argument("--task", required=True)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seq", type=int, required=True, help="input tokens per item")
    ap.add_argument("--new-tokens", type=int, default=0)
    ap.add_argument("--min-time", type=float, default=3.0)
    ap.add_argument("--min-runs", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    c = json.load(open(args.config))
    fam, task = args.family, args.task
    if fam in ("bert", "roberta", "distilbert"):
        model = Encoder(c, fam, task)
    else:
        model = {"gpt2": Gpt2, "bloom": Bloom, "t5": T5, "bart": Bart}[fam](c)
    model.eval()
    vocab = c["vocab_size"]
    ids = torch.randint(8, min(vocab, 30000), (args.batch, args.seq))
    mask = torch.ones_like(ids)

    def run():
        if fam in ("bert", "roberta", "distilbert"):
            return model(ids, mask)
        if fam in ("gpt2", "bloom"):
            cache, state = {}, {"mask": mask}

            def nl(step_ids, s):
                if step_ids is None:
                    return model.step(ids, state["mask"], cache)
                state["mask"] = torch.cat([state["mask"], torch.ones(args.batch, 1, dtype=mask.dtype)], 1)
                return model.step(step_ids, state["mask"], cache)

            return greedy(nl, args.batch, args.new_tokens, model.eos)
        states = model.encode(ids, mask)
        cache = {}

        def nl(step_ids, s):
            if step_ids is None:
                step_ids = torch.full((args.batch, 1), model.start, dtype=torch.long)
            return model.step(step_ids, states, mask, cache)

        return greedy(nl, args.batch, args.new_tokens, model.eos)

    with torch.inference_mode():
        run()  # warm-up
        times = []
        start = time.perf_counter()
        while len(times) < args.min_runs or time.perf_counter() - start < args.min_time:
            t0 = time.perf_counter()
            run()
            times.append(time.perf_counter() - t0)
    best = min(times)
    print(json.dumps({"impl": "pytorch-eager", "family": fam, "task": task, "batch": args.batch,
                      "threads": args.threads, "seconds_per_batch": best, "items_per_s": args.batch / best,
                      "runs": len(times), "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    main()
