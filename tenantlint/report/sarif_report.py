"""SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

Plain dictionaries, validated against the official schema in the tests: the SARIF object-model packages on
PyPI are either unmaintained since 2019 (sarif-om, which also needs jschema_to_python to serialise) or pull in
pydantic for what is a hundred lines of structure here.
"""
from __future__ import annotations

import json

from tenantlint.report._common import ordered

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/tenantlint/tenantlint"
_LEVEL = {"error": "error", "warning": "warning", "note": "note"}


def _rule(rule) -> dict:
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.what},
        "help": {"text": rule.explain(), "markdown": rule.markdown()},
        "defaultConfiguration": {"level": _LEVEL[rule.level.value]},
        "properties": {
            "tags": ["security", "multi-tenancy"] if not rule.engine_diagnostic else ["tool"],
            "security-severity": rule.security_severity,
            "precision": "medium",
        },
    }


def _region(span) -> dict:
    region = {"startLine": span.start_line, "startColumn": span.start_col}
    if span.end_line >= span.start_line:
        region["endLine"] = span.end_line
        region["endColumn"] = max(span.end_col, 1)
    return region


def as_dict(findings, rules, run) -> dict:
    rule_list = [rules[code] for code in sorted(rules)]
    index = {rule.code: i for i, rule in enumerate(rule_list)}
    results = []
    for f in ordered(findings):
        region = _region(f.span)
        result = {
            "ruleId": f.code,
            "level": _LEVEL.get(f.level.value, "warning"),
            "message": {"text": f.message},
            "locations": [
                {"physicalLocation": {"artifactLocation": {"uri": f.path, "uriBaseId": "%SRCROOT%"}, "region": region}}
            ],
            "partialFingerprints": {"tenantlint/v1": f.fingerprint or f"{f.code}:{f.path}:{f.message}"},
        }
        if f.code in index:
            result["ruleIndex"] = index[f.code]
        if f.related:
            result["relatedLocations"] = [
                {
                    "id": i,
                    "physicalLocation": {"artifactLocation": {"uri": path, "uriBaseId": "%SRCROOT%"}, "region": _region(span)},
                    "message": {"text": message},
                }
                for i, (path, span, message) in enumerate(f.related, 1)
            ]
        results.append(result)
    root_uri = run.root.resolve().as_uri()
    invocation = {"executionSuccessful": True}
    if run.command_line:
        invocation["commandLine"] = run.command_line
    if run.notifications:
        invocation["toolExecutionNotifications"] = [
            {
                "level": "warning",
                "message": {"text": message},
                **({"locations": [{"physicalLocation": {"artifactLocation": {"uri": path, "uriBaseId": "%SRCROOT%"}}}]} if path else {}),
            }
            for path, message in run.notifications
        ]
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "tenantlint",
                        "version": run.version or "0",
                        "semanticVersion": run.version or "0.0.0",
                        "informationUri": INFORMATION_URI,
                        "rules": [_rule(r) for r in rule_list],
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": root_uri if root_uri.endswith("/") else root_uri + "/"}},
                "invocations": [invocation],
                "results": results,
                "columnKind": "unicodeCodePoints",
            }
        ],
    }


def render(findings, rules, run) -> str:
    return json.dumps(as_dict(findings, rules, run), indent=2, ensure_ascii=False) + "\n"
