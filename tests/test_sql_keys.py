"""The SQL analysis names the parameters that pick an unrestricted reference's rows by a column (`id = ANY(%s)`,
`id = tmp.id` of `(VALUES %s) AS tmp`), so an adapter that knows the values handed can judge them."""
from __future__ import annotations

from pathlib import Path

import pytest

from tenantlint.config import Config
from tenantlint.schema.ddl import facts_from_sql
from tenantlint.schema.resolve import build_schema
from tenantlint.sql import judge_text
from tenantlint.types import Scope

SCHEMA_SQL = (Path(__file__).parent / "oracle" / "schema.sql").read_text()


@pytest.fixture(scope="module")
def schema():
    facts, diags = facts_from_sql(SCHEMA_SQL, "schema.sql")
    assert not diags
    return build_schema(facts, Config(tenant_roots=("organizations",)))


def _verdicts(schema, sql: str) -> dict[str, tuple]:
    judged, parsed = judge_text(sql, schema)
    assert not parsed.failed
    return {v.alias or v.table.table: (v.restriction.scope, v.keys) for j in judged for v in j.verdicts}


@pytest.mark.parametrize(
    "sql, keys",
    [
        ("UPDATE orders SET total = 1 WHERE id = %s", (("id", ("at", 0)),)),
        ("UPDATE orders SET total = %s WHERE status = %s AND id = ANY(%s)", (("status", ("at", 1)), ("id", ("at", 2)))),
        ("DELETE FROM orders WHERE id IN %(ids)s", (("id", ("named", "ids")),)),
        ("SELECT * FROM orders o WHERE o.id IN (%s)", (("id", ("at", 0)),)),
        ("UPDATE orders SET total = tmp.t FROM (VALUES %s) AS tmp (t, id) WHERE tmp.id = orders.id", (("id", ("row", 0, 1)),)),
    ],
)
def test_parameters_that_pick_rows(schema, sql, keys):
    verdicts = _verdicts(schema, sql)
    scope, found = next(iter(verdicts.values()))
    assert scope is Scope.UNSCOPED
    assert found == keys


def test_no_parameter_keys(schema):
    # a restricted reference needs none; a column compared with another table's column is no parameter; a VALUES
    # list of literals is no parameter either
    assert _verdicts(schema, "UPDATE orders SET total = 1 WHERE org_id = %s AND id = %s")["orders"] == (Scope.SCOPED, ())
    assert _verdicts(schema, "SELECT o.id FROM orders o JOIN patients p ON p.id = o.patient_id WHERE p.id = o.id")["o"][1] == ()
    assert _verdicts(schema, "UPDATE orders SET total = 1 FROM (VALUES (1, 2)) AS tmp (id, t) WHERE tmp.id = orders.id")["orders"][1] == ()


def test_parameters_numbered_as_written(schema):
    # a tree walk visits the CTE after the SET clause; the text writes it first
    sql = "WITH c AS (SELECT id FROM patients WHERE name = %s) UPDATE orders SET total = %s FROM c WHERE orders.id = %s"
    assert _verdicts(schema, sql)["orders"][1] == (("id", ("at", 2)),)
    sql = "SELECT o.id FROM orders o JOIN patients p ON p.id = o.patient_id AND p.name = %s WHERE o.id = %s LIMIT %s"
    assert _verdicts(schema, sql)["o"][1] == (("id", ("at", 1)),)
