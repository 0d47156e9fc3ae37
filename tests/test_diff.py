"""Pull-request mode: `check --diff REV` shows only findings on changed lines, in a real git repository."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from tenantlint.cli import main
from tiny_app import write_app

OLD = "from app.models import Patient\n\n\ndef old_leak(pk):\n    return Patient.objects.get(pk=pk)\n"


def git(repo: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t", "PATH": "/usr/bin:/bin:/usr/local/bin"}
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True, env=env).stdout


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    repo = write_app(tmp_path / "repo", views=OLD)
    (repo / "tenantlint.toml").write_text('cache-dir = ""\n')
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "base")
    git(repo, "checkout", "-q", "-b", "feature")
    return repo


def check(repo: Path, *args: str):
    return CliRunner().invoke(main, ["check", str(repo), "--format", "json", *args])


def lines_of(result) -> list[tuple[str, int]]:
    return [(f["path"], f["start"]["line"]) for f in json.loads(result.output)["findings"]]


def test_only_findings_on_changed_lines_are_shown(repo: Path) -> None:
    (repo / "app" / "views.py").write_text(OLD + "\n\ndef new_leak(name):\n    return Patient.objects.filter(name=name)\n")
    git(repo, "commit", "-qam", "feature")
    assert lines_of(check(repo)) == [("app/views.py", 5), ("app/views.py", 9)]
    result = check(repo, "--diff", "main")
    assert result.exit_code == 1
    assert lines_of(result) == [("app/views.py", 9)]
    assert "1 of 2 finding(s)" in json.loads(result.output)["notifications"][-1]["message"]


def test_uncommitted_and_untracked_files_count_as_changed(repo: Path) -> None:
    (repo / "app" / "extra.py").write_text("from app.models import Patient\n\n\ndef leak():\n    return Patient.objects.all()\n")
    assert lines_of(check(repo, "--diff", "main")) == [("app/extra.py", 5)]


def test_a_pull_request_without_changes_to_queries_passes(repo: Path) -> None:
    (repo / "README").write_text("docs\n")
    git(repo, "add", "README")
    git(repo, "commit", "-qm", "docs")
    result = check(repo, "--diff", "main")
    assert result.exit_code == 0 and lines_of(result) == []


def test_a_missing_revision_in_a_shallow_clone_asks_for_history(repo: Path, tmp_path: Path) -> None:
    (repo / "app" / "views.py").write_text(OLD + "# more\n")
    git(repo, "commit", "-qam", "two")
    shallow = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", "--branch", "feature", f"file://{repo}", str(shallow)], check=True, capture_output=True)
    result = CliRunner().invoke(main, ["check", str(shallow), "--diff", "origin/main"])
    assert result.exit_code == 2
    assert "shallow clone" in result.output and "fetch" in result.output and "Traceback" not in result.output
