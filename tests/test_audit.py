"""The audit inventory: every query on a tenant table, in JSON, CSV, Markdown and an HTML page checked in a real
headless browser (Debian's chromium; .ci/run installs it and requires the test to run)."""
from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from tenantlint.cli import main

SQL_APP = Path(__file__).resolve().parents[1] / "fixtures" / "sql_app"
CLINIC = Path(__file__).resolve().parents[1] / "fixtures" / "django_clinic"


def audit(project: Path, fmt: str, *extra: str) -> str:
    config = ["--config", str(project / "tenantlint.toml")] if (project / "tenantlint.toml").exists() else []
    result = CliRunner().invoke(main, ["audit", str(project), "--format", fmt, "--no-cache", *config, *extra])
    assert result.exit_code == 0, result.output
    return result.output


def check_json(project: Path) -> dict:
    config = ["--config", str(project / "tenantlint.toml")] if (project / "tenantlint.toml").exists() else []
    result = CliRunner().invoke(main, ["check", str(project), "--format", "json", "--no-cache", *config])
    return json.loads(result.output)


@pytest.mark.parametrize("project", [SQL_APP, CLINIC], ids=["sql_app", "django_clinic"])
def test_every_finding_on_a_table_is_a_site_of_the_inventory(project: Path) -> None:
    doc = json.loads(audit(project, "json"))
    sites = doc["sites"]
    assert doc["summary"]["sites"] == len(sites) and sites
    assert sum(doc["summary"]["by_status"].values()) == len(sites)
    located = {(s["path"], s["line"], code) for s in sites for code in s["rules"]}
    findings = [f for f in check_json(project)["findings"] if f["code"] in ("TL101", "TL102", "TL103", "TL104") and "its SQL" not in f["message"]]
    missing = [f for f in findings if (f["path"], f["start"]["line"], f["code"]) not in located]
    assert not missing, missing
    # scoped sites are listed too: the inventory is more than the findings
    assert doc["summary"]["by_status"]["scoped"] > 0


def test_suppressions_keep_their_reason_in_the_inventory() -> None:
    sites = json.loads(audit(SQL_APP, "json"))["sites"]
    suppressed = [s for s in sites if s["suppressed"]]
    assert any("platform-wide count for the status page" in x for s in suppressed for x in s["suppressed"])
    assert all(not s["rules"] or s["status"] != "scoped" for s in sites)


def test_csv_and_markdown_carry_the_same_sites_with_tracking_columns() -> None:
    doc = json.loads(audit(SQL_APP, "json"))
    rows = list(csv.DictReader(io.StringIO(audit(SQL_APP, "csv"))))
    assert len(rows) == len(doc["sites"]) and {"owner", "fix_status", "status", "rules"} <= set(rows[0])
    md = audit(SQL_APP, "markdown")
    assert md.startswith("# Tenant isolation audit")
    assert md.count("\n| app/") + md.count("\n| reports/") == len(doc["sites"]) + len(doc["by_file"])
    for table, counts in doc["by_table"].items():
        assert f"| {table} | {counts.get('unscoped', 0)} | {counts.get('defeated', 0)} |" in md


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_html_report_renders_in_a_headless_browser(tmp_path: Path) -> None:
    browser = _chromium()
    if browser is None:
        if os.environ.get("TENANTLINT_REQUIRE_CHROMIUM"):
            pytest.fail("chromium is required here (TENANTLINT_REQUIRE_CHROMIUM is set) but is not installed")
        pytest.skip("chromium is not installed (Debian: apt-get install -y chromium); the HTML report was not rendered")
    page = tmp_path / "audit.html"
    audit(SQL_APP, "html", "--output", str(page))
    doc = json.loads(audit(SQL_APP, "json"))
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([browser, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120).stdout
    shot = tmp_path / "audit.png"
    subprocess.run([browser, *flags, f"--screenshot={shot}", "--window-size=1300,1200", page.as_uri()], capture_output=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 10_000  # a rendered page, looked at by hand when the report changed

    def number(element_id: str) -> int:
        m = re.search(rf'id="{element_id}"[^>]*>(\d+)<', dom)
        assert m, f"#{element_id} not in the rendered page"
        return int(m.group(1))

    s = doc["summary"]
    assert number("n-sites") == s["sites"]
    for status, count in s["by_status"].items():
        assert number(f"n-{status}") == count
    assert number("shown") == len(doc["sites"])  # the page's script ran: every row is shown before filtering
    bars = dict(re.findall(r'class="bar" data-table="([^"]+)" data-count="(\d+)"', dom))
    assert {t: int(n) for t, n in bars.items()} == s["unscoped_by_table"]
    assert len(re.findall(r"<tr data-status=", dom)) == len(doc["sites"])
