#!/usr/bin/env python3
"""Time tenantlint on trees and print figures (speed targets live here, never in unit tests).

    python bench/bench.py PATH [PATH ...] [--jobs 1 --jobs 2] [--config FILE]

For each path: Python files and lines in the tree, then per job count the wall time of a whole
`tenantlint check` run (a fresh process, as a user runs it), lines per second, and the peak memory of the run.
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path


def tree_size(path: Path) -> tuple[int, int]:
    files = lines = 0
    for folder, dirs, names in os.walk(path):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in ("node_modules", "venv")]
        for name in names:
            if name.endswith(".py"):
                files += 1
                with open(os.path.join(folder, name), "rb") as fh:
                    lines += fh.read().count(b"\n")
    return files, lines


def timed_run(cmd: list[str]) -> tuple[float, float, int]:
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # child: run the command, report its own peak memory via wait4
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.execvp(cmd[0], cmd)
    _, status, usage = os.wait4(pid, 0)
    return time.perf_counter() - started, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--jobs", action="append", type=int)
    parser.add_argument("--config", type=Path)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    for path in args.paths:
        files, lines = tree_size(path)
        print(f"{path}: {files} Python files, {lines} lines")
        for jobs in args.jobs or [1, 0]:
            cmd = [sys.executable, "-m", "tenantlint.cli", "check", str(path), "--format", "json", "--exit-zero", "--jobs", str(jobs)]
            if args.config:
                cmd += ["--config", str(args.config)]
            seconds, peak_mb, code = timed_run(cmd)
            label = f"jobs={jobs or os.cpu_count()}"
            print(f"  {label:<8} {seconds:7.2f} s  {lines / seconds:9.0f} lines/s  peak {peak_mb:6.0f} MB  exit {code}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
