"""Hostile input: fixture files truncated at many offsets or with random bytes inserted. No run may end in TL000 or
a traceback, and the findings of every other file stay as they were (only leaf modules are mutated: files that
declare no table and that no other file imports)."""
from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from tenantlint.config import load_config
from tenantlint.engine import run
from tiny_app import write_app

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
MUTATIONS_PER_PROJECT = 12
SEED = 20261202


def _config(project: Path):
    explicit = project / "tenantlint.toml"
    return load_config(explicit if explicit.exists() else None, project)


def _leaves(project: Path) -> list[Path]:
    """Files nothing else depends on: no table declared, not imported, calling no project helper that queries
    (a helper called from a file is judged at that call, so its own findings depend on the caller)."""
    from tenantlint.engine import learn_project

    index = learn_project(_config(project))[3]
    files = sorted(p for p in project.rglob("*") if p.suffix in (".py", ".sql") and "__pycache__" not in p.parts)
    texts = {p: p.read_text(encoding="utf-8", errors="replace") for p in files}
    leaves = []
    for p in files:
        text = texts[p]
        module = p.relative_to(project).with_suffix("").as_posix().replace("/", ".")
        imported = any(module in t or f"import {p.stem}" in t for q, t in texts.items() if q != p)
        declares = "models.Model" in text or "DeclarativeBase" in text or "db.Model" in text or "create table" in text.lower() or "MIDDLEWARE" in text
        calls_helpers = index.calls_query_functions(p.relative_to(project).as_posix())
        if p.suffix == ".py" and not imported and not declares and not calls_helpers and p.name != "__init__.py" and p.stat().st_size > 200:
            leaves.append(p)
    return leaves


def _mutations(text: str, rng: random.Random) -> list[tuple[str, str]]:
    out = []
    for _ in range(MUTATIONS_PER_PROJECT // 2):
        cut = rng.randrange(1, len(text))
        out.append((f"truncated at {cut}", text[:cut]))
    for _ in range(MUTATIONS_PER_PROJECT - MUTATIONS_PER_PROJECT // 2):
        at = rng.randrange(0, len(text))
        junk = "".join(rng.choice("()[]{}:;,.'\"\\#@=+-*/%\n\t \x00\u00e9\u2028abcXYZ019") for _ in range(rng.randrange(1, 12)))
        out.append((f"{junk!r} inserted at {at}", text[:at] + junk + text[at:]))
    return out


def _by_file(findings) -> dict[str, list[tuple]]:
    out: dict[str, list[tuple]] = {}
    for f in findings:
        out.setdefault(f.path, []).append((f.span, f.code, f.message))
    return out


PROJECTS = sorted(p for p in FIXTURES.iterdir() if p.is_dir() and _leaves(p))


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
def test_mutated_files_never_crash_and_leave_other_files_alone(project: Path, tmp_path: Path) -> None:
    rng = random.Random(f"{SEED}:{project.name}")
    copy = tmp_path / project.name
    shutil.copytree(project, copy, ignore=shutil.ignore_patterns("__pycache__", ".tenantlint_cache"))
    before = _by_file(run([copy], _config(copy)).findings)
    leaves = _leaves(copy)
    target = rng.choice(leaves)
    original = target.read_text(encoding="utf-8")
    rel = target.relative_to(copy).as_posix()
    for what, mutated in _mutations(original, rng):
        target.write_text(mutated, encoding="utf-8")
        result = run([copy], _config(copy))  # debug off: an internal error would be a TL000 finding
        crashed = [f for f in result.findings if f.code == "TL000"]
        assert not crashed, f"{rel} {what}: {crashed[0].message}"
        after = _by_file(result.findings)
        for path in set(before) | set(after):
            if path != rel:
                assert after.get(path) == before.get(path), f"{rel} {what} changed the findings of {path}"
    target.write_text(original, encoding="utf-8")


def test_a_chain_of_three_thousand_calls_is_a_parse_note_not_a_crash(tmp_path: Path) -> None:
    write_app(
        tmp_path,
        generated="from app.models import Patient\n\n\ndef v():\n    return Patient.objects" + ".filter(name='x')" * 3000 + "\n",
        views="from app.models import Patient\n\n\ndef leak(pk):\n    return Patient.objects.get(pk=pk)\n",
    )
    found = {(f.path, f.span.start_line, f.code) for f in run([tmp_path], _config(tmp_path)).findings}
    assert found == {("app/generated.py", 5, "TL001"), ("app/views.py", 5, "TL101")}
