"""TL201 query-outside-tenant-context

What it finds: in `mode = "context"` or `"both"` (or for a table in `context-tables`), a query on a tenant table that can run outside a tenant context: no binder around it, no tenant session handed to it, and a caller, task, command or route from which no context is set.
Why it matters: with row-level security the context is the filter; a query outside one sees no rows, or, on a connection that kept another request's setting, another tenant's rows.
Bad:
    def nightly_report():
        return Patient.objects.filter(archived=False).count()
Good:
    def nightly_report(org):
        with tenant_context(org):
            return Patient.objects.filter(archived=False).count()
How to silence it: declare the function in `cross-tenant` (or `# tenantlint: cross-tenant -- reason` on its def line) when it works across tenants on purpose.
"""
from __future__ import annotations

from tenantlint.types import SiteKind

CODE, NAME, LEVEL = "TL201", "query-outside-tenant-context", "error"
SECURITY_SEVERITY = "8.5"
SITE_KINDS = {SiteKind.READ, SiteKind.UPDATE, SiteKind.DELETE, SiteKind.INSERT}
EXAMPLE_CONFIG = {"mode": "context", "tenant-contexts": ["tenant_context"]}  # the configuration its examples assume


def check(site, ctx):
    if site.context_required and site.context_gap and not site.cross_tenant and site.table.is_tenant_table:
        yield ctx.finding(site, f"{site.api}: {site.kind.value} of tenant table {site.target} can run outside a tenant context (from {site.context_gap})")
