"""TL107 query-then-check

What it finds: a row fetched without a tenant filter and then compared with the tenant, leaving the function on a mismatch (`if obj.project_id != request.project.id: raise`).
Why it matters: the check keeps the row from being shown or changed, but the query still reaches other tenants' rows: the response and its timing tell whether an id exists in another tenant, and any use of the row placed before the check leaks it. Filtering in the query is the safer form.
Bad:
    def patient_detail(request, pk):
        patient = Patient.objects.get(pk=pk)
        if patient.organization_id != request.user.organization_id:
            raise PermissionError("not yours")
        return patient
Good:
    def patient_detail(request, pk):
        return Patient.objects.get(pk=pk, organization=request.user.organization)
How to silence it: # tenantlint: ignore[TL107] -- the 403 is indistinguishable from the 404 here
"""
from __future__ import annotations

from tenantlint.types import Scope, SiteKind

CODE, NAME, LEVEL = "TL107", "query-then-check", "note"
SECURITY_SEVERITY = "3.0"
SITE_KINDS = {SiteKind.READ}


def check(site, ctx):
    if not site.filter_required:
        return  # a table judged by its tenant context (mode = "context")
    if site.table.is_tenant_table and site.restriction.scope is Scope.GUARDED:
        # "first in list(), retrieve(): <check>": a view's actions checked the row before its queryset re-reads it
        when = f"checked first ({site.guard[6:]})" if site.guard.startswith("first in ") else f"checked afterwards ({site.guard})"
        yield ctx.finding(site, f"{site.api}: read of tenant table {site.target} without a tenant filter, {when}; filter in the query instead")
