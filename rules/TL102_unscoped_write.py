"""TL102 unscoped-write

What it finds: an UPDATE or DELETE on a tenant table with no tenant predicate.
Why it matters: one request rewrites or erases every tenant's rows.
Bad:
    def archive_all():
        Patient.objects.filter(archived=True).delete()
Good:
    def archive_all(org):
        Patient.objects.filter(archived=True, organization=org).delete()
How to silence it: # tenantlint: ignore[TL102] -- purge job runs per tenant in a loop
"""
from __future__ import annotations

from tenantlint.types import Scope, SiteKind

CODE, NAME, LEVEL = "TL102", "unscoped-write", "error"
SECURITY_SEVERITY = "9.1"
SITE_KINDS = {SiteKind.UPDATE, SiteKind.DELETE}


def check(site, ctx):
    if not site.filter_required:
        return  # a table judged by its tenant context (mode = "context")
    if site.table.is_tenant_table and site.restriction.scope is Scope.UNSCOPED:
        why = f" ({site.restriction.reason})" if site.restriction.reason else ""
        yield ctx.finding(site, f"{site.api}: {site.kind.value} of tenant table {site.target} without a tenant filter{why}")
