"""The composite GitHub Action: well-formed, and its check step runs tenantlint the way the README says."""
from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

ACTION = Path(__file__).resolve().parents[1] / "action.yml"


def test_action_is_a_composite_that_gates_on_the_diff_and_uploads_sarif() -> None:
    action = yaml.safe_load(ACTION.read_text())
    assert action["runs"]["using"] == "composite"
    steps = {s.get("name") or s.get("uses"): s for s in action["runs"]["steps"]}
    check = steps["Check"]["run"]
    assert '--diff "$TL_BASE"' in check and '--baseline "$TL_BASELINE"' in check
    assert "--format sarif" in check and "--exit-zero" in check and "--format github" in check
    assert steps["Upload SARIF"]["uses"].startswith("github/codeql-action/upload-sarif")
    assert set(action["inputs"]) == {"path", "base", "baseline", "args", "python-version", "upload-sarif"}
    for step in action["runs"]["steps"]:
        assert "run" not in step or step.get("shell") == "bash"  # composite run steps must name their shell


def test_check_step_script_is_valid_bash() -> None:
    action = yaml.safe_load(ACTION.read_text())
    script = next(s["run"] for s in action["runs"]["steps"] if s.get("name") == "Check")
    proc = subprocess.run(["bash", "-n"], input=script, text=True, capture_output=True)
    assert proc.returncode == 0, proc.stderr
