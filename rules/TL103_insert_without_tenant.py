"""TL103 insert-without-tenant

What it finds: an insert into a tenant table that does not write the tenant column.
Why it matters: the row belongs to no tenant, or to whichever tenant a default or trigger picks; it can become visible to everyone or be lost.
Bad:
    def add_patient(request):
        Patient.objects.create(name=request.POST["name"])
Good:
    def add_patient(request):
        Patient.objects.create(name=request.POST["name"], organization=request.user.organization)
How to silence it: # tenantlint: ignore[TL103] -- a database trigger sets organization_id from the session
"""
from __future__ import annotations

from tenantlint.types import Scope, SiteKind

CODE, NAME, LEVEL = "TL103", "insert-without-tenant", "warning"
SECURITY_SEVERITY = "6.5"
SITE_KINDS = {SiteKind.INSERT}


def check(site, ctx):
    if not site.filter_required:
        return  # a table judged by its tenant context (mode = "context")
    if site.table.is_tenant_table and site.restriction.scope is Scope.UNSCOPED:
        column = site.table.tenant.tenant_column or "/".join("__".join(p) for p in site.table.tenant.tenant_paths)
        yield ctx.finding(site, f"{site.api}: insert into tenant table {site.target} without a tenant value ({column})")
