#!/usr/bin/env bash
# scripts/gpu_check.sh without a GPU: `prepare` packs what a bare GPU machine
# needs, and the pack works copied away from this build (where the GPU
# machine sees only the carried folder): the binary starts, the exporter
# finds its network plugin in the pack and serves /metrics, measure runs.
# Then `run` without nvidia-smi says so and exits 2.
# Usage: gpu_check_pack_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build="$1"
source="$2"
tmp="$(mktemp -d)"
exporter=""
cleanup() {
  [[ -n "$exporter" ]] && kill "$exporter" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

JOULEBENCH_BUILD_DIR="$build" bash "$source/scripts/gpu_check.sh" prepare > "$tmp/prepare.log" 2>&1 ||
  fail "prepare: $(tail -5 "$tmp/prepare.log")"
cp -r "$build/gpu-check" "$tmp/pack"
pack="$tmp/pack"
for f in bin/joulebench bin/gpu_load lib/joulebench/libjoulebench_net.so lib/libfmt.so.9 lib/libcpp-httplib.so.0.11 \
         lib/libcrypto.so.3; do
  [[ -e "$pack/$f" ]] || fail "the pack has no $f: $(ls -R "$pack" | head -50)"
done
# glibc stays the machine's own: a copied libc or libresolv would clash with it.
for f in libc.so.6 libm.so.6 libresolv.so.2; do
  [[ ! -e "$pack/lib/$f" ]] || fail "the pack copies glibc's $f"
done

# As the GPU machine runs it: from elsewhere, only the pack's libraries added.
run_packed() { (cd "$tmp" && env -i PATH=/usr/bin:/bin HOME="$tmp" LD_LIBRARY_PATH="$pack/lib" "$pack/bin/joulebench" "$@"); }
run_packed --version > "$tmp/version.txt" 2>&1 || fail "the packed binary does not start: $(cat "$tmp/version.txt")"
run_packed measure --country USA -- true > "$tmp/measure.txt" 2>&1 || fail "packed measure: $(cat "$tmp/measure.txt")"
grep -q "Energy of: true" "$tmp/measure.txt" || fail "packed measure printed no summary: $(cat "$tmp/measure.txt")"

port="$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
run_packed exporter --listen "127.0.0.1:$port" --interval 0.5 --country USA > "$tmp/exporter.log" 2>&1 &
exporter=$!
metrics=""
for _ in $(seq 1 50); do
  metrics="$(/usr/bin/python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:$port/metrics', timeout=2).read().decode())" 2>/dev/null)" && break
  kill -0 "$exporter" 2>/dev/null || fail "the packed exporter exited: $(cat "$tmp/exporter.log")"
  sleep 0.2
done
grep -q '^joulebench_energy_joules_total{component="cpu"}' <<< "$metrics" ||
  fail "no metrics from the packed exporter: $(cat "$tmp/exporter.log") ${metrics:0:300}"

# No GPU here: run says so, exit 2, and writes the report.
set +e
env PATH=/usr/bin:/bin JOULEBENCH_BUILD_DIR="$build" bash "$source/scripts/gpu_check.sh" run "$tmp/out" > "$tmp/run.log" 2>&1
code=$?
set -e
[[ $code -eq 2 ]] || fail "run without a GPU exited $code, not 2: $(cat "$tmp/run.log")"
grep -q "no NVIDIA GPU here" "$tmp/out/report.md" || fail "no report of the missing GPU: $(cat "$tmp/run.log")"
echo "gpu_check pack: ok"
