#!/usr/bin/python3
"""Every example of README.md, run as written.

The examples are the lines of README.md's ```sh blocks (a line ending in a
backslash joined with the next) and the ```python block as a whole. Each sh
line is given to `bash -c` as it stands (so `&&`, `$(...)`, redirections and
`# comments` behave as in a shell), in README order, all in one scratch
folder: later examples read the store (`./joulebench.db`) that earlier ones
filled. A folder with a `joulebench` link to the binary under test comes
first on PATH; HOME is a fresh folder, so no user configuration leaks in.

Scratch layout (made with tempfile.mkdtemp, removed at the end):

    SCRATCH/work     the working folder of every example (the store lands here)
    SCRATCH/shared   -> JOULEBENCH_SOURCE_DIR/../shared, so that the README's
                     `../shared/reference/...` resolves as it does from the
                     repository root
    SCRATCH/home     HOME (and XDG_CONFIG_HOME under it)
    SCRATCH/bin      joulebench -> JOULEBENCH_BINARY, first on PATH
    SCRATCH/logs     each example's stdout and stderr

SPECIAL below lists the examples that need something: a fixture made first,
a placeholder replaced, another working folder, a check of the output the
README states, or, where the example needs a system that is not here, a run
with JOULEBENCH_PARSE_ONLY=1 (the binary parses the whole command line with
its real parser and exits 0 with "arguments accepted", running nothing). An
entry names its example by the command text (the line less its trailing
comment); an entry that matches no README example fails the test, so the
table cannot go stale. Every other example runs as it stands.

The test fails if an example exits non-zero (or its stated output is not
there), naming the example, the exit code and the last lines it printed.

Run by CTest (label readme) with JOULEBENCH_BINARY and JOULEBENCH_SOURCE_DIR;
JOULEBENCH_KEEP_SCRATCH=1 keeps the scratch folder for a look afterwards.
Debian's /usr/bin/python3, standard library only (the TorchScript fixture is
made by a child python3 with Debian's python3-torch).
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

SOURCE = os.path.abspath(os.environ.get("JOULEBENCH_SOURCE_DIR",
                                        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")))
BINARY = os.environ.get("JOULEBENCH_BINARY", "")
README = os.path.join(SOURCE, "README.md")
TAIL_LINES = 25


# --------------------------------------------------------------------------
# Examples from README.md
# --------------------------------------------------------------------------

class Example:
    def __init__(self, lang, text, line):
        self.lang = lang  # "sh" or "python"
        self.text = text  # what runs
        self.line = line  # README line number where it starts
        self.key = command_of(text) if lang == "sh" else text.strip().splitlines()[0]


def command_of(line):
    """The line without its trailing shell comment (a # outside quotes that
    starts a word), right-stripped: how SPECIAL names an example."""
    quote = None
    for i, c in enumerate(line):
        if quote:
            if c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif c == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip()
    return line.rstrip()


def read_examples(path):
    examples = []
    others = []  # (lang, line) of fenced blocks that are not run here
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        m = re.match(r"^```(\w*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        lang, start = m.group(1), i + 1
        j = start
        while j < len(lines) and not lines[j].startswith("```"):
            j += 1
        body = lines[start:j]
        if lang == "sh":
            k = 0
            while k < len(body):
                text, first = body[k], k
                while text.endswith("\\") and k + 1 < len(body):
                    k += 1
                    text = text[:-1].rstrip() + " " + body[k].strip()
                k += 1
                if text.strip() and not text.lstrip().startswith("#"):
                    examples.append(Example("sh", text.strip(), start + first + 1))
        elif lang == "python":
            examples.append(Example("python", "\n".join(body) + "\n", start + 1))
        elif lang:
            others.append((lang, start))
        i = j + 1
    return examples, others


# --------------------------------------------------------------------------
# Fixtures (made in the working folder just before the example that needs them)
# --------------------------------------------------------------------------

INFER_PY = "print(sum(i * i for i in range(200000)))  # a stand-in for an inference script\n"

SERVE = """#!/bin/sh
# A stand-in server: serves --requests N requests (here: says so) and exits 0.
n=0
while [ $# -gt 0 ]; do
  case "$1" in
    --requests) n="$2"; shift 2 ;;
    *) shift ;;
  esac
done
i=0
while [ "$i" -lt "$n" ]; do i=$((i + 1)); done
echo "served $n requests"
"""

REVIEWS = [
    "Great product, works exactly as described.",
    "Terrible. It broke after one day and support never answered.",
    "Okay for the price, nothing special.",
    "I love it! My whole family uses it every evening.",
    "Would not buy again: the battery lasts two hours at most.",
    "Fast delivery, sturdy box, good quality.",
    "The manual is confusing but the device itself is fine.",
    "Five stars, highly recommended to anyone who cooks.",
]

# A TorchScript text classifier, saved by Debian's python3-torch (the same
# module as tests/models/torchscript_test.cpp's, which it saves from C++):
# token ids [B, L] -> a row of a 4x4 identity picked by the count of non-pad ids.
MAKE_TORCHSCRIPT = """import torch

class Classifier(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.eye(4), requires_grad=False)

    def forward(self, x):
        n = (x != 0).sum(1)
        return self.weight.index_select(0, n % 4)

torch.jit.script(Classifier()).save("my_model.pt")
"""
MY_MODEL_TOML = 'task = "text-classification"\nname = "my-model"\n[output]\nlabels = ["a", "b", "c", "d"]\n'

# An OpenAI-compatible /v1/completions server as tests/bench/endpoint_test.cpp's
# FakeServer: usage tokens = words of the prompt, max_tokens new tokens.
FAKE_VLLM = """import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        if self.path != "/v1/completions":
            self.send_error(404)
            return
        n_in = len(str(body.get("prompt", "")).split())
        n_out = int(body.get("max_tokens", 16))
        data = json.dumps({"id": "cmpl-readme", "object": "text_completion", "model": body.get("model", ""),
                           "choices": [{"text": " and so on", "index": 0, "finish_reason": "length"}],
                           "usage": {"prompt_tokens": n_in, "completion_tokens": n_out,
                                     "total_tokens": n_in + n_out}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
print("ready", flush=True)
server.serve_forever()
"""

# The README's Python block calls run_inference(), the reader's own code: a
# stand-in is put in builtins, then the block runs as written.
PYTHON_RUNNER = """import builtins, sys


def run_inference():
    return sum(i * i for i in range(300000))


builtins.run_inference = run_inference
path = sys.argv[1]
with open(path) as f:
    code = compile(f.read(), path, "exec")
exec(code, {"__name__": "__main__"})
"""


def port_free(port):
    """Whether a server could listen on 127.0.0.1:port (SO_REUSEADDR, as servers set it: connections of an
    earlier run left in TIME_WAIT do not count, a listening socket does)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


class Context:
    """What the examples share: folders, the environment, fixtures made."""

    def __init__(self, scratch):
        self.scratch = scratch
        self.work = os.path.join(scratch, "work")
        self.home = os.path.join(scratch, "home")
        self.bin = os.path.join(scratch, "bin")
        self.logs = os.path.join(scratch, "logs")
        for d in (self.work, self.home, self.bin, self.logs, os.path.join(self.home, ".config")):
            os.makedirs(d)
        os.symlink(BINARY, os.path.join(self.bin, "joulebench"))
        shared = os.path.normpath(os.path.join(SOURCE, "..", "shared"))
        os.symlink(shared, os.path.join(scratch, "shared"))
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("JOULEBENCH_") and k not in ("PYTHONPATH", "OPENAI_API_KEY", "XDG_CONFIG_HOME")}
        env["HOME"] = self.home
        env["XDG_CONFIG_HOME"] = os.path.join(self.home, ".config")
        env["PATH"] = self.bin + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin")
        self.env = env
        self.made = set()
        self.servers = []  # Popen objects to stop at the end
        self.notes = {}  # fixture -> note for the summary

    def path(self, name):
        return os.path.join(self.work, name)

    def write(self, name, text, mode=0o644):
        with open(self.path(name), "w") as f:
            f.write(text)
        os.chmod(self.path(name), mode)

    def quiet(self, argv, cwd=None, timeout=300):
        """Runs a fixture's command; raises with its output if it fails."""
        r = subprocess.run(argv, cwd=cwd or self.work, env=self.env, capture_output=True, text=True,
                           timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError(f"fixture command {argv} exited {r.returncode}:\n{tail(r.stdout)}\n{tail(r.stderr)}")
        return r.stdout

    def stop_servers(self):
        for p in self.servers:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self.servers = []


def make_infer_py(ctx):
    ctx.write("infer.py", INFER_PY)


def make_serve(ctx):
    ctx.write("serve", SERVE, 0o755)


def make_reviews(ctx):
    ctx.write("reviews.jsonl", "".join(json.dumps({"id": i, "review": r}) + "\n" for i, r in enumerate(REVIEWS)))


def make_my_model(ctx):
    ctx.write("make_my_model.py", MAKE_TORCHSCRIPT)
    ctx.quiet(["/usr/bin/python3", "make_my_model.py"])
    ctx.write("my_model.toml", MY_MODEL_TOML)


def make_shards(ctx):
    # Four shard stores of one small real campaign (4 cells: one per batch
    # size), each written by `bench --shard I/4` as a campaign's machines would.
    for i in range(1, 5):
        ctx.quiet(["joulebench", "bench", "--task", "text-classification", "--model", "fasttext-lid-176",
                   "--n", "4", "--reps", "1", "--batch", "1,2,3,4", "--warmup", "0", "--idle-baseline", "0",
                   "--no-report", "--quiet", "--shard", f"{i}/4", "--store", f"shard{i}.db"])


def start_fake_vllm(ctx):
    """Returns None when started, else why not (the example is then parse-only)."""
    ctx.write("fake_vllm.py", FAKE_VLLM)
    vdir = os.path.join(ctx.scratch, "fake-vllm")
    os.makedirs(vdir, exist_ok=True)
    # Started through a link named vllm: the process's name (comm) is then
    # 'vllm', so the README's `pgrep -o vllm` finds it.
    vllm = os.path.join(vdir, "vllm")
    if not os.path.exists(vllm):
        os.symlink("/usr/bin/python3", vllm)
    why_not = None
    if port_free(8000):
        argv = [vllm, "fake_vllm.py", "8000"]
    else:
        # Parse-only then; a process named vllm still, for `"$(pgrep -o vllm)"` to give a PID to parse.
        why_not = "port 8000 on 127.0.0.1 is taken here, so the fake vLLM server cannot listen on the README's URL"
        argv = [vllm, "-c", "import time; print('ready', flush=True); time.sleep(3600)"]
    p = subprocess.Popen(argv, cwd=ctx.work, env=ctx.env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         text=True)
    ctx.servers.append(p)
    if p.stdout.readline().strip() != "ready":
        return "the fake vLLM server did not start"
    if why_not:
        return why_not
    found = subprocess.run(["pgrep", "-o", "vllm"], capture_output=True, text=True).stdout.strip()
    if found != str(p.pid):
        ctx.notes["vllm"] = f"note: pgrep -o vllm gives {found or 'nothing'}, not the fake server's {p.pid}"
    return None


FIXTURES = {
    "infer.py": make_infer_py,
    "serve": make_serve,
    "reviews.jsonl": make_reviews,
    "my_model.pt": make_my_model,
    "shard stores": make_shards,
}


def run_id(ctx):
    """RUN_ID: the first run that `joulebench report --runs --json` lists."""
    runs = json.loads(ctx.quiet(["joulebench", "report", "--runs", "--json"]))
    if not runs:
        raise RuntimeError("report --runs --json lists no run to replace RUN_ID with")
    return runs[0]["id"]


# --------------------------------------------------------------------------
# Checks of what the README says an example prints or writes
# --------------------------------------------------------------------------

def expect_in(text, *needles):
    return [f"expected {n!r} in the output" for n in needles if n not in text]


def check_json(text, test):
    try:
        value = json.loads(text)
    except ValueError as e:
        return [f"stdout is not JSON: {e}"]
    return test(value)


def check_file(ctx, name, needle=None):
    p = ctx.path(name)
    if not os.path.isfile(p) or os.path.getsize(p) == 0:
        return [f"{name} was not written"]
    if needle is not None:
        with open(p, errors="replace") as f:
            if needle not in f.read():
                return [f"{name} does not contain {needle!r}"]
    return []


TEN_TASKS = ["text-classification", "token-classification", "question-answering", "fill-mask", "text-generation",
             "summarization", "image-classification", "object-detection", "image-to-text", "text-to-image"]


# --------------------------------------------------------------------------
# The table: examples that need something
# --------------------------------------------------------------------------
#
# key:        the example's command, less its trailing comment (prefix=True: a prefix of it)
# skip:       not run, with the reason
# parse_only: run with JOULEBENCH_PARSE_ONLY=1, with the reason it cannot really run here
# fixtures:   FIXTURES made first in the working folder
# server:     "vllm": the fake OpenAI-compatible server on 127.0.0.1:8000 while it runs
# replace:    placeholder -> function(ctx) giving its value
# cwd:        "source" to run in JOULEBENCH_SOURCE_DIR instead of the working folder
# exporter:   runs until this URL (/metrics) answers, is checked, then stopped (parse-only if
#             its port is taken)
# check:      function(ctx, stdout, stderr) -> list of problems with what the README says it prints
# timeout:    seconds (default 300)

PARSE_ONLY_STUDY = ("the study's protocol: the study's models, N = 1,000 x 10 inferences per cell, hours on this machine")
SPECIAL = [
    {"key": "bash scripts/setup.sh", "prefix": True,
     "skip": "the set-up itself (apt-get, build, install): what builds the binary under test and runs this suite"},
    {"key": "joulebench sensors", "check": lambda c, o, e: expect_in(o, "usable")},
    {"key": "joulebench measure -- python3 infer.py", "fixtures": ["infer.py"],
     "check": lambda c, o, e: expect_in(o, str(sum(i * i for i in range(200000)))) + expect_in(e, "Energy of")},
    {"key": "joulebench measure --idle-baseline 10 --json run.json --csv emissions.csv -- ./serve --requests 1000",
     "fixtures": ["serve"],
     "check": lambda c, o, e: expect_in(o, "served 1000 requests") + check_file(c, "run.json", '"components"')
     + check_file(c, "emissions.csv", "energy_consumed")},
    {"key": "joulebench bench", "timeout": 600,
     "check": lambda c, o, e: expect_in(o, *TEN_TASKS) + expect_in(e, "N = 30 inferences x 3 repetitions")
     + check_file(c, "joulebench-report.html", "<svg")},
    {"key": "joulebench bench --task text-classification --data reviews.jsonl --text-column review --json > runs.json",
     "fixtures": ["reviews.jsonl"],
     "check": lambda c, o, e: check_file(c, "runs.json", '"task": "text-classification"')},
    {"key": "joulebench bench --task text-classification --model my_model.pt --input-length 128",
     "fixtures": ["my_model.pt"], "check": lambda c, o, e: expect_in(o, "my-model")},
    {"key": "joulebench bench --protocol study --shard 1/4 --store shard1.db", "parse_only": PARSE_ONLY_STUDY},
    {"key": 'joulebench bench --endpoint http://127.0.0.1:8000/v1/completions --model my-llm '
            '--server-pid "$(pgrep -o vllm)" --n 100',
     "server": "vllm", "check": lambda c, o, e: expect_in(o, "my-llm"),
     "parse_only_if_no_server": "a vLLM server on 127.0.0.1:8000"},
    {"key": "joulebench merge shard1.db shard2.db shard3.db shard4.db -o all.db && joulebench report --store all.db",
     "fixtures": ["shard stores"], "check": lambda c, o, e: expect_in(o + e, "4 runs now in all.db")},
    {"key": "joulebench carbon --kwh 11.49 --cloud aws:us-west-2", "check": lambda c, o, e: expect_in(o, "3.42 kg CO2e")},
    {"key": "joulebench carbon --kwh 0.5 --country FRA --pue hyperscale --json",
     "check": lambda c, o, e: check_json(o, lambda j: [] if (j.get("pue") == 1.1 and j.get("country_iso3") == "FRA")
                                         else [f"expected pue 1.1 and FRA, got {j.get('pue')} {j.get('country_iso3')}"])},
    {"key": "joulebench import codecarbon ../shared/reference/study-logs/complete ../shared/reference/study-logs/base",
     "check": lambda c, o, e: expect_in(o + e, "run(s) written", "0 file(s) failed")},
    {"key": "joulebench report --model-card RUN_ID", "replace": {"RUN_ID": run_id},
     "check": lambda c, o, e: expect_in(o, "co2_eq_emissions")},
    {"key": "joulebench exporter", "exporter": "http://127.0.0.1:9464/metrics"},
    {"key": "joulebench exporter --listen 0.0.0.0:9464 --token-file /etc/joulebench/token --tls-cert cert.pem "
            "--tls-key key.pem --country FRA",
     "parse_only": "needs /etc/joulebench/token and a TLS certificate and key (a deployment's secrets), and would "
                   "listen on every interface"},
    {"key": "joulebench bench --shard 3/8 --store 'postgresql://bench@db.internal/joulebench'",
     "parse_only": "needs the PostgreSQL server db.internal; and with no --task it is the default bench's shard"},
    {"key": "joulebench merge joulebench-spool-shard-3-of-8.db -o 'postgresql://bench@db.internal/joulebench'",
     "parse_only": "needs the PostgreSQL server db.internal (and the spool a failed shard leaves)"},
    {"key": "joulebench report --html report.html", "check": lambda c, o, e: check_file(c, "report.html", "<svg")},
    {"key": "joulebench report --by model --csv > models.csv", "check": lambda c, o, e: check_file(c, "models.csv", "gpt2")},
    {"key": "joulebench report --label gpt2 -o gpt2-label.svg",
     "check": lambda c, o, e: check_file(c, "gpt2-label.svg", "<svg")},
    {"key": "joulebench compare distilgpt2 gpt2", "check": lambda c, o, e: expect_in(o, "Welch")},
    {"key": "joulebench project --training-kwh 51686 --finetune-kwh 7571 --kwh-per-query 1e-4 --json",
     "check": lambda c, o, e: check_json(o, lambda j: [] if j.get("breakeven_queries") == 592570000 else
                                         [f"README says 592,570,000 queries; breakeven_queries is "
                                          f"{j.get('breakeven_queries')}"])},
    {"key": "joulebench models --json --task text-generation",
     "check": lambda c, o, e: check_json(o, lambda j: [] if j and all(m.get("task") == "text-generation" for m in j)
                                         else ["expected a non-empty list of text-generation models"])},
    {"key": "bash scripts/fetch_data.sh", "cwd": "source"},
    {"key": "import joulebench",
     "check": lambda c, o, e: [] if len(o.strip().splitlines()) >= 2 else ["expected the two print()s on stdout"]},
]


def matches(entry, example):
    return example.key.startswith(entry["key"]) if entry.get("prefix") else example.key == entry["key"]


# --------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------

def tail(text, n=TAIL_LINES):
    lines = (text or "").rstrip().splitlines()
    return "\n".join(("    " + l) for l in lines[-n:])


def describe_exit(rc):
    """'exit code 2', or the signal that killed it (directly: rc < 0; through bash: 128 + N)."""
    if isinstance(rc, int) and (rc < 0 or 128 < rc < 128 + 65):
        n = -rc if rc < 0 else rc - 128
        try:
            name = signal.Signals(n).name
        except ValueError:
            name = f"signal {n}"
        return f"exit code {rc}: killed by {name}"
    return f"exit code {rc}"


def build_stamp():
    """Modification times of the binary and the plugins beside it: a rebuild while this test runs (a
    half-written plugin, a binary and plugins of two builds) crashes examples for no fault of theirs."""
    here = os.path.dirname(os.path.realpath(BINARY))
    paths = [os.path.realpath(BINARY)] + sorted(os.path.join(here, f) for f in os.listdir(here) if f.endswith(".so"))
    return {p: os.stat(p).st_mtime_ns for p in paths if os.path.exists(p)}


def run_exporter(ctx, ex, argv_text, url, log_out, log_err):
    """Starts the exporter as written, reads url, stops it. Returns (rc, problems)."""
    problems = []
    with open(log_out, "w") as out, open(log_err, "w") as err:
        p = subprocess.Popen(["bash", "-c", argv_text], cwd=ctx.work, env=ctx.env, stdout=out, stderr=err,
                             start_new_session=True)
        body = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and p.poll() is None:
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    body = r.read().decode("utf-8", "replace")
                break
            except OSError:
                time.sleep(0.2)
        if p.poll() is not None:
            problems.append(f"the exporter exited ({p.returncode}) instead of serving")
            return p.returncode, problems
        if body is None:
            problems.append(f"{url} did not answer within 30 s")
        else:
            problems += expect_in(body, "joulebench_", "joulebench_energy_joules_total{component=")
        os.killpg(p.pid, signal.SIGTERM)  # bash and the exporter it runs: the group this test started
        try:
            rc = p.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            problems.append("the exporter did not stop within 15 s of SIGTERM")
            return p.returncode, problems
    # Stopped by us: 0 or the shell's report of SIGTERM both mean it served and stopped.
    if rc not in (0, -signal.SIGTERM, 128 + signal.SIGTERM):
        problems.append(f"the exporter exited {rc} after SIGTERM")
    return 0 if not problems else (rc or 1), problems


def main():
    if not BINARY or not os.access(BINARY, os.X_OK):
        print(f"JOULEBENCH_BINARY is not an executable: {BINARY!r}", file=sys.stderr)
        return 2
    examples, others = read_examples(README)
    failures = []

    # The table against the README: every entry names an example there.
    for entry in SPECIAL:
        if not any(matches(entry, ex) for ex in examples):
            failures.append(f"SPECIAL entry {entry['key']!r} matches no example of README.md: the README changed; "
                            f"update the table (tests/readme/readme_examples_test.py)")
    if not examples:
        failures.append("no ```sh or ```python example found in README.md")

    stamp = build_stamp()
    scratch = tempfile.mkdtemp(prefix="jb-readme-")
    ctx = Context(scratch)
    summary = []  # (line, key, status, seconds)
    try:
        for n, ex in enumerate(examples, 1):
            entry = next((e for e in SPECIAL if matches(e, ex)), {})
            label = ex.key if len(ex.key) <= 110 else ex.key[:107] + "..."
            if "skip" in entry:
                summary.append((ex.line, label, f"skipped ({entry['skip']})", None))
                continue
            started = time.monotonic()
            log_out = os.path.join(ctx.logs, f"{n:02d}.out")
            log_err = os.path.join(ctx.logs, f"{n:02d}.err")
            problems = []
            status = "ran"
            env = dict(ctx.env)
            text = ex.text
            try:
                for name in entry.get("fixtures", []):
                    if name not in ctx.made:
                        FIXTURES[name](ctx)
                        ctx.made.add(name)
                parse_only = entry.get("parse_only")
                if entry.get("server") == "vllm":
                    why_not = start_fake_vllm(ctx)
                    if why_not:
                        parse_only = f"{why_not}; needs {entry['parse_only_if_no_server']}"
                if "exporter" in entry and not port_free(9464):
                    parse_only = ("port 9464 on 127.0.0.1 is taken here (another exporter?), so the exporter cannot "
                                  "listen on its default address")
                for placeholder, value in entry.get("replace", {}).items():
                    v = value(ctx)
                    text = re.sub(r"\b%s\b" % re.escape(placeholder), v, text)
                    status = f"ran ({placeholder} = {v})"
                if parse_only:
                    env["JOULEBENCH_PARSE_ONLY"] = "1"
                    status = f"parse-only ({parse_only})"
            except (RuntimeError, OSError, subprocess.SubprocessError) as e:
                ctx.stop_servers()
                summary.append((ex.line, label, "FAILED (fixture)", time.monotonic() - started))
                failures.append(f"README.md:{ex.line}: {ex.key}\n  its fixture failed: {e}")
                continue

            cwd = SOURCE if entry.get("cwd") == "source" else ctx.work
            if entry.get("cwd") == "source":
                status += " (in the source folder)"
            if "exporter" in entry and not parse_only:
                rc, problems = run_exporter(ctx, ex, text, entry["exporter"], log_out, log_err)
                status += f" (served {entry['exporter']}, then stopped)"
            else:
                if ex.lang == "python":
                    block = os.path.join(ctx.scratch, "readme_python_block.py")
                    with open(block, "w") as f:
                        f.write(text)
                    runner = os.path.join(ctx.scratch, "run_python_block.py")
                    with open(runner, "w") as f:
                        f.write(PYTHON_RUNNER)
                    pydir = os.path.join(os.path.dirname(os.path.realpath(BINARY)), "python")
                    env["PYTHONPATH"] = os.environ.get("JOULEBENCH_PYTHONPATH", pydir)
                    argv = ["/usr/bin/python3", runner, block]
                    status += " (run_inference() a stand-in)"
                else:
                    argv = ["bash", "-c", text]
                with open(log_out, "w") as out, open(log_err, "w") as err:
                    p = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=err, start_new_session=True)
                    try:
                        rc = p.wait(entry.get("timeout", 300))
                    except subprocess.TimeoutExpired:
                        os.killpg(p.pid, signal.SIGKILL)
                        p.wait()
                        rc = "timeout"
                        problems.append(f"did not finish within {entry.get('timeout', 300)} s")
            ctx.stop_servers()
            if "vllm" in ctx.notes:
                status += " " + ctx.notes.pop("vllm")
            seconds = time.monotonic() - started
            with open(log_out, errors="replace") as f:
                stdout = f.read()
            with open(log_err, errors="replace") as f:
                stderr = f.read()
            if rc != 0 and not problems:
                problems.append(describe_exit(rc))
            if not problems and entry.get("check") and not parse_only:
                problems += entry["check"](ctx, stdout, stderr)
            if parse_only and rc == 0 and "arguments accepted" not in stdout:
                problems.append("JOULEBENCH_PARSE_ONLY=1 did not say 'arguments accepted'")
            if problems:
                status = "FAILED: " + "; ".join(problems) + " [" + status + "]"
                failures.append(f"README.md:{ex.line}: {ex.key}\n  ran as: {text if ex.lang == 'sh' else 'python block'}"
                                f"\n  {'; '.join(problems)} (exit code {rc})"
                                f"\n  stdout (last lines):\n{tail(stdout)}\n  stderr (last lines):\n{tail(stderr)}")
            summary.append((ex.line, label, status, seconds))
    finally:
        ctx.stop_servers()
        if os.environ.get("JOULEBENCH_KEEP_SCRATCH") == "1":
            print(f"scratch kept: {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)

    print(f"README.md examples ({len(examples)}), in README order:")
    total = 0.0
    for line, key, status, seconds in summary:
        t = "      -" if seconds is None else f"{seconds:6.1f}s"
        total += seconds or 0
        print(f"  {t}  README.md:{line:<4} {key}\n           -> {status}")
    print(f"  total {total:.1f} s")
    if others:
        print("not run here (not sh or python): " + ", ".join(f"```{lang} at README.md:{line}" for lang, line in others)
              + " (the cmake/cpp examples are built and run by tests/install and tests/meter/readme_example.cpp)")
    rebuilt = [p for p, t in build_stamp().items() if stamp.get(p) != t]
    if rebuilt and failures:
        failures.append("note: these files were rebuilt while the test ran, which may explain crashes above: "
                        + ", ".join(rebuilt))
    if failures:
        print(f"\n{len(failures)} failure(s):", file=sys.stderr)
        for f in failures:
            print("- " + f, file=sys.stderr)
        return 1
    print("all README examples passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
