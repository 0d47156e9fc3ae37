"""Reporters: findings -> text. One module per format, each exposing `render(findings, rules, run) -> str`."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RunInfo:
    """What a reporter may say about the run besides the findings."""

    root: Path  # project root; finding paths are relative to it
    files_checked: int = 0
    files_parsed: int = 0
    seconds: float = 0.0
    version: str = ""
    notifications: tuple[tuple[str, str], ...] = ()  # (path or "", message): unreadable files, config notes
    cross_tenant: tuple[tuple[str, int, str], ...] = ()  # (path, line or 0, reason): places declared cross-tenant
    command_line: str = ""
    show_source: bool = False  # text: the query's lines under each finding, the span marked
    color: bool = False  # text: colour codes and levels (a terminal, and NO_COLOR unset)


FORMATS = ("text", "json", "sarif", "github")


def render(fmt: str, findings, rules, run: RunInfo) -> str:
    import importlib

    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    module = importlib.import_module(f"tenantlint.report.{fmt}_report")
    return module.render(findings, rules, run)
