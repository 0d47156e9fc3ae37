"""Which files a run reads: targets to check, and the wider set the schema is learnt from."""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

import pathspec

from tenantlint.config import Config

LANGUAGES = {".py": "python", ".sql": "sql"}

# The schema pass reads the whole project, migrations' .sql included, but never other people's code or tests.
SCHEMA_EXCLUDE = (
    "**/.venv/**",
    "**/venv/**",
    "**/env/**",
    "**/.tox/**",
    "**/.nox/**",
    "**/site-packages/**",
    "**/node_modules/**",
    "**/.git/**",
    "**/__pycache__/**",
    "**/build/**",
    "**/dist/**",
    "**/tests/**",
    "**/test/**",
    "**/test_*.py",
    "**/*_test.py",
    "**/conftest.py",
    "**/migrations/*.py",
    "**/alembic/versions/*.py",
)


@dataclass(frozen=True, slots=True)
class SourceFile:
    path: Path  # absolute
    rel: str  # relative to the project root, forward slashes
    language: str


class PathError(Exception):
    """A path named on the command line does not exist."""


def _spec(patterns: tuple[str, ...]) -> pathspec.PathSpec:
    return pathspec.PathSpec.from_lines("gitignore", patterns)


def relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return path.resolve().as_posix()


# files named like sources that are not regular files (a FIFO would block the read forever): (rel, what), per process
SKIPPED: dict[str, str] = {}


def _regular(path: Path, rel: str) -> bool:
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        SKIPPED[rel] = f"cannot read file: {exc.strerror or exc}"
        return False
    if not stat.S_ISREG(mode):
        SKIPPED[rel] = "not a regular file (a FIFO, socket or device): skipped"
        return False
    return True


def _walk(start: Path, root: Path, exclude: pathspec.PathSpec, include: pathspec.PathSpec | None) -> list[SourceFile]:
    found: list[SourceFile] = []
    for folder, dirs, names in os.walk(start):
        folder_path = Path(folder)
        rel_folder = relative(folder_path, root)
        prefix = "" if rel_folder in (".", "") else rel_folder + "/"
        # Prune excluded folders early: a virtualenv holds more Python than most projects.
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not exclude.match_file(f"{prefix}{d}/_"))
        for name in sorted(names):
            lang = LANGUAGES.get(os.path.splitext(name)[1])
            if lang is None:
                continue
            rel = prefix + name
            if exclude.match_file(rel) or (include is not None and not include.match_file(rel)):
                continue
            if not _regular(folder_path / name, rel):
                continue
            found.append(SourceFile(folder_path / name, rel, lang))
    return found


def discover_targets(paths: list[Path], config: Config) -> list[SourceFile]:
    """The files to report on: .py and .sql files under `paths`, less the excluded ones.

    Excludes apply to files named explicitly too, so a pre-commit hook given a migration skips it.
    """
    exclude = _spec(config.all_excludes)
    include = _spec(config.include) if config.include else None
    out: dict[str, SourceFile] = {}
    for p in paths:
        if not p.exists():
            raise PathError(f"{p}: no such file or directory")
        if p.is_dir():
            for f in _walk(p, config.root, exclude, include):
                out.setdefault(f.rel, f)
        else:
            lang = LANGUAGES.get(p.suffix)
            rel = relative(p, config.root)
            if lang is None or exclude.match_file(rel) or (include is not None and not include.match_file(rel)):
                continue
            if not _regular(p, rel):
                continue
            out.setdefault(rel, SourceFile(p.resolve(), rel, lang))
    return sorted(out.values(), key=lambda f: f.rel)


def discover_schema_files(config: Config) -> list[SourceFile]:
    """Every file under the project root that may declare tables, whatever paths are reported on."""
    return _walk(config.root, config.root, _spec(SCHEMA_EXCLUDE + config.extend_exclude), None)
