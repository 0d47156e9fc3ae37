"""TL002 unverifiable-query

What it finds: a query on a tenant table whose tenant filter cannot be checked statically, such as `filter(**kwargs)` built elsewhere.
Why it matters: it is a blind spot in the audit; someone must read it or make the filter visible.
Bad:
    def search(org, filters):
        return Patient.objects.filter(**filters)
Good:
    def search(org, filters):
        return Patient.objects.filter(organization=org, **filters)
How to silence it: # tenantlint: ignore[TL002] -- filters always come from build_tenant_filters()
"""
from __future__ import annotations

from tenantlint.types import Scope, SiteKind

CODE, NAME, LEVEL = "TL002", "unverifiable-query", "note"
SECURITY_SEVERITY = "3.0"
SITE_KINDS = {SiteKind.READ, SiteKind.UPDATE, SiteKind.DELETE, SiteKind.INSERT}


def check(site, ctx):
    if not site.filter_required:
        return  # a table judged by its tenant context (mode = "context")
    if site.restriction.scope is Scope.UNKNOWN and (site.table.is_tenant_table or site.table.opaque):
        why = site.restriction.reason or "the tenant filter is not visible"
        yield ctx.finding(site, f"{site.api}: cannot verify the tenant filter on {site.target}: {why}")
