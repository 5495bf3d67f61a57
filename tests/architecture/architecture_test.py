#!/usr/bin/python3
"""scripts/check_architecture.py: the real tree has no forbidden arrow, and a
tree with one of each kind is refused with file:line."""
import pathlib
import subprocess
import sys
import tempfile

SOURCE = pathlib.Path(sys.argv[1])
SCRIPT = SOURCE / "scripts" / "check_architecture.py"


def run(root):
    return subprocess.run(["/usr/bin/python3", str(SCRIPT), str(root)], capture_output=True, text=True)


def main():
    real = run(SOURCE)
    assert real.returncode == 0, real.stdout + real.stderr

    with tempfile.TemporaryDirectory() as tmp:
        root = pathlib.Path(tmp)
        files = {
            "src/sensors/rapl.cpp": '#include "joulebench/meter.h"\n',
            "src/export/collector.cpp": '#include "meter/window.h"\n',
            "src/models/bert.cpp": '#include "core/text_util.h"\nvoid f() { fmt::print("x"); }\n',
            "src/store/db.cpp": '#include "joulebench/report.h"\n',
            "src/meter/window.h": "#pragma once\n",
            "src/core/ok.cpp": '#include "core/text_util.h"\n#include "joulebench/energy.h"\n',
        }
        for name, text in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text)
        bad = run(root)
        assert bad.returncode == 1, bad.stdout
        for expected in [
            "src/sensors/rapl.cpp:1: sensors must not include joulebench/meter.h",
            "src/export/collector.cpp:1: export includes meter's internal header meter/window.h",
            "src/models/bert.cpp:2: models prints",
            "src/store/db.cpp:1: store must not include joulebench/report.h",
        ]:
            assert expected in bad.stdout, f"missing: {expected}\n{bad.stdout}"
        assert "src/core/ok.cpp" not in bad.stdout, bad.stdout
    print("architecture_test: ok")


if __name__ == "__main__":
    main()
