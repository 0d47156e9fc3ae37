"""TL106 tenant-fallback

What it finds: a tenant value with a fallback (`user.org_id or DEFAULT_ORG`, `.get("org_id", 1)`, `getattr(user, "org_id", 1)`, a conditional with a literal) used to scope a query, bind a tenant context or write a row.
Why it matters: when the tenant is missing, the request silently works inside a real tenant (often the first customer) instead of failing.
Bad:
    def patients(user):
        return Patient.objects.filter(organization_id=user.organization_id or DEFAULT_ORG)
Good:
    def patients(user):
        if user.organization_id is None:
            raise PermissionDenied()
        return Patient.objects.filter(organization_id=user.organization_id)
How to silence it: # tenantlint: ignore[TL106] -- single-tenant deployment, the default is the only tenant
"""
from __future__ import annotations

from tenantlint.types import SiteKind

CODE, NAME, LEVEL = "TL106", "tenant-fallback", "error"
SECURITY_SEVERITY = "8.1"
SITE_KINDS = {SiteKind.TENANT_VALUE}


def check(site, ctx):
    if site.value_source == "fallback":
        yield ctx.finding(site, f"{site.api}: {site.restriction.reason}")
