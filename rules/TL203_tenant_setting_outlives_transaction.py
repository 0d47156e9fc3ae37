"""TL203 tenant-setting-outlives-transaction

What it finds: a tenant setting bound for the session instead of the transaction: `SET app.org_id = ...` without LOCAL, `set_config('app.org_id', ..., false)` or with a third argument that is not a literal true, `SET search_path` per tenant.
Why it matters: connections are pooled (every SQLAlchemy engine, Django connection and psycopg pool), so the next request on the connection inherits the previous request's tenant.
Bad:
    def bind(cursor, org_id):
        cursor.execute("SELECT set_config('app.org_id', %s, false)", [org_id])
Good:
    def bind(cursor, org_id):
        cursor.execute("SELECT set_config('app.org_id', %s, true)", [org_id])
How to silence it: # tenantlint: ignore[TL203] -- the connection is closed after this command, never pooled
"""
from __future__ import annotations

from tenantlint.types import SiteKind

CODE, NAME, LEVEL = "TL203", "tenant-setting-outlives-transaction", "error"
SECURITY_SEVERITY = "8.0"
SITE_KINDS = {SiteKind.SETTING}


def check(site, ctx):
    yield ctx.finding(site, f"{site.api}: {site.restriction.reason}")
