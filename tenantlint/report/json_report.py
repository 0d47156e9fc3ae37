"""JSON: a stable, documented shape (docs/json-output.md). Bump FORMAT_VERSION on any incompatible change."""
from __future__ import annotations

import json
from collections import Counter

from tenantlint.report._common import level_counts, ordered

FORMAT_VERSION = 1


def as_dict(findings, rules, run) -> dict:
    ordered_findings = ordered(findings)
    return {
        "format_version": FORMAT_VERSION,
        "tool": {"name": "tenantlint", "version": run.version},
        "summary": {
            "files_checked": run.files_checked,
            "files_parsed": run.files_parsed,
            "seconds": round(run.seconds, 3),
            "findings": len(ordered_findings),
            "by_level": dict(sorted(level_counts(ordered_findings).items())),
            "by_code": dict(sorted(Counter(f.code for f in ordered_findings).items())),
        },
        "findings": [
            {
                "code": f.code,
                "name": f.name,
                "level": f.level.value,
                "path": f.path,
                "start": {"line": f.span.start_line, "column": f.span.start_col},
                "end": {"line": f.span.end_line, "column": f.span.end_col},
                "message": f.message,
                "fingerprint": f.fingerprint,
                "related": [
                    {"path": path, "start": {"line": span.start_line, "column": span.start_col}, "end": {"line": span.end_line, "column": span.end_col}, "message": message}
                    for path, span, message in f.related
                ],
            }
            for f in ordered_findings
        ],
        "notifications": [{"path": path, "message": message} for path, message in run.notifications],
        "cross_tenant": [{"path": path, "line": line, "reason": reason} for path, line, reason in run.cross_tenant],
    }


def render(findings, rules, run) -> str:
    return json.dumps(as_dict(findings, rules, run), indent=2, ensure_ascii=False) + "\n"
