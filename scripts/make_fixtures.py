#!/usr/bin/env python3
"""Regenerate every committed test fixture under Tests/Fixtures/.

How to run (from the repo root):

    python3 -m venv /work/venv && /work/venv/bin/pip install /opt/wheels/torch-*+cpu*.whl transformers safetensors tokenizers peft && /work/venv/bin/python scripts/make_fixtures.py

Runs every scripts/fixtures/*.py in sorted order, each in its own process with
this same interpreter, and stops at the first failure. Python is used ONLY to
generate fixtures; the product itself is Swift.
Pass script names (e.g. `mamba1`) to run only those.
"""
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def main() -> int:
    scripts = sorted((HERE / "fixtures").glob("*.py"))
    scripts = [s for s in scripts if not s.name.startswith("_")]
    wanted = set(a.removesuffix(".py") for a in sys.argv[1:])
    if wanted:
        scripts = [s for s in scripts if s.stem in wanted]
    if not scripts:
        print("no fixture scripts found/selected", file=sys.stderr)
        return 1
    for script in scripts:
        print(f"=== {script.relative_to(REPO)}", flush=True)
        # -P: do not put scripts/fixtures/ on sys.path, so a script named like a package
        # (e.g. tokenizers.py) cannot shadow that package for the other scripts.
        rc = subprocess.call([sys.executable, "-P", str(script)], cwd=REPO)
        if rc != 0:
            print(f"FAILED: {script.name} (exit {rc})", file=sys.stderr)
            return rc
    print("all fixtures generated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
