#!/usr/bin/env bash
# `cpack -G DEB` builds a Debian package from the install rules: the binary,
# its plugins, data, headers, library, CMake and pkg-config files and the
# Python package under /usr, with Depends computed by dpkg-shlibdeps.
#   cpack_deb_test.sh BUILD_DIR
set -euo pipefail
build="$1"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "cpack_deb_test: FAIL: $*" >&2; exit 1; }
(cd "$build" && cpack -G DEB -B "$tmp" >"$tmp/cpack.log" 2>&1) || fail "cpack: $(tail -5 "$tmp/cpack.log")"
deb="$(ls "$tmp"/*.deb 2>/dev/null | head -1)"
[[ -n "$deb" ]] || fail "no .deb in $tmp: $(tail -5 "$tmp/cpack.log")"
dpkg-deb --contents "$deb" >"$tmp/contents"
for f in ./usr/bin/joulebench ./usr/lib/joulebench/libjoulebench_zoo.so ./usr/lib/joulebench/libjoulebench_net.so \
  ./usr/share/joulebench/fortunes/ ./usr/include/joulebench/tracker.h ./usr/lib/libjoulebench.so \
  ./usr/lib/cmake/joulebench/joulebenchConfig.cmake ./usr/lib/pkgconfig/joulebench.pc; do
  grep -q " $f" "$tmp/contents" || fail "$f is not in the package"
done
grep -qE " \./usr/lib/python3\.[0-9]+/dist-packages/joulebench/__init__\.py" "$tmp/contents" ||
  fail "the Python package is not in the package"
depends="$(dpkg-deb --field "$deb" Depends)"
for d in libtorch1.13 libopenblas0-pthread libc6 libstdc++6 libfmt9; do
  [[ "$depends" == *"$d"* ]] || fail "Depends lacks $d: $depends"
done
echo "cpack_deb_test: ok: $(basename "$deb"), Depends: $depends"
