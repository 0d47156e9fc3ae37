"""GitHub Actions workflow commands: one annotation per finding on the pull request's diff."""
from __future__ import annotations

from tenantlint.report._common import ordered

_COMMAND = {"error": "error", "warning": "warning", "note": "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render(findings, rules, run) -> str:
    lines = []
    for f in ordered(findings):
        props = [
            f"file={escape_property(f.path)}",
            f"line={f.span.start_line}",
            f"col={f.span.start_col}",
            f"endLine={f.span.end_line}",
        ]
        if f.span.end_line == f.span.start_line:
            props.append(f"endColumn={f.span.end_col}")
        props.append(f"title={escape_property(f'{f.code} {f.name}')}")
        lines.append(f"::{_COMMAND.get(f.level.value, 'warning')} {','.join(props)}::{escape_data(f.message)}")
    for path, message in run.notifications:
        lines.append(f"::warning{' file=' + escape_property(path) if path else ''}::{escape_data(message)}")
    return "\n".join(lines) + ("\n" if lines else "")
