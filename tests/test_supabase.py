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
        ("agents", "and(org_id.eq.1,status.eq.a),status.eq.b", Scope.DEFEATED),
        ("agents", "and(org_id.eq.1,status.eq.a),and(org_id.eq.1,status.eq.b)", Scope.SCOPED),
        ("agents", "and(status.eq.a,status.eq.b),status.eq.c", Scope.UNSCOPED),
        ("agents", "org_id.eq.1,or(org_id.eq.2,org_id.in.(3,4))", Scope.SCOPED),
        ("agents", "not.and(org_id.eq.1,status.eq.a)", Scope.DEFEATED),
        ("agents", "org_id.not.eq.1", Scope.DEFEATED),
        ("agents", "org_id.eq.1,org_id.gt.5", Scope.DEFEATED),
        ("templates", "org_id.is.null", Scope.SCOPED),
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


def test_storage_buckets_named_like_tables_are_not_queries():
    code = """
    def f(sb, storage, data):
        sb.storage.from_("agents").upload("a.png", data)
        return storage.from_("agents").get_public_url("a.png")
    """
    assert sites(code) == []


def test_module_constants_name_columns_and_or_strings():
    code = """
    ORG = "org_id"
    MINE = "org_id.eq.1,org_id.eq.2"
    def f(sb, o):
        sb.table("agents").select("*").eq(ORG, o).execute()
        sb.table("agents").select("*").match({ORG: o}).execute()
        sb.table("agents").select("*").filter(ORG, "eq", o).execute()
        sb.table("agents").select("*").or_(MINE).execute()
    """
    assert [s.restriction.scope for s in sites(code)] == [Scope.SCOPED] * 4


def test_a_parameter_is_not_a_column_name():
    code = """
    def f(sb, col, o):
        sb.table("agents").select("*").eq(col, o).execute()
    """
    (site,) = sites(code)
    assert site.restriction.scope is Scope.UNSCOPED


@pytest.mark.parametrize(
    "rows,scope",
    [
        ('[{"org_id": o, "name": n} for n in names]', Scope.SCOPED),
        ('[{"name": n} for n in names]', Scope.UNSCOPED),
        ('[{**r, "org_id": o} for r in names]', Scope.SCOPED),
        ('[{**r} for r in names]', Scope.UNKNOWN),
        ('dict(org_id=o, name="x")', Scope.SCOPED),
        ('dict(name="x")', Scope.UNSCOPED),
        ('dict(name="x", **extra)', Scope.UNKNOWN),
        ('{"name": "x"} | {"org_id": o}', Scope.SCOPED),
        ('{"name": "x"} | extra', Scope.UNKNOWN),
        ('{ORG: o}', Scope.SCOPED),
        ('[{"org_id": o}, row]', Scope.UNKNOWN),
    ],
)
def test_rows_written(rows, scope):
    code = f'ORG = "org_id"\ndef f(sb, o, names, extra, row):\n    sb.table("agents").insert({rows}).execute()\n'
    (site,) = sites(code)
    assert (site.kind, site.restriction.scope) == (SiteKind.INSERT, scope)


def test_queries_inside_a_row_list_are_seen_once():
    code = 'def f(sb, o):\n    return [sb.table("agents").select("*").execute(), sb.table("agents").select("*").eq("org_id", o).execute()]\n'
    assert [s.restriction.scope for s in sites(code)] == [Scope.UNSCOPED, Scope.SCOPED]


DDL_PARENTS = DDL + """
create table conversations (id bigint primary key, org_id uuid not null references organizations(id));
create table messages (id bigint primary key, conversation_id bigint not null references conversations(id));
"""


@pytest.mark.parametrize(
    "select,column,scope",
    [
        ("*, conversations!inner(org_id)", "conversations.org_id", Scope.SCOPED),
        ("*, conv:conversations!inner(id)", "conv.org_id", Scope.SCOPED),
        ("*, conversations!messages_conversation_id_fkey!inner(id)", "conversations.org_id", Scope.SCOPED),
        # without !inner the filter only empties the embedded parent: every message still comes back
        ("*, conversations(org_id)", "conversations.org_id", Scope.UNSCOPED),
        ("*, conversations!inner(org_id)", "conversations.id", Scope.UNSCOPED),
        ("*, conversations!inner(id, organizations!inner(id))", "conversations.organizations.id", Scope.UNSCOPED),
    ],
)
def test_filters_on_inner_embedded_parents(select, column, scope):
    facts, _ = facts_from_sql(DDL_PARENTS, "m.sql")
    schema = build_schema(facts, Config())
    code = f'def f(sb, o):\n    return sb.table("messages").select("{select}").eq("{column}", o).execute()\n'
    (site,) = ADAPTER.sites(PythonModule.parse("app.py", code), schema, Config())
    assert site.restriction.scope is scope


def test_root_id_through_an_inner_embed():
    code = 'def f(sb, o):\n    return sb.table("agents").select("*, organizations!inner(name)").eq("organizations.id", o).execute()\n'
    (site,) = sites(code)
    assert site.restriction.scope is Scope.SCOPED
