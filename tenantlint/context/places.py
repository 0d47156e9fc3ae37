"""Places allowed to work across tenants: `cross-tenant` in configuration (`path::qualified.name` or a path glob)
and `# tenantlint: cross-tenant -- reason` on a function's `def` line."""
from __future__ import annotations

import re
from functools import lru_cache

import pathspec

_INLINE = re.compile(r"#\s*tenantlint:\s*cross-tenant\b\s*(?:--\s*(?P<reason>.*))?$", re.IGNORECASE)


@lru_cache(maxsize=64)
def _compiled(entries: tuple[str, ...]) -> tuple[pathspec.PathSpec | None, tuple[tuple[str, str], ...]]:
    globs = [e for e in entries if "::" not in e]
    functions = tuple(tuple(e.split("::", 1)) for e in entries if "::" in e)
    return (pathspec.PathSpec.from_lines("gitwildmatch", globs) if globs else None), functions


def configured(entries: tuple[str, ...], rel: str, function: str) -> str:
    """The configuration entry that declares `function` of `rel` cross-tenant, or ""."""
    if not entries:
        return ""
    spec, functions = _compiled(entries)
    for path, qual in functions:
        if path == rel and (function == qual or function.startswith(qual + ".")):
            return f"cross-tenant = {path}::{qual}"
    if spec is not None and spec.match_file(rel):
        return "cross-tenant path"
    return ""


def inline_marker(line: str) -> str | None:
    """The reason of a `# tenantlint: cross-tenant -- reason` comment on a `def` line ("" without a reason)."""
    m = _INLINE.search(line)
    if m is None:
        return None
    return (m.group("reason") or "").strip()


# What a request carries, after `request.` (Django, DRF 3 and DRF 2's `DATA` / `QUERY_PARAMS`, Flask, Starlette): a
# tenant value read from one of these comes from the caller, not from the authenticated principal.
REQUEST_PARTS = frozenset({
    "GET", "POST", "data", "query_params", "DATA", "QUERY_PARAMS", "FILES", "headers", "META", "COOKIES", "args", "form",
    "json", "values", "cookies", "query", "body", "path_params",
})
