#!/usr/bin/env python3
"""Runs benchmarks/text_models_benchmark (C++ zoo) and text_eager.py (the same
architectures in PyTorch eager) on the same workload, one process per
measurement, and prints a Markdown table: seconds per batch at batch 1
(latency) and items/s at batch 8 (throughput), the ratio C++ / eager (<= 1.0
means the zoo is no slower), and peak RSS of each process.

  benchmarks/python/text_compare.py --build build --threads 2 [--size small|study|all] [--default-env]

Both sides run with the same environment. By default that is
GOMP_SPINCOUNT=1000 (see docs/benchmarks.md: libgomp's default busy-wait
fights OpenBLAS's own threads on small machines); --default-env leaves the
environment as it is.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

WORKLOADS = {  # task -> (input tokens, new tokens)
    "text-classification": (128, 0),
    "token-classification": (128, 0),
    "question-answering": (128, 0),
    "fill-mask": (128, 0),
    "text-generation": (32, 10),  # the study: exactly 10 new tokens from a ~20-word prompt
    "summarization": (256, 15),   # the study: 10 to 15 new tokens; here exactly 15
}
# Multi-purpose presets are measured on their summarization prompt workload.
TASK_OVERRIDE = {"small-flan-t5": "summarization", "google/flan-t5-base": "summarization"}
PRESETS = {
    "small": ["small-distilbert-sst2", "small-bert-ner", "small-roberta-squad", "small-bert-mlm", "small-gpt2",
              "small-bloom", "small-t5", "small-bart", "small-flan-t5"],
    "study": ["distilbert-base-uncased-finetuned-sst-2-english", "dslim/bert-base-NER",
              "deepset/roberta-base-squad2", "bert-base-uncased", "gpt2", "distilgpt2", "bigscience/bloom-560m",
              "t5-small", "google/flan-t5-base", "sshleifer/distilbart-cnn-12-6", "facebook/bart-large-cnn"],
}


def run_json(cmd, env):
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--size", default="all", choices=["small", "study", "all"])
    ap.add_argument("--presets", nargs="*", help="override the preset list")
    ap.add_argument("--min-time", type=float, default=2.0)
    ap.add_argument("--default-env", action="store_true")
    ap.add_argument("--rounds", type=int, default=2, help="interleaved C++ / eager rounds (best of each)")
    ap.add_argument("--json-out", help="also write every measurement here")
    ap.add_argument("--merge", nargs="*", help="only print the table from earlier --json-out files (best of each side)")
    args = ap.parse_args()
    if args.merge:
        return merge(args.merge)
    env = dict(os.environ)
    if not args.default_env:
        env["GOMP_SPINCOUNT"] = "1000"
    cpp = os.path.join(args.build, "benchmarks", "text_models_benchmark")
    eager = os.path.join(os.path.dirname(os.path.abspath(__file__)), "text_eager.py")
    presets = args.presets or (PRESETS["small"] + PRESETS["study"] if args.size == "all" else PRESETS[args.size])
    results = []
    print("| preset | task | batch 1: C++ s | eager s | ratio | batch 8: C++ items/s | eager items/s | ratio "
          "| peak RSS C++ / eager (MB) |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for preset in presets:
        task_args = ["--task", TASK_OVERRIDE[preset]] if preset in TASK_OVERRIDE else []
        config = subprocess.run([cpp, "--preset", preset, "--print-config"] + task_args, check=True,
                                capture_output=True, text=True).stdout
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            f.write(config)
            config_path = f.name
        row = {}
        for batch in (1, 8):
            probe = run_json([cpp, "--preset", preset, "--batch", "1", "--min-time", "0", "--min-runs", "1",
                              "--seq", "8", "--new-tokens", "1"] + task_args, env)
            task, family = probe["task"], probe["family"]
            seq, new = WORKLOADS[task]
            common = ["--batch", str(batch), "--threads", str(args.threads), "--seq", str(seq), "--new-tokens",
                      str(new), "--min-time", str(args.min_time), "--min-runs", "2"]
            # Interleaved rounds, best of each side: other load on the machine hits both alike.
            c = p = None
            for _ in range(args.rounds):
                ci = run_json([cpp, "--preset", preset] + task_args + common, env)
                pi = run_json([sys.executable, eager, "--config", config_path, "--family", family, "--task", task]
                              + common, env)
                c = ci if c is None or ci["seconds_per_batch"] < c["seconds_per_batch"] else c
                p = pi if p is None or pi["seconds_per_batch"] < p["seconds_per_batch"] else p
            row[batch] = (c, p)
            results.append({"preset": preset, "batch": batch, "cpp": c, "eager": p})
        (c1, p1), (c8, p8) = row[1], row[8]
        print(f"| {preset} | {c1['task']} | {c1['seconds_per_batch']:.4f} | {p1['seconds_per_batch']:.4f} | "
              f"{c1['seconds_per_batch'] / p1['seconds_per_batch']:.2f} | {c8['items_per_s']:.1f} | "
              f"{p8['items_per_s']:.1f} | {c8['seconds_per_batch'] / p8['seconds_per_batch']:.2f} | "
              f"{c8['peak_rss_mb']:.0f} / {p8['peak_rss_mb']:.0f} |", flush=True)
        os.unlink(config_path)
        if args.json_out:  # after every preset, so that an interrupted run keeps what it measured
            with open(args.json_out, "w") as f:
                json.dump(results, f, indent=1)


def merge(files):
    """One row per preset from several runs. Each run measured C++ and eager back to back (a pair); load on a
    shared machine changes between runs, so the row shows, per batch size, the pair with the median ratio."""
    pairs = {}
    order = []
    for name in files:
        for r in json.load(open(name)):
            key = (r["preset"], r["batch"])
            if key[0] not in order:
                order.append(key[0])
            pairs.setdefault(key, []).append((r["cpp"], r["eager"]))
    print("| preset | task | batch 1: C++ s | eager s | ratio | batch 8: C++ items/s | eager items/s | ratio "
          "| runs | peak RSS C++ / eager (MB) |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for preset in order:
        if (preset, 1) not in pairs or (preset, 8) not in pairs:
            continue
        picked = {}
        for batch in (1, 8):
            ps = sorted(pairs[(preset, batch)], key=lambda cp: cp[0]["seconds_per_batch"] / cp[1]["seconds_per_batch"])
            picked[batch] = ps[(len(ps) - 1) // 2]
        (c1, p1), (c8, p8) = picked[1], picked[8]
        print(f"| {preset} | {c1['task']} | {c1['seconds_per_batch']:.4f} | {p1['seconds_per_batch']:.4f} | "
              f"{c1['seconds_per_batch'] / p1['seconds_per_batch']:.2f} | {c8['items_per_s']:.2f} | "
              f"{p8['items_per_s']:.2f} | {c8['seconds_per_batch'] / p8['seconds_per_batch']:.2f} | "
              f"{len(pairs[(preset, 1)])} | "
              f"{max(c1['peak_rss_mb'], c8['peak_rss_mb']):.0f} / {max(p1['peak_rss_mb'], p8['peak_rss_mb']):.0f} |")


if __name__ == "__main__":
    main()
