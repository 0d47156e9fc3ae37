"""supabase-py adapter details the fixtures do not pin: postgrest `or` strings, API names, sites per verb."""
from __future__ import annotations

import textwrap

import pytest

from tenantlint.adapters.supabase import ADAPTER, _split_top
from tenantlint.config import Config
from tenantlint.python_module import PythonModule
from tenantlint.schema.ddl import facts_from_sql
from tenantlint.schema.resolve import build_schema
from tenantlint.types import Scope, SiteKind

DDL = """
create table organizations (id uuid primary key);
create table agents (id uuid primary key, org_id uuid not null references organizations(id), status text);
create table templates (id uuid primary key, org_id uuid references organizations(id));
"""


def sites(code: str):
    facts, _ = facts_from_sql(DDL, "m.sql")
    schema = build_schema(facts, Config())
    return list(ADAPTER.sites(PythonModule.parse("app.py", textwrap.dedent(code)), schema, Config()))


def test_split_top_respects_parentheses():
    assert _split_top("a.eq.1,and(b.eq.2,c.eq.3),d.is.null") == ["a.eq.1", "and(b.eq.2,c.eq.3)", "d.is.null"]


@pytest.mark.parametrize(
    "table,spec,scope",
    [
        ("agents", "org_id.eq.1,status.eq.public", Scope.DEFEATED),
        ("agents", "org_id.eq.1,org_id.eq.2", Scope.SCOPED),
        ("agents", "status.eq.a,status.eq.b", Scope.UNSCOPED),
        ("agents", "org_id.is.null,org_id.eq.1", Scope.DEFEATED),
        ("templates", "org_id.is.null,org_id.eq.1", Scope.SCOPED),
        ("agents", "and(org_id.eq.1,status.eq.a),status.eq.b", Scope.UNSCOPED),
    ],
)
def test_or_strings(table, spec, scope):
    (site,) = sites(f'def f(sb):\n    return sb.table("{table}").select("*").or_("{spec}").execute()\n')
    assert site.restriction.scope is scope


def test_one_site_per_chain_named_by_its_verb():
    (site,) = sites('def f(sb, i):\n    sb.table("agents").update({"status": "x"}).eq("id", i).execute()\n')
    assert (site.kind, site.restriction.scope, site.api, site.function) == (SiteKind.UPDATE, Scope.UNSCOPED, 'table("agents").update', "f")


def test_unknown_tables_and_non_literal_names_are_skipped():
    assert sites('def f(sb, name):\n    sb.table(name).select("*").execute()\n    sb.table("nope").select("*").execute()\n') == []
