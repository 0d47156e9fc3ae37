"""Reporters: text, JSON, SARIF (validated against the official 2.1.0 schema) and GitHub annotations."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from tenantlint.config import Config
from tenantlint.engine import run
from tenantlint.registry import all_rules
from tenantlint.report import RunInfo, render
from tenantlint.types import Finding, Span

HERE = Path(__file__).resolve().parent
SHARED_SCHEMA = HERE.parents[1] / "shared" / "schemas" / "sarif-schema-2.1.0.json"
VENDORED_SCHEMA = HERE / "data" / "sarif-schema-2.1.0.json"


def sarif_schema() -> dict:
    path = SHARED_SCHEMA if SHARED_SCHEMA.exists() else VENDORED_SCHEMA
    return json.loads(path.read_text(encoding="utf-8"))


def finding(code="TL101", path="app/views.py", line=5, col=12, message="Patient.objects.get: read of tenant table app_patient without a tenant filter", fp="abc:1"):
    rule = all_rules()[code]
    return Finding(code, rule.name, rule.level, path, Span(line, col, line + 1, 20), message, fp)


def info(tmp_path: Path, **kw) -> RunInfo:
    return RunInfo(root=tmp_path, files_checked=3, files_parsed=2, seconds=0.5, version="0.1.0", **kw)


def test_vendored_schema_is_the_official_one():
    if SHARED_SCHEMA.exists():
        assert json.loads(SHARED_SCHEMA.read_text()) == json.loads(VENDORED_SCHEMA.read_text())


def test_text_sorts_and_summarises(tmp_path):
    out = render("text", [finding(line=9), finding("TL102", line=2, message="m2"), finding("TL002", path="a.py", message="n")], all_rules(), info(tmp_path))
    lines = out.splitlines()
    assert lines[:3] == [
        "a.py:5:12: TL002 n",
        "app/views.py:2:12: TL102 m2",
        "app/views.py:9:12: TL101 Patient.objects.get: read of tenant table app_patient without a tenant filter",
    ]
    assert lines[-1] == "Found 3 findings (1 error, 1 warning, 1 note) in 3 files checked (2 parsed) in 0.50s."


def test_text_without_findings_says_so_and_shows_notifications(tmp_path):
    out = render("text", [], all_rules(), info(tmp_path, notifications=(("x.sql", "cannot read file"),)))
    assert out.splitlines() == ["x.sql: cannot read file", "", "No findings in 3 files checked (2 parsed) in 0.50s."]


def test_json_shape(tmp_path):
    data = json.loads(render("json", [finding(), finding("TL104", line=7)], all_rules(), info(tmp_path)))
    assert data["format_version"] == 1
    assert data["summary"]["by_code"] == {"TL101": 1, "TL104": 1}
    assert data["summary"]["by_level"] == {"error": 1, "warning": 1}
    first = data["findings"][0]
    assert first == {
        "code": "TL101",
        "name": "unscoped-read",
        "level": "warning",
        "path": "app/views.py",
        "start": {"line": 5, "column": 12},
        "end": {"line": 6, "column": 20},
        "message": "Patient.objects.get: read of tenant table app_patient without a tenant filter",
        "fingerprint": "abc:1",
        "related": [],
    }


def test_related_location_in_every_format(tmp_path):
    rule = all_rules()["TL101"]
    f = Finding("TL101", rule.name, rule.level, "app/views.py", Span(9, 12, 9, 42), "get_project() -> Project.objects.get: read", "fp:1",
                (("app/services.py", Span(5, 12, 5, 38), "the query in get_project()"),))
    text = render("text", [f], all_rules(), info(tmp_path)).splitlines()
    assert text[:2] == ["app/views.py:9:12: TL101 get_project() -> Project.objects.get: read", "  app/services.py:5:12: note: the query in get_project()"]
    data = json.loads(render("json", [f], all_rules(), info(tmp_path)))
    assert data["findings"][0]["related"] == [
        {"path": "app/services.py", "start": {"line": 5, "column": 12}, "end": {"line": 5, "column": 38}, "message": "the query in get_project()"}
    ]
    doc = json.loads(render("sarif", [f], all_rules(), info(tmp_path)))
    jsonschema.Draft4Validator(sarif_schema()).validate(doc)
    related = doc["runs"][0]["results"][0]["relatedLocations"]
    assert related == [{
        "id": 1,
        "physicalLocation": {"artifactLocation": {"uri": "app/services.py", "uriBaseId": "%SRCROOT%"},
                             "region": {"startLine": 5, "startColumn": 12, "endLine": 5, "endColumn": 38}},
        "message": {"text": "the query in get_project()"},
    }]


def test_sarif_validates_and_indexes_rules(tmp_path):
    rules = all_rules()
    doc = json.loads(render("sarif", [finding(), finding("TL104", line=7), finding("TL001", line=1)], rules, info(tmp_path, notifications=(("bad.sql", "cannot read"),))))
    jsonschema.Draft4Validator(sarif_schema()).validate(doc)
    run_ = doc["runs"][0]
    driver_rules = run_["tool"]["driver"]["rules"]
    assert {r["id"] for r in driver_rules} == set(rules)
    for result in run_["results"]:
        assert driver_rules[result["ruleIndex"]]["id"] == result["ruleId"]
        loc = result["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert not loc["artifactLocation"]["uri"].startswith("/")
    tl101 = next(r for r in driver_rules if r["id"] == "TL101")
    assert tl101["properties"]["security-severity"] == rules["TL101"].security_severity
    assert tl101["help"]["markdown"].startswith("**TL101 unscoped-read**")
    assert run_["originalUriBaseIds"]["%SRCROOT%"]["uri"].endswith("/")
    assert run_["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"] == "cannot read"


def test_sarif_fingerprints_survive_unrelated_lines_moving(tmp_path):
    app = tmp_path / "app"
    app.mkdir()
    (app / "models.py").write_text(
        "from django.db import models\n"
        "class Organization(models.Model):\n    pass\n"
        "class Patient(models.Model):\n    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)\n"
    )
    view = "from app.models import Patient\n\ndef show(pk):\n    return Patient.objects.get(pk=pk)\n"

    def fingerprints():
        result = run([tmp_path], Config(root=tmp_path))
        doc = json.loads(render("sarif", result.findings, all_rules(), info(tmp_path)))
        return [(r["locations"][0]["physicalLocation"]["region"]["startLine"], r["partialFingerprints"]) for r in doc["runs"][0]["results"]]

    (app / "views.py").write_text(view)
    before = fingerprints()
    (app / "views.py").write_text("# a comment\n\n\n" + view)
    after = fingerprints()
    assert len(before) == 1 and len(after) == 1
    assert after[0][0] == before[0][0] + 3
    assert after[0][1] == before[0][1]


def test_github_annotations_escape_properties_and_data(tmp_path):
    out = render("github", [finding(path="a,b:c.py", message="50% of\nrows")], all_rules(), info(tmp_path))
    assert out == "::warning file=a%2Cb%3Ac.py,line=5,col=12,endLine=6,title=TL101 unscoped-read::50%25 of%0Arows\n"


def test_notes_become_notices(tmp_path):
    out = render("github", [finding("TL002", line=3, message="n")], all_rules(), info(tmp_path))
    assert out.startswith("::notice file=app/views.py,line=3,")


def test_unknown_format_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown format"):
        render("xml", [], all_rules(), info(tmp_path))


def test_json_lists_the_places_declared_cross_tenant() -> None:
    """Configuration entries with their function's line, and `def` lines marked inline (read by the project pass)."""
    from click.testing import CliRunner

    from tenantlint.cli import main

    project = Path(__file__).resolve().parents[1] / "fixtures" / "context_rls"
    result = CliRunner().invoke(main, ["check", str(project), "--config", str(project / "tenantlint.toml"), "--format", "json", "--no-cache"])
    places = json.loads(result.output)["cross_tenant"]
    assert [(p["path"], p["line"]) for p in places] == [("app/admin.py", 8), ("app/admin.py", 13)]
    assert places[0]["reason"].startswith("cross-tenant = app/admin.py::usage_report in ")
    assert places[1]["reason"] == "retention job over every organization"
