#!/usr/bin/env bash
# The GPU check: joulebench's NVML path against a real NVIDIA GPU, the one part
# CI can only test with a fake NVML library (docs/measurement.md, "NVIDIA GPUs").
#
#   bash scripts/gpu_check.sh prepare        here: builds joulebench and a small CUDA load
#                                            (scripts/gpu_load.cpp, plain g++: no CUDA toolkit),
#                                            and gathers them with the shared libraries they
#                                            need into build/gpu-check/ (carry that folder)
#   bash scripts/gpu_check.sh run [OUT]      on the GPU machine (one short call, about 1 min):
#                                            sensors, doctor, then measure around 20 s of load;
#                                            also the GPU at rest, a 0.2 s window, and one
#                                            exporter scrape during a load;
#                                            compares NVML's energy counter (what measure uses)
#                                            with nvidia-smi's power readings integrated over the
#                                            same time, and writes OUT/report.md (OUT: $OUT, else
#                                            build/gpu-check/out)
#
# JOULEBENCH_BUILD_DIR: the build folder to pack from (default build/; the pack
# goes in its gpu-check/). Exit codes: 0 report written and the two agree
# within 5 %; 1 they do not, or a step failed; 2 no NVIDIA GPU here.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${JOULEBENCH_BUILD_DIR:-$here/build}"
pack="$build/gpu-check"
load_s="${GPU_CHECK_SECONDS:-20}"

prepare() {
  cd "$here"
  [[ -x "$build/joulebench" ]] || bash scripts/setup.sh build
  rm -rf "$pack"
  mkdir -p "$pack/bin" "$pack/lib"
  cp "$build/joulebench" "$pack/bin/"
  g++ -O2 -std=c++17 -o "$pack/bin/gpu_load" scripts/gpu_load.cpp -ldl
  # The network plugin (the exporter's HTTP server) where the binary looks for
  # it, <bin>/../lib/joulebench; the libraries both link in lib/: the GPU
  # machine may lack them (libc and the loader stay the machine's own).
  mkdir -p "$pack/lib/joulebench"
  cp "$build/libjoulebench_net.so" "$pack/lib/joulebench/"
  ldd "$build/joulebench" "$build/libjoulebench_net.so" | awk '$3 ~ /^\// {print $3}' | sort -u |
    grep -vE '/((libc|libm|libdl|libpthread|librt|libresolv)\.so\.[0-9]+|ld-linux[^/]*)$' |
    while read -r lib; do cp -L "$lib" "$pack/lib/"; done
  du -sh "$pack"
  echo "gpu_check: carry build/gpu-check, then run: bash scripts/gpu_check.sh run"
}

# The exporter on the real driver: a load runs, one scrape; the load's PID
# should carry GPU energy (NVML's process list). No curl assumed: bash's /dev/tcp.
exporter_check() {
  local jb="$1" out="$2" port=19464
  "$jb" exporter --listen "127.0.0.1:$port" --interval 0.5 --country USA --gpu 0 > "$out/exporter.log" 2>&1 &
  local exp=$!
  "$pack/bin/gpu_load" 8 0 > /dev/null 2>&1 &
  local load=$!
  sleep 6
  { exec 3<>"/dev/tcp/127.0.0.1/$port" && printf 'GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3 && cat <&3 > "$out/metrics.txt"; } 2>> "$out/exporter.log" || true
  exec 3<&- 2>/dev/null || true
  wait "$load" 2>/dev/null || true
  kill "$exp" 2>/dev/null || true
  wait "$exp" 2>/dev/null || true
  echo "$load" > "$out/exporter-load-pid.txt"
}

run() {
  local out="${1:-${OUT:-$pack/out}}"
  mkdir -p "$out"
  export LD_LIBRARY_PATH="$pack/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  local jb="$pack/bin/joulebench"
  local report="$out/report.md"
  if ! nvidia-smi -L > "$out/nvidia-smi-L.txt" 2>&1; then
    echo "gpu_check: no NVIDIA GPU here (nvidia-smi -L failed)" | tee "$report"
    return 2
  fi
  "$jb" --version > "$out/version.txt" 2>&1 || { echo "gpu_check: the packed joulebench does not start here:"; cat "$out/version.txt"; return 1; }
  "$jb" sensors --json > "$out/sensors.json" 2> "$out/sensors.err" || true
  "$jb" sensors > "$out/sensors.txt" 2>&1 || true
  "$jb" doctor --json > "$out/doctor.json" 2> "$out/doctor.err" || true

  # nvidia-smi's power readings every 100 ms while joulebench measures the load.
  nvidia-smi -i 0 --query-gpu=power.draw --format=csv,noheader,nounits -lms 100 > "$out/smi-power.csv" 2>&1 &
  local smi=$!
  sleep 1
  local t0 t1
  t0=$(date +%s.%N)
  "$jb" measure --country USA --gpu 0 --json "$out/measure.json" -- "$pack/bin/gpu_load" "$load_s" 0 \
    > "$out/measure.out" 2> "$out/measure.err" || { kill "$smi"; cat "$out/measure.err"; return 1; }
  t1=$(date +%s.%N)
  sleep 1
  kill "$smi" 2>/dev/null || true
  wait "$smi" 2>/dev/null || true

  # The GPU at rest, and a window shorter than the driver's update period:
  # what measure says of each (resolution notes, coarse marks), read in the report.
  "$jb" measure --country USA --gpu 0 -- sleep 3 > "$out/measure-idle.out" 2>&1 || true
  "$jb" measure --country USA --gpu 0 -- "$pack/bin/gpu_load" 0.2 0 > "$out/measure-short.out" 2>&1 || true
  "$jb" measure --country USA --gpu 7 -- sleep 0.5 > "$out/measure-nogpu.out" 2>&1 || true
  exporter_check "$jb" "$out"

  # joulebench's GPU energy (NVML's total-energy counter) and its provenance.
  # (No jq or Python assumed on that machine: the JSON is flattened and grepped.)
  local flat jb_gpu_j provenance duration
  flat=$(tr -d '\n' < "$out/measure.json" | tr -s ' ')
  jb_gpu_j=$(grep -o '"component": "gpu"[^}]*' <<< "$flat" | grep -o '"energy_j": [0-9.e+-]*' | head -1 | awk '{print $2}' || true)
  provenance=$(grep -o '"component": "gpu"[^}]*' <<< "$flat" | grep -o '"provenance": "[^"]*"' | head -1 | cut -d'"' -f4 || true)
  duration=$(grep -o '"duration_s": [0-9.e+-]*' <<< "$flat" | tail -1 | awk '{print $2}' || true)
  # nvidia-smi's readings inside the measured seconds: the file has one sample
  # per 100 ms from 1 s before t0 to 1 s after t1, so drop 10 at each end.
  local smi_j
  smi_j=$(grep -E '^[0-9.]+$' "$out/smi-power.csv" | awk -v d="$duration" '
    { p[NR] = $1 } END { n = 0; s = 0; for (i = 11; i <= NR - 10; i++) { s += p[i]; n++ }
                         if (n > 0) printf "%.3f", s / n * d; else print "" }' || true)
  {
    echo "# joulebench GPU check, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo
    echo '```'; cat "$out/nvidia-smi-L.txt"; cat "$out/version.txt"; echo '```'
    echo
    echo "Load: scripts/gpu_load.cpp, ${load_s} s of FMA spinning on device 0; measured by \`joulebench measure --gpu 0\`."
    echo
    echo "| figure | joules |"
    echo "| --- | --- |"
    echo "| joulebench, GPU ($provenance), ${duration} s | ${jb_gpu_j:-none} |"
    echo "| nvidia-smi power.draw (NVML power) x time, mean of its 100 ms readings x ${duration} s | ${smi_j:-none} |"
    if [[ -n "${jb_gpu_j:-}" && -n "${smi_j:-}" ]]; then
      echo "| ratio joulebench / nvidia-smi | $(awk -v a="$jb_gpu_j" -v b="$smi_j" 'BEGIN { printf "%.4f", a / b }') |"
    fi
    echo
    echo "Sensors as joulebench sees them:"
    echo '```'; cat "$out/sensors.txt"; echo '```'
    echo "Warnings of the measurement:"
    echo '```'; cat "$out/measure.err"; echo '```'
    echo "The GPU at rest (\`measure --gpu 0 -- sleep 3\`):"
    echo '```'; cat "$out/measure-idle.out"; echo '```'
    echo "A 0.2 s load (the CUDA context's start included):"
    echo '```'; cat "$out/measure-short.out"; echo '```'
    echo "A GPU asked for that is not there (\`measure --gpu 7\`):"
    echo '```'; cat "$out/measure-nogpu.out"; echo '```'
    echo "Exporter, one scrape during an 8 s load (PID $(cat "$out/exporter-load-pid.txt" 2>/dev/null)): GPU and process series"
    echo '```'; grep -E '^joulebench_(energy_joules_total|power_watts|process_energy_joules_total|sensor_up)' "$out/metrics.txt" 2>/dev/null | head -40 || true; tail -5 "$out/exporter.log"; echo '```'
  } > "$report"
  cat "$report"
  [[ -n "${jb_gpu_j:-}" && -n "${smi_j:-}" ]] || return 1
  awk -v a="$jb_gpu_j" -v b="$smi_j" 'BEGIN { r = a / b; exit (r > 0.95 && r < 1.05) ? 0 : 1 }'
}

case "${1:-}" in
  prepare) prepare ;;
  run) shift; run "$@" ;;
  *) echo "usage: scripts/gpu_check.sh prepare | run [OUT]" >&2; exit 2 ;;
esac
