"""TL003 bad-suppression

What it finds: a `# tenantlint: ignore` comment without rule codes or without a reason, naming an unknown rule, or silencing nothing.
Why it matters: a blanket or unexplained suppression hides future leaks on that line and tells the next reviewer nothing.
Bad:
    def detail(org, pk):
        return Patient.objects.get(pk=pk, organization=org)  # tenantlint: ignore
Good:
    def detail(pk):
        return Patient.objects.get(pk=pk)  # tenantlint: ignore[TL101] -- pk is a signed share token
How to silence it: write the codes and a reason: # tenantlint: ignore[TL101] -- why this is safe
"""
from __future__ import annotations

CODE, NAME, LEVEL = "TL003", "bad-suppression", "warning"
SECURITY_SEVERITY = "4.0"
SITE_KINDS: set = set()  # emitted by the engine while it applies suppressions
ENGINE_DIAGNOSTIC = True


def check(site, ctx):
    return ()
