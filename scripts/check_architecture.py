#!/usr/bin/python3
"""The arrows that must never exist between joulebench's parts (docs/architecture.md).

Reads every #include under src/ and fails, naming file:line, when
  - a concern includes another concern's internal header ("meter/window.h"
    from src/export): internals are private; generic helpers live in core/;
  - a concern includes a public header its layer must not know
    (sensors know nothing of the meter; models neither measure nor print;
    storage does not format; core is vocabulary only);
  - models, sensors or the store print (fmt::print, std::cout, printf).
Run by CTest (label architecture) and on its own:
  /usr/bin/python3 scripts/check_architecture.py [SOURCE_ROOT]
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent.parent)
SRC = ROOT / "src"
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
PRINT = re.compile(r"\bfmt::print\s*\(|\bstd::(cout|cerr)\b|(?<![\w:])printf\s*\(")

# Internal folders a concern may include besides its own and core/: net/ is the
# network service (HTTP client and server, the PostgreSQL connector).
SERVICES = {"net": {"carbon", "store", "bench", "export"}}
# The one composition the plugin exists for: libjoulebench_net.so carries the
# PostgreSQL store, so its entry point names the store's connector.
ALLOWED = {("src/net/plugin.cpp", "store/store_backends.h")}

MEASURING = {"meter.h", "tracker.h", "meter_output.h"}
FORMATTING = {"report.h", "report_html.h", "meter_output.h", "readable.h"}
ORCHESTRATING = {"bench.h", "compare.h", "projection.h", "study.h", "exporter.h"}
FORBIDDEN_PUBLIC = {
    # Vocabulary and helpers only.
    "core": MEASURING | {"report.h", "report_html.h", "store.h", "carbon.h", "sensor.h", "codecarbon.h"} | ORCHESTRATING,
    # A sensor reads a counter; windows, stores and reports are the meter's business.
    "sensors": MEASURING | FORMATTING | ORCHESTRATING | {"store.h", "carbon.h", "codecarbon.h"},
    # Models compute; they neither measure nor print nor store.
    "models": MEASURING | FORMATTING | ORCHESTRATING | {"store.h", "carbon.h", "sensor.h", "codecarbon.h"},
    # Storage keeps records; it does not format them or run campaigns.
    "store": FORMATTING | ORCHESTRATING | MEASURING - {"meter.h"},
    # The meter turns readings into energy; what is done with it is not its business.
    "meter": {"store.h", "report.h", "report_html.h", "codecarbon.h", "models.h"} | ORCHESTRATING,
}
SILENT = {"models", "sensors", "store"}


def concern_of(path):
    return path.relative_to(SRC).parts[0]


def main():
    problems = []
    for path in sorted(SRC.rglob("*")):
        if path.suffix not in {".h", ".cpp", ".c"}:
            continue
        concern = concern_of(path)
        rel = path.relative_to(ROOT).as_posix()
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            m = INCLUDE.match(line)
            if m:
                target = m.group(1)
                folder, _, name = target.partition("/")
                if not name:
                    continue  # a header beside the file
                if folder == "joulebench":
                    if name in FORBIDDEN_PUBLIC.get(concern, set()):
                        problems.append(f"{rel}:{number}: {concern} must not include joulebench/{name}")
                elif folder not in {concern, "core"} and concern not in SERVICES.get(folder, set()) \
                        and (rel, target) not in ALLOWED and (SRC / folder).is_dir():
                    problems.append(f"{rel}:{number}: {concern} includes {folder}'s internal header {target}; "
                                    f"use a public header, or move a generic helper to core/")
            if concern in SILENT and PRINT.search(line) and not line.lstrip().startswith("//"):
                problems.append(f"{rel}:{number}: {concern} prints; return the text or throw instead")
    for p in problems:
        print(p)
    if problems:
        print(f"check_architecture: {len(problems)} forbidden arrow(s); see docs/architecture.md", file=sys.stderr)
        return 1
    print("check_architecture: no forbidden arrow")
    return 0


if __name__ == "__main__":
    sys.exit(main())
