"""Helpers shared by the reporters."""
from __future__ import annotations

from collections import Counter
from typing import Iterable

from tenantlint.types import Finding, Level


def ordered(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.path, f.span.start_line, f.span.start_col, f.code, f.message))


def level_counts(findings: list[Finding]) -> Counter:
    return Counter(f.level.value if isinstance(f.level, Level) else str(f.level) for f in findings)


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
