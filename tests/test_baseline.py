"""Baselines: `baseline create`, `check --baseline` (multiset, line shifts, moves), `baseline update`."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from tenantlint.cli import main
from tiny_app import write_app

VIEWS = textwrap.dedent(
    """
    from app.models import Patient


    def leak(pk):
        return Patient.objects.get(pk=pk)


    def also_leaks(name):
        return Patient.objects.filter(name=name)
    """
)


def cli(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    (tmp_path / "tenantlint.toml").write_text('cache-dir = ""\n')
    return write_app(tmp_path, views=VIEWS)


def _create(project: Path) -> Path:
    result = cli("baseline", "create", str(project))
    assert result.exit_code == 0, result.output
    assert "wrote 2 finding(s)" in result.output
    return project / ".tenantlint-baseline.json"


def _check(project: Path, baseline: Path):
    return cli("check", str(project), "--baseline", str(baseline), "--format", "json")


def test_create_writes_a_sorted_file_without_line_numbers(project: Path) -> None:
    doc = json.loads(_create(project).read_text())
    assert doc["format_version"] == 1 and doc["tool"] == "tenantlint"
    assert [e["code"] for e in doc["findings"]] == ["TL101", "TL101"]
    assert all("line" not in e and e["path"] == "app/views.py" and e["fingerprint"] and e["content"] for e in doc["findings"])
    assert _create(project).read_text() == json.dumps(doc, indent=2) + "\n"  # stable: the same file twice


def test_known_findings_are_hidden_and_the_gate_passes(project: Path) -> None:
    baseline = _create(project)
    result = _check(project, baseline)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["findings"] == []
    assert "2 known finding(s) not shown, 0 new" in report["notifications"][-1]["message"]


def test_line_shifts_and_edits_elsewhere_in_the_function_keep_the_match(project: Path) -> None:
    baseline = _create(project)
    views = project / "app" / "views.py"
    views.write_text("# a header comment\n\n\n" + VIEWS.replace("def leak(pk):\n", "def leak(pk):\n    pk = int(pk)\n"))
    result = _check(project, baseline)
    assert result.exit_code == 0 and json.loads(result.output)["findings"] == []


def test_a_second_identical_finding_is_new(project: Path) -> None:
    baseline = _create(project)
    views = project / "app" / "views.py"
    views.write_text(VIEWS.replace("    return Patient.objects.get(pk=pk)\n", "    Patient.objects.get(pk=pk)\n    return Patient.objects.get(pk=pk)\n"))
    result = _check(project, baseline)
    report = json.loads(result.output)
    assert result.exit_code == 1
    assert [(f["code"], f["start"]["line"]) for f in report["findings"]] == [("TL101", 7)]


def test_a_moved_file_keeps_its_entries(project: Path) -> None:
    baseline = _create(project)
    (project / "app" / "views.py").rename(project / "app" / "patient_views.py")
    result = _check(project, baseline)
    assert result.exit_code == 0 and json.loads(result.output)["findings"] == []


def test_fixed_findings_are_counted_and_update_drops_them_but_never_adds(project: Path) -> None:
    baseline = _create(project)
    views = project / "app" / "views.py"
    views.write_text(
        VIEWS.replace("Patient.objects.filter(name=name)", "Patient.objects.filter(name=name, organization=org)").replace("(name):", "(name, org):")
        + "\n\ndef new_leak(pk):\n    return Patient.objects.filter(pk=pk)\n"
    )
    result = _check(project, baseline)
    report = json.loads(result.output)
    assert result.exit_code == 1
    assert [f["message"].split(":")[0] for f in report["findings"]] == ["Patient.objects.filter"]
    assert "1 baselined finding(s) no longer occur" in report["notifications"][-1]["message"]
    updated = cli("baseline", "update", str(project))
    assert "kept 1, dropped 1 fixed, 1 new finding(s) not added" in updated.output
    assert len(json.loads(baseline.read_text())["findings"]) == 1


def test_the_baseline_key_in_configuration(project: Path) -> None:
    _create(project).rename(project / "accepted.json")
    (project / "tenantlint.toml").write_text('cache-dir = ""\nbaseline = "accepted.json"\n')
    result = cli("check", str(project))
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("content,needle", [("{not json", "invalid JSON"), ('{"tool": "bandit"}', "not a tenantlint baseline"), (None, "not found")])
def test_a_bad_baseline_is_a_usage_error(project: Path, content, needle) -> None:
    baseline = project / "b.json"
    if content is not None:
        baseline.write_text(content)
    result = CliRunner().invoke(main, ["check", str(project), "--baseline", str(baseline)])
    assert result.exit_code == 2
    assert needle in result.output and "Traceback" not in result.output


RAW_SQL = textwrap.dedent(
    """
    from django.db import connection


    def by_kind(pk, column):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT name FROM app_patient WHERE id = %s AND {column} IS NOT NULL", [pk])
            return cursor.fetchone()
    """
)


def test_a_sql_finding_built_from_an_unreadable_value_keeps_its_fingerprint(tmp_path: Path) -> None:
    """The placeholder standing for `{column}` must not carry a number that depends on what else was read
    before it (another file, an earlier run in the same process): the baseline would no longer match."""
    (tmp_path / "tenantlint.toml").write_text('cache-dir = ""\n')
    project = write_app(tmp_path, raw=RAW_SQL)
    baseline = cli("baseline", "create", str(project))
    assert "wrote 1 finding(s)" in baseline.output, baseline.output
    # another file with holes of its own, read before raw.py, and a second run in this process
    (project / "app" / "a_first.py").write_text(RAW_SQL.replace("def by_kind", "def other").replace("app_patient", "app_organization"))
    result = _check(project, project / ".tenantlint-baseline.json")
    report = json.loads(result.output)
    assert [f["path"] for f in report["findings"]] == [], report["findings"]
    assert "1 known finding(s) not shown, 0 new" in report["notifications"][-1]["message"]
