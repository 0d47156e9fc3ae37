"""Pull-request mode: the lines changed since the merge base with a revision, read from `git diff` with unidiff.

The whole tree is still read for the schema and the project index; only the findings shown are limited to those
whose region (or a related location: the helper query a call reaches) touches a changed line. New files that git
does not track yet count as changed throughout.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

from unidiff import PatchSet

from tenantlint.types import Finding


class DiffError(Exception):
    """The revision cannot be compared with: the message says what to do."""


def _git(root: Path, *args: str) -> str:
    try:
        proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=120)
    except FileNotFoundError:
        raise DiffError("--diff needs git on the PATH") from None
    except subprocess.TimeoutExpired:
        raise DiffError(f"git {' '.join(args)} did not finish in 120 s") from None
    if proc.returncode != 0:
        raise DiffError((proc.stderr or proc.stdout).strip().splitlines()[-1] if (proc.stderr or proc.stdout).strip() else f"git {args[0]} failed")
    return proc.stdout


def changed_lines(root: Path, rev: str) -> dict[str, set[int] | None]:
    """Path relative to `root` -> changed line numbers in the working tree (None: the whole file is new)."""
    try:
        top = Path(_git(root, "rev-parse", "--show-toplevel").strip())
    except DiffError:
        raise DiffError(f"--diff {rev}: {root} is not inside a git repository") from None
    try:
        _git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
        base = _git(root, "merge-base", rev, "HEAD").strip()
    except DiffError:
        shallow = _git(root, "rev-parse", "--is-shallow-repository").strip() == "true"
        hint = " This is a shallow clone: fetch more history (`git fetch --unshallow`, or `fetch-depth: 0` in actions/checkout)." if shallow else ""
        raise DiffError(f"--diff {rev}: no such revision, or no common ancestor with HEAD.{hint} Fetch the base branch first (`git fetch origin {rev.split('/')[-1]}`).") from None
    patch = PatchSet(_git(root, "diff", "--no-color", "--no-ext-diff", "--unified=0", "--no-renames", base, "--"))
    out: dict[str, set[int] | None] = {}
    resolved_root = root.resolve()

    def rel(git_path: str) -> str | None:
        full = (top / git_path).resolve()
        try:
            return full.relative_to(resolved_root).as_posix()
        except ValueError:
            return None  # outside the project being checked

    for pf in patch:
        if pf.is_removed_file:
            continue
        path = rel(pf.path)
        if path is None:
            continue
        lines = {line.target_line_no for hunk in pf for line in hunk if line.is_added and line.target_line_no}
        if pf.is_added_file:
            out[path] = None
        else:
            out.setdefault(path, set()).update(lines)  # type: ignore[union-attr]
    for untracked in _git(root, "ls-files", "--others", "--exclude-standard", "--full-name").splitlines():
        path = rel(untracked)
        if path is not None:
            out[path] = None
    return out


def touches(finding: Finding, changed: dict[str, set[int] | None]) -> bool:
    """The finding's region, or one of its related locations, includes a changed line."""
    places = [(finding.path, finding.span)] + [(path, span) for path, span, _ in finding.related]
    for path, span in places:
        if path not in changed:
            continue
        lines = changed[path]
        if lines is None or any(span.start_line <= n <= span.end_line for n in lines):
            return True
    return False
