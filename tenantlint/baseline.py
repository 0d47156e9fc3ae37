"""A baseline: the findings a team has accepted for now, so that a gate fails only on new ones.

The file (`.tenantlint-baseline.json` by default) is sorted and carries no line numbers, so it changes only when
findings do. A finding matches an entry by its fingerprint (rule, file, normalised query text, enclosing function:
line shifts and edits elsewhere do not change it), as a multiset: two identical findings where the baseline holds
one are one new finding. What is left is matched a second time without the path, so a file moved or renamed with
its query and function unchanged keeps its entries.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from tenantlint.types import Finding

FORMAT_VERSION = 1
DEFAULT_NAME = ".tenantlint-baseline.json"


class BaselineError(Exception):
    """The baseline file cannot be read: the message names it."""


@dataclass(frozen=True, slots=True)
class Entry:
    code: str
    path: str
    message: str
    fingerprint: str  # without the occurrence suffix
    content: str  # the fingerprint without the path

    def as_dict(self) -> dict:
        return {"code": self.code, "path": self.path, "message": self.message, "fingerprint": self.fingerprint, "content": self.content}


def default_path(config) -> Path:
    """The baseline file of a project: the `baseline` key, else .tenantlint-baseline.json at the root."""
    return config.root / (config.baseline or DEFAULT_NAME)


def _base(fingerprint: str) -> str:
    return fingerprint.rsplit(":", 1)[0]


def entry_of(f: Finding) -> Entry:
    return Entry(f.code, f.path, f.message, _base(f.fingerprint), f.content_fingerprint)


def dump(entries: list[Entry]) -> str:
    ordered = sorted(entries, key=lambda e: (e.path, e.code, e.fingerprint, e.message))
    doc = {"format_version": FORMAT_VERSION, "tool": "tenantlint", "findings": [e.as_dict() for e in ordered]}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def load(path: Path) -> list[Entry]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineError(f"{path}: baseline file not found (create it with `tenantlint baseline create`)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BaselineError(f"{path}: cannot read the baseline: {exc}") from None
    except json.JSONDecodeError as exc:
        raise BaselineError(f"{path}: not a tenantlint baseline (invalid JSON: {exc.msg}, line {exc.lineno})") from None
    if not isinstance(doc, dict) or doc.get("tool") != "tenantlint" or not isinstance(doc.get("findings"), list):
        raise BaselineError(f"{path}: not a tenantlint baseline (expected an object with tool and findings)")
    if doc.get("format_version") != FORMAT_VERSION:
        raise BaselineError(f"{path}: baseline format {doc.get('format_version')!r}; this tenantlint reads format {FORMAT_VERSION}")
    out = []
    for i, item in enumerate(doc["findings"]):
        try:
            out.append(Entry(str(item["code"]), str(item["path"]), str(item.get("message", "")), str(item["fingerprint"]), str(item.get("content", ""))))
        except (KeyError, TypeError):
            raise BaselineError(f"{path}: entry {i + 1} lacks code, path or fingerprint") from None
    return out


@dataclass
class Comparison:
    new: list[Finding]  # findings the baseline does not hold
    known: list[tuple[Finding, Entry]]  # findings matched, with their entry
    gone: list[Entry]  # entries no finding matches any more (fixed)


def compare(findings: list[Finding], entries: list[Entry]) -> Comparison:
    by_fingerprint: dict[str, list[Entry]] = {}
    for e in entries:
        by_fingerprint.setdefault(e.fingerprint, []).append(e)
    new: list[Finding] = []
    known: list[tuple[Finding, Entry]] = []
    for f in findings:
        pool = by_fingerprint.get(_base(f.fingerprint))
        if pool:
            known.append((f, pool.pop()))
        else:
            new.append(f)
    # second chance without the path: a file moved with its query and function unchanged
    left = [e for pool in by_fingerprint.values() for e in pool]
    by_content: dict[tuple[str, str], list[Entry]] = {}
    for e in left:
        if e.content:
            by_content.setdefault((e.code, e.content), []).append(e)
    still_new: list[Finding] = []
    for f in new:
        pool = by_content.get((f.code, f.content_fingerprint))
        if pool:
            e = pool.pop()
            known.append((f, e))
            left.remove(e)
        else:
            still_new.append(f)
    return Comparison(still_new, known, left)


def counts(entries: list[Entry]) -> Counter:
    return Counter(e.code for e in entries)
