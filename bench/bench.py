#!/usr/bin/env python3
"""Time tenantlint on trees and print figures (speed targets live here, never in unit tests).

    python bench/bench.py PATH [PATH ...] [--jobs 1 --jobs 2] [--config FILE] [--against CMD] [--bandit CMD]

`--against CMD` times another tenantlint (an older checkout's `.venv/bin/tenantlint`) on the same trees in the same
run, cold, so a change's cost is measured side by side on the same machine and load.

The project root is the configuration file's folder, so put a tenantlint.toml in the tree being measured
(or let it run with defaults) rather than pointing --config at a file elsewhere.

For each path: Python files and lines in the tree, then per job count the wall time of a whole
`tenantlint check` run (a fresh process, as a user runs it), lines per second, and the peak memory of the run.
"""
from __future__ import annotations

import argparse
import os
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


def timed_run(cmd: list[str]) -> tuple[float, float, int, str]:
    """Wall seconds, peak MB, exit code, and what the run found (so a run that checked nothing shows)."""
    import json
    import tempfile

    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        pid = os.fork()
        if pid == 0:  # child: run the command, report its own peak memory via wait4
            os.dup2(out.fileno(), 1)
            os.execvp(cmd[0], cmd)
        _, status, usage = os.wait4(pid, 0)
        seconds = time.perf_counter() - started
        out.seek(0)
        try:
            summary = json.loads(out.read())["summary"]
            found = f"{summary['files_checked']} files checked, {summary['files_parsed']} parsed, {summary['findings']} findings"
        except (ValueError, KeyError):
            found = "no JSON report"
    return seconds, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status), found


def timed_bandit(cmd: list[str], path: Path) -> tuple[float, float, int]:
    """bandit on the same tree, quiet, its JSON report discarded: wall seconds, peak MB, exit code."""
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.execvp(cmd[0], [*cmd, "-r", str(path), "-q", "-f", "json", "-x", ".venv,node_modules,tests,test"])
    _, status, usage = os.wait4(pid, 0)
    return time.perf_counter() - started, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--jobs", action="append", type=int)
    parser.add_argument("--config", type=Path)
    parser.add_argument("--against", help="another tenantlint command to time cold on the same trees, for comparison")
    parser.add_argument("--bandit", help="a bandit command (`bandit` or a venv's path) timed on the same trees, for the speed target")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    for path in args.paths:
        files, lines = tree_size(path)
        print(f"{path}: {files} Python files, {lines} lines")
        base = [sys.executable, "-m", "tenantlint.cli", "check", str(path), "--format", "json", "--exit-zero"]
        if args.config:
            base += ["--config", str(args.config)]
        for jobs in args.jobs or [1, 0]:
            seconds, peak_mb, code, found = timed_run(base + ["--jobs", str(jobs), "--no-cache"])
            label = f"jobs={jobs or os.cpu_count()}"
            print(f"  {label:<8} {seconds:7.2f} s  {lines / seconds:9.0f} lines/s  peak {peak_mb:6.0f} MB  exit {code}  no cache; {found}")
            if args.against:
                other = [*args.against.split(), *base[3:], "--jobs", str(jobs), "--no-cache"]
                o_seconds, o_peak, o_code, o_found = timed_run(other)
                print(f"  {'against':<8} {o_seconds:7.2f} s  {lines / o_seconds:9.0f} lines/s  peak {o_peak:6.0f} MB  exit {o_code}  "
                      f"no cache; {o_found}; this build takes {seconds / o_seconds:.2f}x its time")
            if args.bandit:
                b_seconds, b_peak, b_code = timed_bandit(args.bandit.split(), path)
                print(f"  {'bandit':<8} {b_seconds:7.2f} s  {lines / b_seconds:9.0f} lines/s  peak {b_peak:6.0f} MB  exit {b_code}  "
                      f"all its rules, one process; tenantlint takes {seconds / b_seconds:.2f}x its time")
        timed_run(base)  # fill the cache
        seconds, peak_mb, code, found = timed_run(base)
        print(f"  {'cached':<8} {seconds:7.2f} s  {lines / seconds:9.0f} lines/s  peak {peak_mb:6.0f} MB  exit {code}  second run, nothing changed; {found}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
