"""CREATE TABLE / ALTER TABLE in .sql files: statement by statement, with lines, never losing the rest of a file."""
from __future__ import annotations

from tenantlint.config import Config
from tenantlint.schema.ddl import facts_from_sql, statements
from tenantlint.schema.resolve import build_schema

MIGRATION = """\
create table public.organizations (id uuid primary key, name text not null);

create table if not exists public.agents (
  id uuid primary key default gen_random_uuid(),
  "org_id" uuid not null references public.organizations(id) on delete cascade,
  owner uuid,
  constraint fk_owner foreign key (owner) references profiles(id)
);

create policy "members read agents" on agents for select using (org_id = auth.uid());
alter table agents enable row level security;
create function bump() returns int as $$ select 1; select 2; $$ language sql;

create table notes (id bigint primary key, agent_id uuid not null, body text);
alter table notes add constraint notes_agent foreign key (agent_id) references agents (id);
"""


def test_tables_columns_and_foreign_keys_with_lines():
    facts, diags = facts_from_sql(MIGRATION, "supabase/migrations/1_init.sql")
    assert diags == []
    by = {f.name: f for f in facts}
    assert set(by) == {"organizations", "agents", "notes"}
    agents = by["agents"]
    assert agents.line == 3 and agents.source == "ddl" and agents.table_is_explicit
    assert {(c.name, c.nullable) for c in agents.columns} == {("id", False), ("org_id", False), ("owner", True)}
    assert {(r.column, r.target, r.nullable) for r in agents.relations} == {("org_id", "organizations", False), ("owner", "profiles", True)}
    assert [(r.column, r.target) for r in by["notes"].relations] == [("agent_id", "agents")]
    assert by["notes"].line == 14


def test_dollar_quoted_bodies_do_not_split_statements():
    lines = [line for line, _, _ in statements(MIGRATION)]
    assert lines == [1, 3, 10, 11, 12, 14, 15]


def test_a_bad_statement_costs_only_itself():
    facts, diags = facts_from_sql("create table a (id int;\n\ncreate table b (org_id int);\n", "x.sql")
    assert [f.name for f in facts] == ["b"]
    assert len(diags) == 1 and diags[0][0] == 1 and "CREATE TABLE" in diags[0][1]


def test_untokenizable_file_is_one_diagnostic():
    facts, diags = facts_from_sql("select $$ never closed", "x.sql")
    assert facts == [] and diags[0][0] == 1


def test_alter_in_a_later_migration_is_merged_and_makes_a_tenant_table():
    first, _ = facts_from_sql("create table organizations (id int primary key);\ncreate table items (id int primary key);", "m/1.sql")
    later, _ = facts_from_sql("alter table items add column organization_id int not null references organizations(id);", "m/2.sql")
    schema = build_schema(first + later, Config())
    items = schema.table("items")
    assert items.is_tenant_table
    assert items.tenant.tenant_column == "organization_id"
    assert not items.tenant.shared_when_null


def test_nullable_tenant_column_means_shared_rows():
    facts, _ = facts_from_sql("create table templates (id int primary key, org_id int references organizations(id));", "t.sql")
    schema = build_schema(facts, Config())
    assert schema.table("templates").tenant.shared_when_null


PG_DUMP = '''SET statement_timeout = 0;
SELECT pg_catalog.set_config('search_path', '', false);
CREATE OR REPLACE FUNCTION "public"."f"() RETURNS TABLE ("a" integer) LANGUAGE "sql" AS $$ select 1; $$;
CREATE TABLE IF NOT EXISTS "public"."organizations" ("id" "uuid" DEFAULT "gen_random_uuid"() NOT NULL);
CREATE TABLE IF NOT EXISTS "public"."Agents" (
    "id" "uuid" DEFAULT "gen_random_uuid"() NOT NULL,
    "org_id" "uuid"
);
ALTER TABLE "public"."Agents" OWNER TO "postgres";
ALTER TABLE ONLY "public"."Agents"
    ADD CONSTRAINT "agents_pkey" PRIMARY KEY ("id");
ALTER TABLE ONLY "public"."Agents"
    ADD CONSTRAINT "agents_org_id_fkey" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE CASCADE;
ALTER TABLE "public"."Agents" ENABLE ROW LEVEL SECURITY;
GRANT ALL ON TABLE "public"."Agents" TO "anon";
CREATE INDEX "idx" ON "public"."Agents" USING "btree" ("org_id");
'''


def test_a_pg_dump_schema_file_reads_without_diagnostics():
    facts, diags = facts_from_sql(PG_DUMP, "supabase/schema.sql")
    assert diags == []
    by_name = {f.name: f for f in facts}
    assert sorted(by_name) == ["Agents", "organizations"]
    agents = by_name["Agents"]
    assert (agents.line, [(c.name, c.nullable) for c in agents.columns]) == (5, [("id", False), ("org_id", True)])
    assert [(r.field, r.target) for r in agents.relations] == [("org_id", "organizations")]
    schema = build_schema(facts, Config())
    assert schema.table("Agents").is_tenant_table


def test_renames_and_dropped_columns_in_the_creating_file_are_followed():
    sql = (
        "create table organizations (id int primary key);\n"
        "create table agents (id int primary key, workspace int not null references organizations(id), junk int);\n"
        "alter table agents rename column workspace to org_id;\n"
        "alter table agents drop column junk;\n"
        "alter table agents rename to bots;\n"
    )
    facts, diags = facts_from_sql(sql, "m.sql")
    assert diags == []
    bots = {f.name: f for f in facts}["bots"]
    assert [c.name for c in bots.columns] == ["id", "org_id"]
    assert [(r.field, r.column, r.target, r.nullable) for r in bots.relations] == [("org_id", "org_id", "organizations", False)]
    assert "agents" not in {f.name for f in facts}
