"""TL104 defeated-tenant-filter

What it finds: a tenant predicate that OR, NOT or exclude() defeats, so the query is not restricted to one tenant.
Why it matters: the filter looks present in review but `Q(organization=org) | Q(status="vip")` returns every tenant's VIP rows.
Bad:
    def vip_patients(org):
        return Patient.objects.filter(Q(organization=org) | Q(status="vip"))
Good:
    def vip_patients(org):
        return Patient.objects.filter(Q(organization=org) & Q(status="vip"))
How to silence it: # tenantlint: ignore[TL104] -- status rows are public by design
"""
from __future__ import annotations

from tenantlint.types import Scope, SiteKind

CODE, NAME, LEVEL = "TL104", "defeated-tenant-filter", "error"
SECURITY_SEVERITY = "8.6"
SITE_KINDS = {SiteKind.READ, SiteKind.UPDATE, SiteKind.DELETE, SiteKind.INSERT}


def check(site, ctx):
    if not site.filter_required:
        return  # a table judged by its tenant context (mode = "context")
    if site.table.is_tenant_table and site.restriction.scope is Scope.DEFEATED:
        why = f" ({site.restriction.reason})" if site.restriction.reason else ""
        yield ctx.finding(site, f"{site.api}: tenant filter on {site.target} is defeated{why}")
