"""The pre-commit hook, run for real with `pre-commit try-repo` against a throwaway git repository."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

MODELS = """\
from django.db import models


class Organization(models.Model):
    name = models.CharField(max_length=10)


class Patient(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
"""


def git(cwd: Path, *args: str, env: dict | None = None) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, env=env)


_SKIP = shutil.ignore_patterns(".git", ".venv", "venv", "__pycache__", "*.egg-info", ".pytest_cache", ".tenantlint_cache", "build", "dist")


@pytest.fixture(scope="module")
def hook_env(tmp_path_factory) -> tuple[Path, dict]:
    """A committed copy of this repository (try-repo reads committed files) and a private pre-commit home."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    base = tmp_path_factory.mktemp("precommit")
    env = dict(os.environ)
    env.update(
        PRE_COMMIT_HOME=str(base / "pre-commit-home"),
        HOME=str(base / "home"),
        GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.invalid",
        GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.invalid",
        PATH=str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", ""),
    )
    (base / "home").mkdir()
    hook_repo = base / "tenantlint"
    shutil.copytree(REPO, hook_repo, ignore=_SKIP)
    git(hook_repo, "init", "-q", env=env)
    git(hook_repo, "add", "-A", env=env)
    git(hook_repo, "commit", "-q", "-m", "snapshot", env=env)
    return hook_repo, env


@pytest.fixture
def project(tmp_path: Path, hook_env) -> tuple[Path, Path, dict]:
    hook_repo, env = hook_env
    root = tmp_path / "proj"
    (root / "app").mkdir(parents=True)
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "models.py").write_text(MODELS)
    git(root, "init", "-q", env=env)
    return root, hook_repo, env


def try_repo(root: Path, hook_repo: Path, env: dict) -> subprocess.CompletedProcess:
    git(root, "add", "-A", env=env)
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo), "tenantlint", "--all-files", "--verbose"],
        cwd=root, env=env, capture_output=True, text=True, timeout=900,
    )


def test_hook_reports_a_leak_and_fails(project):
    root, hook_repo, env = project
    (root / "app" / "views.py").write_text("from app.models import Patient\n\n\ndef show(pk):\n    return Patient.objects.get(pk=pk)\n")
    proc = try_repo(root, hook_repo, env)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "app/views.py:5:12: TL101" in out


def test_hook_passes_on_scoped_code(project):
    root, hook_repo, env = project
    (root / "app" / "views.py").write_text(
        "from app.models import Patient\n\n\ndef show(org, pk):\n    return Patient.objects.get(pk=pk, organization=org)\n"
    )
    proc = try_repo(root, hook_repo, env)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "tenantlint" in out and "Passed" in out
