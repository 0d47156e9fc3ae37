"""TL001 parse-error

What it finds: a file tenantlint could not read (a syntax error, an undecodable file, a SQL file sqlglot rejects).
Why it matters: its queries were not checked; a silent skip would let a leak through the gate.
Bad:
    def broken(:
        return Patient.objects.all()
Good:
    def fixed():
        return Patient.objects.filter(organization=org)
How to silence it: fix the file, or exclude it with `extend-exclude` in [tool.tenantlint].
"""
from __future__ import annotations

CODE, NAME, LEVEL = "TL001", "parse-error", "error"
SECURITY_SEVERITY = "5.0"
SITE_KINDS: set = set()  # emitted by the engine, not by query sites
ENGINE_DIAGNOSTIC = True


def check(site, ctx):
    return ()
