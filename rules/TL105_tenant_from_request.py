"""TL105 tenant-from-request

What it finds: the tenant value that scopes a query, binds a tenant context or is written on insert, read from request input (query string, body, headers, cookies, a FastAPI Header/Query parameter or a path parameter named like the tenant) instead of the authenticated principal. Also a Django form or DRF serializer whose `Meta.fields` leave the tenant key writable: the caller picks the tenant a row is created in or moved to.
Why it matters: the filter is there, but the caller picks the tenant: `?org_id=2` reads clinic B's rows with clinic A's session.
Bad:
    def patients(request):
        return Patient.objects.filter(organization_id=request.GET["org_id"])
Good:
    def patients(request):
        return Patient.objects.filter(organization_id=request.user.organization_id)
How to silence it: # tenantlint: ignore[TL105] -- the org id is checked against the user's memberships by the middleware
"""
from __future__ import annotations

from tenantlint.types import SiteKind

CODE, NAME, LEVEL = "TL105", "tenant-from-request", "error"
SECURITY_SEVERITY = "8.8"
SITE_KINDS = {SiteKind.TENANT_VALUE}


def check(site, ctx):
    if site.value_source == "request":
        yield ctx.finding(site, f"{site.api}: {site.restriction.reason}")
