"""Runs the engine on every fixture project under fixtures/ and compares findings with the inline markers.

A fixture project is a folder fixtures/<group>/ (optionally with a tenantlint.toml). For each file, the multiset of
(line, code) reported must equal the `# expect:` markers exactly, plus the known false alarms (`expect-todo-ok`);
`expect-todo` marks known misses, which must stay missed until the marker is promoted.
Messages and columns are pinned in fixtures/<group>/golden.txt (regenerate with `pytest --update-golden`).
"""
from __future__ import annotations

from collections import Counter
from functools import lru_cache
from pathlib import Path

import pytest

from tenantlint.config import Config, load_config
from tenantlint.engine import RunResult, run
from tenantlint.fixture_markers import parse_markers

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TODO_TOTALS: Counter = Counter()


def _projects() -> list[Path]:
    return sorted(p for p in FIXTURES.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def _files(project: Path) -> list[Path]:
    return sorted(p for p in project.rglob("*") if p.suffix in (".py", ".sql") and "__pycache__" not in p.parts)


def _config(project: Path) -> Config:
    explicit = project / "tenantlint.toml"
    return load_config(explicit, project) if explicit.exists() else Config(root=project.resolve())


@lru_cache(maxsize=None)
def _result(project: Path) -> RunResult:
    config = _config(project)
    return run([project], config, debug=True)


def _cases():
    for project in _projects():
        for file in _files(project):
            exp = parse_markers(file.read_text(encoding="utf-8"))
            codes = sorted({c for (_, c) in exp.expected | exp.todo_missing | exp.todo_false})
            rel = file.relative_to(project).as_posix()
            yield pytest.param(project, rel, id=f"{project.name}/{rel}[{','.join(codes) or 'clean'}]")


@pytest.mark.parametrize("project,rel", list(_cases()))
def test_fixture_findings_match_markers(project: Path, rel: str) -> None:
    result = _result(project)
    exp = parse_markers((project / rel).read_text(encoding="utf-8"))
    actual = Counter((f.span.start_line, f.code) for f in result.findings if f.path == rel)
    todo_found = exp.todo_missing & actual
    assert not todo_found, f"known misses are now reported; promote these `expect-todo` markers to `expect`: {sorted(todo_found)}"
    wanted = exp.expected + exp.todo_false
    missing = wanted - actual
    extra = actual - wanted
    TODO_TOTALS["known misses"] += sum(exp.todo_missing.values())
    TODO_TOTALS["known false alarms"] += sum(exp.todo_false.values())
    messages = {(f.span.start_line, f.code): f.message for f in result.findings if f.path == rel}
    assert not missing and not extra, (
        f"{project.name}/{rel}: missing {sorted(missing)}; unexpected "
        + str(sorted((line, code, messages.get((line, code))) for line, code in extra))
    )


@pytest.mark.parametrize("project", _projects(), ids=lambda p: p.name)
def test_fixture_golden_messages(project: Path, update_golden: bool) -> None:
    result = _result(project)
    lines = [
        f"{f.path}:{f.span.start_line}:{f.span.start_col}:{f.span.end_line}:{f.span.end_col}:{f.code}:{f.message}"
        for f in result.findings
    ]
    text = "\n".join(lines) + ("\n" if lines else "")
    golden = project / "golden.txt"
    if update_golden:
        golden.write_text(text, encoding="utf-8")
    if not golden.exists():
        pytest.fail(f"{golden} is missing: run pytest --update-golden, then read it before committing")
    assert text == golden.read_text(encoding="utf-8")


def test_fixture_tree_is_not_empty() -> None:
    assert len(_projects()) >= 3


def teardown_module(module) -> None:
    if TODO_TOTALS:
        print(f"\nfixtures: {TODO_TOTALS['known misses']} known misses, {TODO_TOTALS['known false alarms']} known false alarms")
