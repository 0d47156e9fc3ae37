"""Text: one line per finding, `path:line:col: CODE message`, then a summary (like ruff)."""
from __future__ import annotations

from pathlib import Path

import click

from tenantlint.report._common import level_counts, ordered, plural


_LEVEL_COLOR = {"error": "red", "warning": "yellow", "note": "cyan"}
MAX_SOURCE_LINES = 6


def render(findings, rules, run) -> str:
    lines = []
    sources = _Sources(run.root)
    style = (lambda text, **kw: click.style(text, **kw)) if run.color else (lambda text, **kw: text)
    for f in ordered(findings):
        code = style(f.code, fg=_LEVEL_COLOR.get(f.level.value), bold=True)
        lines.append(f"{style(f.path, bold=True)}:{f.span.start_line}:{f.span.start_col}: {code} {f.message}")
        # where the query itself is, when it was judged at a call of a helper
        lines.extend(f"  {path}:{span.start_line}:{span.start_col}: note: {message}" for path, span, message in f.related)
        if run.show_source:
            lines.extend(_excerpt(sources.lines(f.path), f.span, style))
    notes = [f"{path}: {message}" if path else message for path, message in run.notifications]
    out = list(lines)
    if notes:
        if out:
            out.append("")
        out.extend(notes)
    counts = level_counts(findings)
    files = f"{plural(run.files_checked, 'file')} checked ({run.files_parsed} parsed) in {run.seconds:.2f}s"
    if findings:
        parts = [plural(counts.get(level, 0), word) for level, word in (("error", "error"), ("warning", "warning"), ("note", "note")) if counts.get(level)]
        summary = f"Found {plural(len(findings), 'finding')} ({', '.join(parts)}) in {files}."
    else:
        summary = f"No findings in {files}."
    if out:
        out.append("")
    out.append(summary)
    return "\n".join(out) + "\n"


class _Sources:
    """File lines read once per report, for --show-source."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._lines: dict[str, list[str]] = {}

    def lines(self, rel: str) -> list[str]:
        if rel not in self._lines:
            try:
                self._lines[rel] = (self.root / rel).read_text(encoding="utf-8-sig", errors="replace").splitlines()
            except OSError:
                self._lines[rel] = []
        return self._lines[rel]


def _excerpt(lines: list[str], span, style) -> list[str]:
    """The finding's lines with a gutter, and carets under the span on its first line (ruff's --show-source)."""
    if not lines or span.start_line > len(lines):
        return []
    last = min(span.end_line, len(lines), span.start_line + MAX_SOURCE_LINES - 1)
    width = len(str(last))
    out = [f"{'':>{width}} |"]
    for n in range(span.start_line, last + 1):
        out.append(f"{n:>{width}} | {lines[n - 1]}")
        if n == span.start_line:
            end = span.end_col if span.end_line == span.start_line else len(lines[n - 1]) + 1
            carets = "^" * max(1, end - span.start_col)
            out.append(f"{'':>{width}} | {' ' * (span.start_col - 1)}{style(carets, fg='red', bold=True)}")
    if last < span.end_line:
        out.append(f"{'':>{width}} | ...")
    return out
