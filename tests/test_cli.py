"""The command line as a user meets it: exit codes, one-line errors, options, formats."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from tenantlint.cli import main
from tiny_app import MODELS, write_app

VIEWS = """\
from app.models import Patient


def leak(pk):
    return Patient.objects.get(pk=pk)


def safe(org, pk):
    return Patient.objects.get(pk=pk, organization=org)
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_app(tmp_path, views=VIEWS)


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_leak_is_reported_with_location_and_exit_1(project: Path) -> None:
    result = invoke("check", str(project))
    assert result.exit_code == 1
    assert "app/views.py:5:12: TL101" in result.output


def test_exit_zero_flag(project: Path) -> None:
    assert invoke("check", "--exit-zero", str(project)).exit_code == 0


def test_clean_project_exits_0(project: Path) -> None:
    (project / "app" / "views.py").write_text(VIEWS.replace("get(pk=pk)\n", "get(pk=pk, organization=org)\n").replace("def leak(pk)", "def leak(org, pk)"))
    result = invoke("check", str(project))
    assert result.exit_code == 0, result.output


def test_select_and_ignore_by_name_and_prefix(project: Path) -> None:
    assert invoke("check", "--ignore", "unscoped-read", str(project)).exit_code == 0
    assert invoke("check", "--select", "TL1", str(project)).exit_code == 1
    assert invoke("check", "--select", "TL102", str(project)).exit_code == 0


def test_unknown_selector_is_a_usage_error(project: Path) -> None:
    result = invoke("check", "--select", "unscoped-reed", str(project))
    assert result.exit_code == 2
    assert "did you mean unscoped-read" in result.output


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    result = invoke("check", str(tmp_path / "nope"))
    assert result.exit_code == 2
    assert "no such file or directory" in result.output
    assert "Traceback" not in result.output


def test_unknown_config_key_names_the_key(project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.tenantlint]\ntenant-colums = ['org_id']\n")
    result = invoke("check", str(project))
    assert result.exit_code == 2
    assert "tool.tenantlint.tenant-colums" in result.output and "did you mean 'tenant-columns'" in result.output


def test_wrong_config_type_names_the_key(project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.tenantlint]\njobs = 'two'\n")
    result = invoke("check", str(project))
    assert result.exit_code == 2
    assert "'tool.tenantlint.jobs' must be a whole number" in result.output


def test_tenant_root_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.tenantlint]\ntenant-root = "Realm"\n')
    (tmp_path / "zerver").mkdir()
    (tmp_path / "zerver" / "models.py").write_text(MODELS.replace("Organization", "Realm").replace("organization", "realm"))
    (tmp_path / "zerver" / "views.py").write_text("from zerver.models import Patient\n\n\ndef f(pk):\n    return Patient.objects.get(pk=pk)\n")
    result = invoke("check", str(tmp_path))
    assert result.exit_code == 1
    assert "zerver/views.py:5:12: TL101" in result.output


def test_syntax_error_is_reported_and_the_run_goes_on(project: Path) -> None:
    (project / "app" / "broken.py").write_text("from app.models import Patient\n\ndef f(:\n    return Patient.objects.all()\n")
    result = invoke("check", str(project))
    assert result.exit_code == 1
    assert "app/broken.py:3:" in result.output and "TL001" in result.output
    assert "app/views.py:5:12: TL101" in result.output


def test_json_output_to_file(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = invoke("check", "--format", "json", "--output", str(out), str(project))
    assert result.exit_code == 1
    data = json.loads(out.read_text())
    assert [(f["code"], f["path"], f["start"]["line"]) for f in data["findings"]] == [("TL101", "app/views.py", 5)]


def test_per_path_ignores(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.tenantlint]\nper-path-ignores = { "app/views.py" = ["TL101"] }\n')
    assert invoke("check", str(project)).exit_code == 0


def test_excluded_folder_is_not_checked(project: Path) -> None:
    (project / "app" / "migrations").mkdir()
    (project / "app" / "migrations" / "0002_data.py").write_text(VIEWS)
    result = invoke("check", str(project))
    assert "migrations" not in result.output


def test_suppression_with_reason_silences_and_bare_one_is_reported(project: Path) -> None:
    views = VIEWS.replace("get(pk=pk)\n", "get(pk=pk)  # tenantlint: ignore[TL101] -- pk is a signed token\n", 1)
    (project / "app" / "views.py").write_text(views)
    assert invoke("check", str(project)).exit_code == 0
    (project / "app" / "views.py").write_text(VIEWS.replace("get(pk=pk)\n", "get(pk=pk)  # tenantlint: ignore\n", 1))
    result = invoke("check", str(project))
    assert "TL003" in result.output and "TL101" in result.output


def test_suppression_on_line_above_a_multiline_chain(project: Path) -> None:
    (project / "app" / "views.py").write_text(textwrap.dedent("""\
        from app.models import Patient


        def leak(pk):
            # tenantlint: ignore[unscoped-read] -- admin-only view, checked by middleware
            return Patient.objects.filter(
                pk=pk,
            ).first()
        """))
    result = invoke("check", str(project))
    assert result.exit_code == 0, result.output


def test_unused_suppression_is_reported(project: Path) -> None:
    views = VIEWS.replace("organization=org)\n", "organization=org)  # tenantlint: ignore[TL101] -- habit\n")
    (project / "app" / "views.py").write_text(views)
    result = invoke("check", str(project))
    assert "silences nothing" in result.output


def test_schema_command_lists_tenant_tables(project: Path) -> None:
    result = invoke("schema", str(project))
    assert result.exit_code == 0
    assert "app_patient" in result.output and "FK organization -> Organization" in result.output


def test_explain_by_name_and_rules_list() -> None:
    assert "Why it matters" in invoke("explain", "unscoped-write").output
    listing = invoke("rules").output
    for code in ("TL001", "TL002", "TL003", "TL101", "TL102", "TL103", "TL104"):
        assert code in listing


def test_config_outside_the_checked_tree_still_learns_the_tree(tmp_path):
    project = tmp_path / "project"
    (project / ".git").mkdir(parents=True)
    (project / "app").mkdir()
    (project / "app" / "models.py").write_text(
        "from django.db import models\nclass Realm(models.Model):\n    pass\n"
        "class Stream(models.Model):\n    realm = models.ForeignKey(Realm, on_delete=models.CASCADE)\n"
    )
    (project / "app" / "views.py").write_text("from app.models import Stream\n\ndef f(pk):\n    return Stream.objects.get(pk=pk)\n")
    cfg = tmp_path / "elsewhere.toml"
    cfg.write_text('tenant-root = "Realm"\n')
    result = CliRunner().invoke(main, ["check", str(project), "--config", str(cfg), "--no-cache"])
    assert result.exit_code == 1, result.output
    assert "app/views.py:4:12: TL101" in result.output


def test_schema_command_ends_with_what_it_could_not_resolve(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "models.py").write_text(MODELS + textwrap.dedent('''
        from django.contrib.contenttypes.fields import GenericForeignKey
        from vendor.audit import ExternalAuditBase, JSONBlobField


        class Visit(models.Model):
            patient = models.ForeignKey("app.Patient", on_delete=models.CASCADE)
            room = models.ForeignKey("rooms.Room", on_delete=models.CASCADE)


        class AuditEntry(ExternalAuditBase):
            payload = JSONBlobField()


        class ActiveQuerySet(models.QuerySet):
            def active(self):
                return self.filter(active=True)


        class Attachment(models.Model):
            # a model of Django's own apps and a generic relation are no unresolved targets
            patient = models.ForeignKey("app.Patient", on_delete=models.CASCADE)
            content_type = models.ForeignKey("contenttypes.ContentType", on_delete=models.CASCADE)
            object_id = models.PositiveIntegerField()
            content_object = GenericForeignKey("content_type", "object_id")
        '''))
    result = invoke("schema", str(tmp_path))
    assert result.exit_code == 0
    tail = result.output.split("Could not resolve (2); queries on these are not judged:\n", 1)[1].splitlines()
    assert tail[0].startswith("  app/models.py:") and "Visit: relation target 'rooms.Room' is not a model of this project" in tail[0]
    assert "class AuditEntry: base vendor.audit.ExternalAuditBase could not be followed" in tail[1]


def test_a_fifo_named_like_a_source_is_skipped_with_a_notification(project: Path) -> None:
    import os

    os.mkfifo(project / "app" / "pipe.py")
    result = invoke("check", str(project), "--no-cache")  # would block forever if the FIFO were read
    assert result.exit_code == 1
    assert "app/views.py:5:12: TL101" in result.output
    assert "app/pipe.py: not a regular file (a FIFO, socket or device): skipped" in result.output


def test_output_into_a_missing_folder_is_a_usage_error(project: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["check", str(project), "--output", str(tmp_path / "nowhere" / "r.json")])
    assert result.exit_code == 2
    assert f"--output {tmp_path / 'nowhere' / 'r.json'}: the folder {tmp_path / 'nowhere'} does not exist" in result.output
    assert "Traceback" not in result.output


def test_python_dash_m_runs_the_command_line(project: Path) -> None:
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "tenantlint", "check", str(project), "--no-cache"], capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    assert "app/views.py:5:12: TL101" in proc.stdout


def test_statistics_counts_findings_per_rule(tmp_path: Path) -> None:
    examples = Path(__file__).resolve().parents[1] / "examples" / "clinic"
    result = CliRunner().invoke(main, ["check", str(examples), "--statistics", "--no-cache"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    # the example's deliberate leaks: two ORM reads and one raw-SQL read, an OR, a bulk update, an insert (with no
    # clinic, and linked to a store id from the form), a **filters
    assert lines[0].split()[:3] == ["3", "TL101", "unscoped-read"]
    assert lines[-1].split() == ["8", "findings"]
    counts = {line.split()[1]: int(line.split()[0]) for line in lines[:-1]}
    assert counts == {"TL101": 3, "TL002": 1, "TL102": 1, "TL103": 1, "TL104": 1, "TL108": 1}


def test_show_source_marks_the_span_under_each_finding() -> None:
    examples = Path(__file__).resolve().parents[1] / "examples" / "clinic"
    result = CliRunner().invoke(main, ["check", str(examples), "--show-source", "--no-cache"])
    lines = result.output.splitlines()
    i = lines.index(next(l for l in lines if l.startswith("clinic/views.py:15:12: TL101")))
    assert lines[i + 2] == "15 |     return get_object_or_404(Patient, pk=pk)"
    caret_line = lines[i + 3]
    assert caret_line.index("^") - len("   | ") == 11 and caret_line.count("^") == len("get_object_or_404(Patient, pk=pk)")
    assert "\x1b[" not in result.output  # not a terminal: no colour


def test_colour_only_when_asked_and_progress_only_on_a_terminal_after_a_delay() -> None:
    import io

    from rich.console import Console

    from tenantlint.cli import ProgressBar
    from tenantlint.report import RunInfo
    from tenantlint.report.text_report import render
    from tenantlint.types import Finding, Level, Span

    f = Finding("TL101", "unscoped-read", Level.WARNING, "a.py", Span(1, 1, 1, 5), "msg")
    assert "\x1b[" in render([f], {}, RunInfo(root=Path("."), color=True))
    assert "\x1b[" not in render([f], {}, RunInfo(root=Path(".")))
    shown = io.StringIO()
    bar = ProgressBar(delay=0, console=Console(file=shown, force_terminal=True, width=80))
    bar(3, 10)
    bar.close()
    assert "checking" in shown.getvalue()
    hidden = io.StringIO()
    quick = ProgressBar(delay=60, console=Console(file=hidden, force_terminal=True, width=80))
    quick(3, 10)
    quick.close()
    assert hidden.getvalue() == ""


def test_an_unverifiable_query_points_at_the_part_it_cannot_read() -> None:
    # a statement refined over several lines is reported where it starts; the opaque filter is a second location
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "sqlalchemy_app"
    result = invoke("check", str(fixture), "--no-cache", "--format", "json", "--select", "TL002")
    data = json.loads(result.output)
    (finding,) = [f for f in data["findings"] if f["path"].endswith("app/queries.py") and "refined" not in f["message"]
                  and f["start"]["line"] > 250]
    assert finding["message"].endswith("filter_by(**filters) is built elsewhere")
    assert [(r["start"]["line"], r["message"]) for r in finding["related"]] == [(finding["start"]["line"] + 3, "the part that cannot be read")]


def test_a_request_tenant_handed_to_a_repository_method_points_at_its_filter() -> None:
    # the route reads org_id from its path and hands it to a method found through a property's return annotation
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "context_fastapi"
    result = invoke("check", str(fixture), "--no-cache", "--format", "json", "--select", "TL105")
    data = json.loads(result.output)
    (finding,) = [f for f in data["findings"] if f["path"] == "app/lookups.py" and f["start"]["line"] == 19]
    assert "handed to ProjectRepository.by_name(), which filters by it as org_id" in finding["message"]
    assert [(r["path"], r["start"]["line"], r["start"]["column"], r["message"]) for r in finding["related"]] == [
        ("app/lookups.py", 17, 21, "the request is read here"),
        ("app/repos.py", 15, 38, "the filter in ProjectRepository.by_name()"),
    ]
