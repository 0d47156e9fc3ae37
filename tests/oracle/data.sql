-- Tenant A is organization 1, tenant B is organization 2. Every tenant-B row also passes the non-tenant
-- predicates the corpus uses (same names, statuses, totals), so only a tenant restriction can keep it out; some
-- values exist only in tenant B (patient status 'paid', order status 'active') so that set operations can tell.
insert into organizations values (1, 'a', 'Clinic'), (2, 'b', 'Clinic');
insert into patients values
  (11, 1, 'x', 'active', 'A-11'), (12, 1, 'y', 'archived', 'A-12'), (13, 1, 'x', 'active', 'A-13'),
  (21, 2, 'x', 'active', 'B-21'), (22, 2, 'y', 'paid', 'B-22');
insert into orders values
  (101, 1, 11, 10, 'open'), (102, 1, 12, 20, 'paid'),
  (103, 1, 21, 30, 'open'),   -- tenant A's order pointing at tenant B's patient
  (201, 2, 21, 10, 'open'), (202, 2, 22, 20, 'paid'),
  (203, 2, 13, 30, 'open'),   -- tenant B's order pointing at tenant A's patient 13, who has no order of A (a careless import)
  (204, 2, 22, 40, 'active');
insert into notes values (1001, 11, 'a1'), (1002, 12, 'a2'), (2001, 21, 'b1'), (2002, 22, 'b2');
insert into templates values (1, null, 'shared'), (2, 1, 'a'), (3, 2, 'b');
insert into countries values ('fr', 'France'), ('de', 'Germany');
