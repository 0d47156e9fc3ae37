"""Ground truth for the SQL analyzer from a real PostgreSQL server.

Each statement of the corpus runs as tenant A (every placeholder bound to tenant A's values) three times, each in
a transaction that is rolled back: with tenant B's rows present, with them deleted, and with their data altered.
The statement does not interfere with tenant B when
* its result is the same in the three runs,
* tenant A's rows after it are the same in the three runs,
* no row of tenant B is changed or created, and it creates no row that belongs to no tenant.
The analyzer's verdict "restricted" (every tenant-table reference scoped) must equal that, for every statement.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tenantlint.config import Config
from tenantlint.schema.ddl import facts_from_sql
from tenantlint.schema.resolve import build_schema
from tenantlint.sql import judge_text
from tenantlint.types import Scope

from oracle.corpus import corpus
from postgres_server import PostgresServer, ServerUnavailable

HERE = Path(__file__).parent / "oracle"
SCHEMA_SQL = (HERE / "schema.sql").read_text()
DATA_SQL = (HERE / "data.sql").read_text()
PARAMS = {"org": 1, "orgs": [1], "pid": 11, "slug": "a"}

ABSENT = """
delete from notes where patient_id in (select id from patients where org_id = 2);
delete from orders where org_id = 2;
delete from patients where org_id = 2;
delete from templates where org_id = 2;
"""
ALTERED = """
update notes set body = body || '!' where patient_id in (select id from patients where org_id = 2);
update orders set total = total + 1000, status = status || '!' where org_id = 2;
update patients set name = name || '!', status = status || '!', mrn = mrn || '!' where org_id = 2;
update templates set title = title || '!' where org_id = 2;
"""
ROWS_BY_TENANT = """
select 'patients', org_id, row_to_json(t)::text from patients t
union all select 'orders', org_id, row_to_json(t)::text from orders t
union all select 'notes', p.org_id, row_to_json(n)::text from notes n left join patients p on p.id = n.patient_id
union all select 'templates', org_id, row_to_json(t)::text from templates t
"""
STATEMENTS = corpus()


@pytest.fixture(scope="module")
def server():
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("psycopg is not installed (pip install -e '.[test]')")
    try:
        srv = PostgresServer().start()
    except ServerUnavailable as exc:
        if os.environ.get("TENANTLINT_REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL is required here (TENANTLINT_REQUIRE_POSTGRES is set) but could not start: {exc}")
        pytest.skip(f"no PostgreSQL server could be started, the SQL oracle did not run: {exc}")
    try:
        with srv.connect() as conn:
            conn.execute(SCHEMA_SQL)
            conn.execute(DATA_SQL)
            conn.commit()
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def conn(server):
    c = server.connect()
    yield c
    c.close()


@pytest.fixture(scope="module")
def schema():
    facts, diags = facts_from_sql(SCHEMA_SQL, "schema.sql")
    assert not diags
    return build_schema(facts, Config(tenant_roots=("organizations",)))


def _snapshot(cur) -> dict:
    cur.execute(ROWS_BY_TENANT)
    out: dict = {}
    for table, tenant, row in cur.fetchall():
        out.setdefault(tenant, []).append(f"{table}:{row}")
    return {k: sorted(v) for k, v in out.items()}


def _run(conn, variant: str, sql: str):
    with conn.cursor() as cur:
        try:
            if variant:
                cur.execute(variant)
            cur.execute("set local app.org = '1'")
            before = _snapshot(cur)
            cur.execute(sql, PARAMS)
            result = sorted(map(repr, cur.fetchall())) if cur.description else None
            after = _snapshot(cur)
        finally:
            conn.rollback()
    return result, before, after


def _interferes(conn, sql: str) -> str:
    """Why the statement's effect depends on or reaches tenant B; "" when it does not."""
    runs = {name: _run(conn, v, sql) for name, v in (("present", ""), ("absent", ABSENT), ("altered", ALTERED))}
    results = {name: r[0] for name, r in runs.items()}
    if len({repr(v) for v in results.values()}) > 1:
        return "its result depends on tenant B's rows"
    if len({repr(r[2].get(1)) for r in runs.values()}) > 1:
        return "tenant A's rows after it depend on tenant B's rows"
    for name, (_, before, after) in runs.items():
        if before.get(2) != after.get(2):
            return f"it changes tenant B's rows ({name})"
        if len(after.get(None, [])) > len(before.get(None, [])):
            return "it creates a row of no tenant"
    return ""


def _restricted(schema, sql: str) -> tuple[bool, str]:
    judged, parsed = judge_text(sql, schema)
    assert parsed.error is None, parsed.error
    verdicts = [v for j in judged for v in j.verdicts]
    open_ = [f"{v.table.table} {v.alias} ({v.kind.value}: {v.restriction.scope.value})" for v in verdicts if v.restriction.scope is not Scope.SCOPED]
    return not open_, ", ".join(open_)


def test_corpus_is_large_and_varied():
    assert len(STATEMENTS) >= 80
    assert len(set(STATEMENTS)) == len(STATEMENTS)
    kinds = {s.split()[0].upper() for s in STATEMENTS}
    assert {"SELECT", "WITH", "UPDATE", "DELETE", "INSERT", "MERGE"} <= kinds


@pytest.mark.parametrize("sql", STATEMENTS, ids=[f"{i:03d}" for i in range(len(STATEMENTS))])
def test_analyzer_agrees_with_postgres(conn, schema, sql):
    why = _interferes(conn, sql)
    restricted, open_ = _restricted(schema, sql)
    if restricted:
        assert not why, f"analyzer says restricted, but on the server {why}:\n{sql}"
    else:
        assert why, f"analyzer says not restricted ({open_}), but on the server the statement does not interfere with tenant B:\n{sql}"


def test_both_verdicts_occur(conn, schema):
    """The corpus is not one-sided: the server finds both interfering and non-interfering statements."""
    verdicts = {bool(_interferes(conn, sql)) for sql in STATEMENTS[:40]}
    assert verdicts == {True, False}
