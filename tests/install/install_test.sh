#!/usr/bin/env bash
# `cmake --install` gives a relocatable tree (issue 17): installed to one
# prefix, moved elsewhere, run from an unrelated folder, the binary finds its
# plugins (the zoo, the network plugin) and its data (the bench's texts)
# relative to itself, neither it nor its plugins hold a path of the build or
# source tree, the Python package imports and measures from there, and the
# README's C++ example builds against it with find_package and pkg-config.
#   install_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build="$1"
source="$2"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "install_test: FAIL: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$tmp/prefix" >"$tmp/install.log" || fail "cmake --install: $(tail -5 "$tmp/install.log")"
for f in bin/joulebench lib/joulebench/libjoulebench_zoo.so lib/joulebench/libjoulebench_net.so \
  share/joulebench/fortunes include/joulebench/joulebench.h include/joulebench/version.h lib/libjoulebench.so \
  lib/cmake/joulebench/joulebenchConfig.cmake lib/pkgconfig/joulebench.pc; do
  [[ -e "$tmp/prefix/$f" ]] || fail "$f is not installed"
done
[[ ! -e "$tmp/prefix/share/joulebench/openai" ]] || fail "the tests' npm client was installed"

# A man page per command, from its --help, with no build path in its usage line.
man1="$tmp/prefix/share/man/man1"
for c in $("$tmp/prefix/bin/joulebench" --help | sed -n '/^Subcommands:/,$p' | sed -n 's/^  \([a-z][a-z-]*\)  .*/\1/p'); do
  page="$man1/joulebench-$c.1"
  [[ -s "$page" ]] || fail "no man page for joulebench $c"
  grep -q "^\.TH JOULEBENCH-${c^^} \"1\"" "$page" || fail "$page: no .TH header: $(head -5 "$page")"
  sed -n '/^\.SH SYNOPSIS/,/^\.SH DESCRIPTION/p' "$page" | tr -d '\n' | grep -q "^\.SH SYNOPSIS\.B joulebench.*$c" ||
    fail "$page: no synopsis 'joulebench $c'"
  if grep -F -e "$build" -e "$source" "$page" >"$tmp/paths"; then fail "$page holds build paths: $(head -2 "$tmp/paths")"; fi
done
grep -q "joulebench-bench(1)" "$man1/joulebench.1" || fail "joulebench(1) does not point to joulebench-bench(1)"
grep -q -F 'B\-\-task\fR TEXT' "$man1/joulebench-bench.1" || fail "joulebench-bench(1) lacks bench's options"

# No build or source path inside: the tree must work once they are gone.
for f in "$tmp"/prefix/bin/joulebench "$tmp"/prefix/lib/joulebench/*.so "$tmp"/prefix/lib/libjoulebench.so; do
  if strings "$f" | grep -F -e "$build" -e "$source" >"$tmp/paths"; then
    fail "$f holds build or source paths: $(head -3 "$tmp/paths")"
  fi
done

mv "$tmp/prefix" "$tmp/moved"
mkdir "$tmp/elsewhere"
cd "$tmp/elsewhere"
jb="$tmp/moved/bin/joulebench"
env -u JOULEBENCH_DATA_DIR -u JOULEBENCH_ZOO_LIBRARY -u JOULEBENCH_NET_LIBRARY "$jb" --version | grep -q "^joulebench " ||
  fail "--version"
# The zoo plugin from moved/lib/joulebench.
env -u JOULEBENCH_ZOO_LIBRARY "$jb" models >"$tmp/models" 2>&1 || fail "models: $(tail -3 "$tmp/models")"
grep -q "tiny-distilbert-sst2" "$tmp/models" || fail "models lists no presets"
# The bench's built-in texts from moved/share/joulebench.
env -u JOULEBENCH_DATA_DIR -u JOULEBENCH_ZOO_LIBRARY JOULEBENCH_COUNTRY=FRA "$jb" bench \
  --model tiny-distilbert-sst2 --n 2 --reps 1 --idle-baseline 0 --no-report --json --store "$tmp/s.db" \
  >"$tmp/bench.json" 2>"$tmp/bench.err" || fail "bench: $(tail -3 "$tmp/bench.err")"
grep -q '"status": *"complete"' "$tmp/bench.json" || fail "bench: no complete run: $(head -c 300 "$tmp/bench.json")"
# The network plugin from moved/lib/joulebench (an unreachable PostgreSQL URL gets libpq's own answer).
env -u JOULEBENCH_NET_LIBRARY "$jb" report --store "postgresql://nobody@/x?host=$tmp/nothing" >"$tmp/pg" 2>&1 || true
grep -q "cannot connect to PostgreSQL" "$tmp/pg" || fail "the network plugin was not found: $(cat "$tmp/pg")"
# The Python package of the moved tree, with Debian's python3 (only where it was built: pybind11-dev).
pydir="$(ls -d "$tmp"/moved/lib/python3*/dist-packages 2>/dev/null | head -1 || true)"
if [[ -n "$pydir" ]]; then
  MOVED="$tmp/moved" PYTHONPATH="$pydir" env -u JOULEBENCH_NET_LIBRARY -u JOULEBENCH_DATA_DIR /usr/bin/python3 -c '
import os, joulebench
with joulebench.Tracker(country="FRA") as t:
    sum(range(100000))
assert t.energy_j is not None and t.energy_j > 0, t.result
assert os.environ["JOULEBENCH_NET_LIBRARY"].startswith(os.environ["MOVED"]), os.environ["JOULEBENCH_NET_LIBRARY"]
' 2>"$tmp/py.err" || fail "python: $(tail -5 "$tmp/py.err")"
fi
# The README's C++ example, as written there, against the moved tree: with
# find_package(joulebench) and with pkg-config.
/usr/bin/python3 - "$source/README.md" "$tmp/example/main.cpp" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
library = text[text.index("## Library"):]
code = re.search(r"```cpp\n(.*?)```", library, re.S).group(1)
import os
os.makedirs(os.path.dirname(sys.argv[2]), exist_ok=True)
open(sys.argv[2], "w").write(code)
PY
cat >"$tmp/example/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.16)
project(readme_example CXX)
find_package(joulebench REQUIRED)
add_executable(app main.cpp)
target_link_libraries(app PRIVATE joulebench::joulebench)
CM
cmake -S "$tmp/example" -B "$tmp/example/build" -DCMAKE_PREFIX_PATH="$tmp/moved" >"$tmp/ex.log" 2>&1 ||
  fail "find_package(joulebench): $(tail -5 "$tmp/ex.log")"
cmake --build "$tmp/example/build" >"$tmp/ex.log" 2>&1 || fail "the README example does not build: $(tail -5 "$tmp/ex.log")"
"$tmp/example/build/app" >"$tmp/ex.out" 2>&1 || fail "the README example fails: $(cat "$tmp/ex.out")"
grep -q "^total " "$tmp/ex.out" || fail "the README example printed no total: $(cat "$tmp/ex.out")"
PKG_CONFIG_PATH="$tmp/moved/lib/pkgconfig" g++ -o "$tmp/example/app2" "$tmp/example/main.cpp" \
  $(PKG_CONFIG_PATH="$tmp/moved/lib/pkgconfig" pkg-config --cflags --libs joulebench) >"$tmp/ex.log" 2>&1 ||
  fail "pkg-config joulebench: $(tail -5 "$tmp/ex.log")"
"$tmp/example/app2" | grep -q "^total " || fail "the pkg-config build of the README example fails"
echo "install_test: ok: installed, moved to $tmp/moved, and every part found from there"
