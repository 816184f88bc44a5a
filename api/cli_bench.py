"""``caseledger bench NAME [ARGS...]``: runs one of the measuring scripts in the source tree's
``bench/`` folder (``bench/bench_NAME.py``) with this interpreter, passing ARGS on."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[1]
PREFIX = "bench_"


def scripts(folder: Path | None = None) -> dict[str, Path]:
    """The benchmarks in ``folder`` (the source tree's ``bench/``) by name: ``read-models``…"""
    where = SOURCE / "bench" if folder is None else folder
    found = sorted(where.glob(f"{PREFIX}*.py")) if where.is_dir() else []
    return {path.stem.removeprefix(PREFIX).replace("_", "-"): path for path in found}


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``bench`` command to the ``caseledger`` parser."""
    names = ", ".join(scripts()) or "none: bench/ is in the source tree"
    bench = sub.add_parser(
        "bench",
        help="run a benchmark from bench/ and print its figures",
        description=f"Run bench/bench_NAME.py. Benchmarks: {names}. "
        "`caseledger bench NAME --help` shows a benchmark's options.",
    )
    bench.add_argument("name", help="which benchmark")
    bench.add_argument("options", nargs=argparse.REMAINDER, help="passed on to the benchmark")


def run(args: argparse.Namespace, folder: Path | None = None) -> int:
    """Run the named benchmark as a child process; return its exit status."""
    found = scripts(folder)
    script = found.get(args.name)
    if script is None:
        known = ", ".join(found) or "none (bench/ ships with the source tree, not the package)"
        print(f"no benchmark named {args.name!r}; expected one of: {known}", file=sys.stderr)
        return 2
    env = dict(os.environ)
    # The scripts import the packages from the tree they sit in.
    root = str(script.parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    print(f"+ {Path(sys.executable).name} {script.relative_to(root)} {' '.join(args.options)}")
    sys.stdout.flush()
    argv = [sys.executable, str(script), *args.options]
    return subprocess.run(argv, env=env, cwd=root, check=False).returncode
