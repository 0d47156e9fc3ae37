#!/usr/bin/env python3
"""Run tenantlint on pinned commits of real multi-tenant projects and print what changed since the last run.

    python scripts/primer.py [--mirror /work/.mirror] [--work /tmp/tenantlint-primer] [NAME ...]

Each project's snapshot must already be on the machine (fetched as a bare git repository under the mirror folder).
The last run's findings are kept under --work (never committed), so a precision change shows as a readable diff:
findings gone, findings new, counts per rule, files and seconds.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import tomli

HERE = Path(__file__).resolve().parent


# what tenantlint reads; snapshots lack their largest files (bundles, images), which `git archive` trips on
_KEPT = (".py", ".sql", ".toml", ".cfg", ".ini")


def checkout(mirror: Path, repo: str, commit: str, dest: Path, subdir: str = "") -> Path:
    """Write the commit's files that tenantlint reads (under subdir) into dest, once per commit."""
    git_dir = mirror / repo.replace("/", "+") / "repo"
    if not git_dir.exists():
        raise SystemExit(f"{repo}: no snapshot at {git_dir}; fetch it first")
    marker = dest / ".primer-commit"
    if marker.exists() and marker.read_text() == commit:
        return dest
    git = ["git", f"--git-dir={git_dir}"]
    listing = subprocess.run([*git, "ls-tree", "-r", "-z", commit, *([subdir] if subdir else [])], check=True, capture_output=True).stdout
    wanted = []
    for row in listing.split(b"\0"):
        if not row:
            continue
        meta, path = row.split(b"\t", 1)
        mode, kind, sha = meta.split()
        if kind == b"blob" and mode != b"120000" and path.decode().endswith(_KEPT):
            wanted.append((sha.decode(), path.decode()))
    batch = subprocess.run([*git, "cat-file", "--batch"], input="".join(f"{sha}\n" for sha, _ in wanted).encode(), check=True, capture_output=True).stdout
    pos = 0
    for sha, path in wanted:
        header_end = batch.index(b"\n", pos)
        header = batch[pos:header_end].split()
        pos = header_end + 1
        if header[-1] == b"missing":
            continue
        size = int(header[2])
        target = dest / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(batch[pos:pos + size])
        pos += size + 1
    marker.write_text(commit)
    return dest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*")
    parser.add_argument("--mirror", type=Path, default=Path("/work/.mirror"))
    parser.add_argument("--work", type=Path, default=Path("/tmp/tenantlint-primer"))
    args = parser.parse_args()
    projects = tomli.loads((HERE / "primer.toml").read_text())["project"]
    for p in projects:
        if args.names and p["name"] not in args.names:
            continue
        tree = checkout(args.mirror, p["repo"], p["commit"], args.work / p["name"], p.get("subdir", ""))
        root = tree / p.get("subdir", "")
        (root / "tenantlint.toml").write_text(p.get("config", "") + "\n")
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "tenantlint.cli", "check", str(root), "--format", "json", "--exit-zero", "--config", str(root / "tenantlint.toml")],
            capture_output=True,
            text=True,
            cwd=root,  # never the checkout of tenantlint itself: the installed package is what runs
        )
        seconds = time.perf_counter() - started
        if proc.returncode != 0:
            print(f"== {p['name']}: tenantlint failed (exit {proc.returncode})\n{proc.stderr[-3000:]}")
            continue
        report = json.loads(proc.stdout)
        now = {f"{f['code']} {f['path']}:{f['start']['line']} {f['message']}": f["fingerprint"] for f in report["findings"]}
        last_file = args.work / f"{p['name']}.last.json"
        last = json.loads(last_file.read_text()) if last_file.exists() else None
        counts = Counter(f["code"] for f in report["findings"])
        print(f"== {p['name']} @ {p['commit'][:10]}: {report['summary']['files_checked']} files, {seconds:.1f} s, "
              f"{len(report['findings'])} findings ({', '.join(f'{c} {n}' for c, n in sorted(counts.items()))})")
        for path_msg in report.get("notifications", [])[:10]:
            print(f"   note: {path_msg}")
        if last is not None:
            gone = set(last.values()) - set(now.values())
            new = set(now.values()) - set(last.values())
            for key, fp in sorted(last.items()):
                if fp in gone:
                    print(f"   - {key}")
            for key, fp in sorted(now.items()):
                if fp in new:
                    print(f"   + {key}")
            print(f"   {len(gone)} gone, {len(new)} new since the last run")
        last_file.write_text(json.dumps(now, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
