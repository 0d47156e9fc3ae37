"""Text: one line per finding, `path:line:col: CODE message`, then a summary (like ruff)."""
from __future__ import annotations

from tenantlint.report._common import level_counts, ordered, plural


def render(findings, rules, run) -> str:
    lines = []
    for f in ordered(findings):
        lines.append(f"{f.path}:{f.span.start_line}:{f.span.start_col}: {f.code} {f.message}")
        # where the query itself is, when it was judged at a call of a helper
        lines.extend(f"  {path}:{span.start_line}:{span.start_col}: note: {message}" for path, span, message in f.related)
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
