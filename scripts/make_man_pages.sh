#!/bin/bash
# Man pages from the commands' own --help (help2man, Debian package
# help2man): joulebench(1) and one joulebench-COMMAND(1) per subcommand, as
# git does. The list of subcommands is read from `joulebench --help`, so a new
# command gets its page without an edit here.
#   scripts/make_man_pages.sh BINARY OUTDIR VERSION
set -euo pipefail
binary=$1 out=$2 version=$3
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Each page's program is a wrapper that runs the binary as plain `joulebench`
# (the usage line shows no build path).
wrapper() {  # NAME [SUBCOMMAND]
  printf '#!/bin/bash\nexec -a joulebench %q %s "$@"\n' "$binary" "${2:-}" >"$work/$1"
  chmod +x "$work/$1"
}

see_also=""
commands=()
while IFS= read -r line; do
  commands+=("$line")
done < <("$binary" --help | sed -n '/^Subcommands:/,$p' | sed -n 's/^  \([a-z][a-z-]*\)  .*/\1/p')
[ ${#commands[@]} -gt 0 ] || { echo "make_man_pages: no subcommands in '$binary --help'" >&2; exit 1; }
for c in "${commands[@]}"; do see_also+="${see_also:+, }joulebench-$c(1)"; done

printf '[SEE ALSO]\n%s\n\nThe contracts of every output: the docs/ folder of the source tree.\n' "$see_also" >"$work/see-also.h2m"
wrapper joulebench
help2man --no-info --no-discard-stderr --version-string="$version" --section=1 \
  --name="energy and carbon cost of AI inference, measured honestly" --include="$work/see-also.h2m" \
  --output="$out/joulebench.1" "$work/joulebench"
for c in "${commands[@]}"; do
  name=$("$binary" --help | sed -n "s/^  $c  *//p" | head -1)
  wrapper "joulebench-$c" "$c"
  printf '[SEE ALSO]\njoulebench(1)\n' >"$work/parent.h2m"
  help2man --no-info --no-discard-stderr --version-string="$version" --section=1 --name="$name" \
    --include="$work/parent.h2m" --output="$out/joulebench-$c.1" "$work/joulebench-$c"
done
echo "make_man_pages: $((${#commands[@]} + 1)) pages in $out"
