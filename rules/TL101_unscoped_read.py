"""TL101 unscoped-read

What it finds: a read of a tenant table with no tenant predicate.
Why it matters: the query returns rows of every tenant; one missing filter shows clinic B's patients to clinic A.
Bad:
    def patient_detail(request, pk):
        return Patient.objects.get(pk=pk)
Good:
    def patient_detail(request, pk):
        return Patient.objects.get(pk=pk, organization=request.user.organization)
How to silence it: # tenantlint: ignore[TL101] -- lookup by an unguessable token during sign-up
"""
from __future__ import annotations

from tenantlint.types import Scope, SiteKind

CODE, NAME, LEVEL = "TL101", "unscoped-read", "warning"
SECURITY_SEVERITY = "7.5"
SITE_KINDS = {SiteKind.READ}


def check(site, ctx):
    if not site.filter_required:
        return  # a table judged by its tenant context (mode = "context")
    if site.table.is_tenant_table and site.restriction.scope is Scope.UNSCOPED:
        why = site.restriction.reason
        if why.startswith("the row is selected by its unique") and not site.entry.startswith("availability check"):
            token = f" ({why}: if it is an unguessable token, suppress with that reason)"
        else:
            token = f" ({why})" if why else ""
        yield ctx.finding(site, f"{site.api}: read of tenant table {site.target} without a tenant filter{token}")
