"""TL202 rls-bypass

What it finds: row-level security switched off or bypassed outside the places declared `cross-tenant`: `SET row_security = off`, `SET ROLE` to a role listed in `rls-bypass-roles`, a supabase client built with the service-role key, django-scopes `scopes_disabled()`, a manager listed in `unscoped-managers`. A `scopes_disabled()` block whose every query on a scoped model is judged in place and restricted, and that calls no project query function unjudged, is not reported: nothing runs there unseen. Neither is a block of collision checks (whether a code drawn in a retry loop is taken), nor a queued task's read of the row it takes its tenant context from.
Why it matters: every query after it sees every tenant's rows; it belongs in a handful of audited places, not in request code.
Bad:
    def search(q):
        with scopes_disabled():
            return search_everything(q)
Good:
    def rebuild_search_index():  # tenantlint: cross-tenant -- nightly job over every organization
        with scopes_disabled():
            return reindex_everything()
How to silence it: declare the function in `cross-tenant`, or mark its `def` line `# tenantlint: cross-tenant -- reason`.
"""
from __future__ import annotations

from tenantlint.types import SiteKind

CODE, NAME, LEVEL = "TL202", "rls-bypass", "error"
SECURITY_SEVERITY = "8.2"
SITE_KINDS = {SiteKind.BYPASS}


def check(site, ctx):
    if not site.cross_tenant:
        yield ctx.finding(site, f"{site.api}: {site.restriction.reason}")
