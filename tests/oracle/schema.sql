-- The oracle's database: two tenants, tables owned by a tenant column, through a parent, shared when NULL.
-- Foreign keys are deferred: every statement runs in a transaction that is rolled back, so tenant B's rows can be
-- deleted without touching tenant A's rows that point at them (as a careless import leaves them).
create table organizations (id int primary key, slug text unique not null, name text);
create table patients (
  id int primary key,
  org_id int not null references organizations (id) deferrable initially deferred,
  name text,
  status text,
  mrn text unique
);
create table orders (
  id int primary key,
  org_id int not null default 2 references organizations (id) deferrable initially deferred,
  patient_id int references patients (id) deferrable initially deferred,
  total int,
  status text
);
create table notes (
  id int primary key,
  patient_id int not null references patients (id) deferrable initially deferred,
  body text
);
create table templates (
  id int primary key,
  org_id int references organizations (id) deferrable initially deferred,
  title text,
  unique (org_id, title)
);
create table countries (code text primary key, name text);
