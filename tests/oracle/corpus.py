"""The oracle's statements: many generated from the shapes the analyzer must tell apart (join kinds x where the
tenant predicates sit, subqueries, CTEs, set operations, OR / NOT, SET clauses, writes).

Placeholders are named and always bound to tenant A's values (`%(org)s` = 1, `%(orgs)s` = [1], `%(pid)s` = A's
patient 11); non-tenant predicates use literals that tenant B's rows pass as well, so that only a tenant restriction
keeps B's rows out. A statement is listed once; the verdict is not written here: the server decides it.
"""
from __future__ import annotations

from itertools import product

ORG = "%(org)s"


def _joins() -> list[str]:
    """patients p joined to orders o by every join kind, with the tenant predicate of each side nowhere, in
    WHERE, or in the ON clause."""
    out = []
    for join, p_at, o_at in product(["JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL JOIN"], ["", "where", "on"], ["", "where", "on"]):
        on = ["o.patient_id = p.id"]
        where = []
        for alias, at in (("p", p_at), ("o", o_at)):
            if at == "where":
                where.append(f"{alias}.org_id = {ORG}")
            elif at == "on":
                on.append(f"{alias}.org_id = {ORG}")
        sql = f"SELECT p.id, p.name, o.id, o.total FROM patients p {join} orders o ON {' AND '.join(on)}"
        if where:
            sql += " WHERE " + " AND ".join(where)
        out.append(sql)
    return out


def _comma_joins() -> list[str]:
    out = []
    for p_r, o_r in product([False, True], [False, True]):
        preds = ["o.patient_id = p.id"] + ([f"p.org_id = {ORG}"] if p_r else []) + ([f"o.org_id = {ORG}"] if o_r else [])
        out.append(f"SELECT p.name, o.total FROM patients p, orders o WHERE {' AND '.join(preds)}")
    out += [
        f"SELECT p.name, o.total FROM patients p CROSS JOIN orders o WHERE o.patient_id = p.id AND p.org_id = o.org_id AND o.org_id = {ORG}",
        f"SELECT p.name, o.total FROM patients p JOIN orders o ON o.org_id = p.org_id WHERE p.org_id = {ORG}",
        f"SELECT p.name, o.total FROM patients p JOIN orders o USING (org_id) WHERE p.org_id = {ORG}",
        f"SELECT p.name, o.total FROM patients p JOIN orders o ON o.patient_id = p.id AND o.org_id = p.org_id WHERE p.org_id = {ORG}",
        "SELECT p.name FROM patients p JOIN organizations g ON g.id = p.org_id WHERE g.slug = %(slug)s",
        f"SELECT p.name FROM patients p JOIN organizations g ON g.id = p.org_id WHERE g.name = 'Clinic' OR g.id = {ORG}",
    ]
    return out


def _parents() -> list[str]:
    """notes are owned only through their patient."""
    return [
        "SELECT n.body FROM notes n",
        f"SELECT n.body FROM notes n JOIN patients p ON n.patient_id = p.id WHERE p.org_id = {ORG}",
        f"SELECT n.body FROM notes n JOIN patients p ON n.patient_id = p.id AND p.org_id = {ORG}",
        f"SELECT n.body FROM notes n LEFT JOIN patients p ON n.patient_id = p.id AND p.org_id = {ORG}",
        f"SELECT p.name, n.body FROM patients p LEFT JOIN notes n ON n.patient_id = p.id WHERE p.org_id = {ORG}",
        f"SELECT n.body FROM notes n WHERE n.patient_id IN (SELECT id FROM patients WHERE org_id = {ORG})",
        "SELECT n.body FROM notes n WHERE n.patient_id IN (SELECT id FROM patients WHERE status = 'active')",
        f"SELECT n.body FROM notes n JOIN orders o ON o.patient_id = n.patient_id WHERE o.org_id = {ORG}",
    ]


def _subqueries() -> list[str]:
    return [
        f"SELECT o.total FROM orders o WHERE o.patient_id IN (SELECT id FROM patients WHERE org_id = {ORG})",
        f"SELECT o.total FROM orders o WHERE o.org_id IN (SELECT org_id FROM patients WHERE org_id = {ORG})",
        f"SELECT o.total FROM orders o WHERE o.org_id = {ORG} AND o.patient_id IN (SELECT id FROM patients WHERE status = 'active')",
        f"SELECT o.total FROM orders o WHERE o.org_id = {ORG} AND o.patient_id IN (SELECT id FROM patients WHERE org_id = {ORG})",
        f"SELECT p.name FROM patients p WHERE p.org_id = {ORG} AND EXISTS (SELECT 1 FROM orders o WHERE o.patient_id = p.id)",
        f"SELECT p.name FROM patients p WHERE p.org_id = {ORG} AND EXISTS (SELECT 1 FROM orders o WHERE o.patient_id = p.id AND o.org_id = p.org_id)",
        f"SELECT p.name FROM patients p WHERE p.org_id = {ORG} AND NOT EXISTS (SELECT 1 FROM notes n WHERE n.patient_id = p.id)",
        f"SELECT p.name, (SELECT count(*) FROM orders o WHERE o.patient_id = p.id) FROM patients p WHERE p.org_id = {ORG}",
        f"SELECT p.name, (SELECT count(*) FROM orders o WHERE o.patient_id = p.id AND o.org_id = {ORG}) FROM patients p WHERE p.org_id = {ORG}",
        f"SELECT p.name, (SELECT max(n.body) FROM notes n WHERE n.patient_id = p.id) FROM patients p WHERE p.org_id = {ORG}",
        "SELECT o.total FROM orders o WHERE o.org_id = (SELECT org_id FROM patients WHERE mrn = 'B-21')",
        f"SELECT o.total FROM orders o WHERE o.org_id = (SELECT id FROM organizations WHERE id = {ORG})",
        f"SELECT name FROM patients WHERE id IN (SELECT id FROM patients WHERE org_id = {ORG})",
        f"WITH mine AS (SELECT id FROM patients WHERE org_id = {ORG}) SELECT p.name FROM patients p WHERE p.id IN (SELECT id FROM mine) OR p.org_id = {ORG}",
        "SELECT name FROM patients WHERE id IN (SELECT patient_id FROM notes)",
        f"SELECT x.name FROM (SELECT * FROM patients) x WHERE x.org_id = {ORG}",
        f"SELECT x.name FROM (SELECT * FROM patients WHERE org_id = {ORG}) x",
        "SELECT x.name FROM (SELECT name FROM patients) x",
        f"SELECT x.n FROM (SELECT name AS n, org_id AS t FROM patients) x WHERE x.t = {ORG}",
        f"SELECT x.name, o.total FROM (SELECT * FROM patients WHERE org_id = {ORG}) x JOIN orders o ON o.patient_id = x.id",
        f"SELECT x.name, o.total FROM (SELECT * FROM patients WHERE org_id = {ORG}) x JOIN orders o ON o.patient_id = x.id AND o.org_id = x.org_id",
        f"SELECT x.body FROM (SELECT n.body, n.patient_id FROM notes n) x JOIN patients p ON p.id = x.patient_id WHERE p.org_id = {ORG}",
        f"SELECT p.name, l.total FROM patients p, LATERAL (SELECT o.total FROM orders o WHERE o.patient_id = p.id AND o.org_id = p.org_id) l WHERE p.org_id = {ORG}",
        f"SELECT p.name, l.total FROM patients p, LATERAL (SELECT o.total FROM orders o WHERE o.patient_id = p.id) l WHERE p.org_id = {ORG}",
    ]


def _ctes() -> list[str]:
    return [
        f"WITH a AS (SELECT * FROM patients WHERE org_id = {ORG}) SELECT name FROM a",
        f"WITH a AS (SELECT * FROM patients) SELECT name FROM a WHERE a.org_id = {ORG}",
        "WITH a AS (SELECT * FROM patients) SELECT name FROM a",
        f"WITH a AS (SELECT * FROM patients) SELECT x.name FROM a x WHERE x.org_id = {ORG} UNION ALL SELECT name FROM a",
        f"WITH a AS (SELECT * FROM patients WHERE org_id = {ORG}), b AS (SELECT o.* FROM orders o JOIN a ON o.patient_id = a.id) SELECT total FROM b",
        f"WITH a AS (SELECT * FROM patients WHERE org_id = {ORG}), b AS (SELECT o.* FROM orders o JOIN a ON o.org_id = a.org_id) SELECT total FROM b",
        f"WITH a AS (SELECT id, org_id FROM patients WHERE org_id = {ORG}) SELECT n.body FROM notes n JOIN a ON a.id = n.patient_id",
        f"WITH RECURSIVE r(id, depth) AS (SELECT id, 1 FROM patients WHERE org_id = {ORG} UNION ALL SELECT id, depth + 1 FROM r WHERE depth < 3) SELECT * FROM r",
        f"WITH RECURSIVE r(id, org_id) AS (SELECT id, org_id FROM patients WHERE org_id = {ORG} UNION SELECT o.id, o.org_id FROM orders o JOIN r ON o.patient_id = r.id) SELECT * FROM r",
        f"WITH RECURSIVE r(id, org_id) AS (SELECT id, org_id FROM patients WHERE org_id = {ORG} UNION SELECT o.id, o.org_id FROM orders o JOIN r ON o.patient_id = r.id AND o.org_id = r.org_id) SELECT * FROM r",
    ]


def _set_operations() -> list[str]:
    out = []
    for op, left, right in product(["UNION", "UNION ALL", "INTERSECT", "EXCEPT"], [True, False], [True, False]):
        lw = f" WHERE org_id = {ORG}" if left else ""
        rw = f" WHERE org_id = {ORG}" if right else ""
        out.append(f"SELECT status FROM patients{lw} {op} SELECT status FROM orders{rw}")
    return out


def _boolean() -> list[str]:
    return [
        f"SELECT name FROM patients WHERE org_id = {ORG} OR status = 'active'",
        f"SELECT name FROM patients WHERE (org_id = {ORG} AND status = 'active') OR (org_id = {ORG} AND name = 'y')",
        f"SELECT name FROM patients WHERE (org_id = {ORG} OR status = 'active') AND name = 'x'",
        f"SELECT name FROM patients WHERE NOT (org_id = {ORG})",
        f"SELECT name FROM patients WHERE org_id <> {ORG}",
        f"SELECT name FROM patients WHERE NOT (status = 'archived') AND org_id = {ORG}",
        f"SELECT title FROM templates WHERE org_id IS NULL OR org_id = {ORG}",
        f"SELECT title FROM templates WHERE org_id IS NOT NULL OR org_id = {ORG}",
        "SELECT name FROM patients WHERE org_id = ANY(%(orgs)s)",
        f"SELECT name FROM patients WHERE org_id IN ({ORG})",
        "SELECT name FROM patients WHERE org_id = current_setting('app.org')::int",
        "SELECT name FROM patients WHERE org_id::text = current_setting('app.org')",
        f"SELECT org_id, name FROM patients ORDER BY org_id = {ORG} DESC",
        f"SELECT name, org_id = {ORG} AS mine FROM patients",
        f"SELECT org_id, count(*) FROM orders GROUP BY org_id HAVING org_id = {ORG}",
        f"SELECT status, count(*) FROM orders WHERE org_id = {ORG} GROUP BY status",
        "SELECT status, count(*) FROM orders GROUP BY status HAVING count(*) > 0",
        f"SELECT name FROM patients WHERE org_id = {ORG} AND (status = 'active' OR name = 'y')",
        "SELECT name FROM countries",
    ]


def _writes() -> list[str]:
    return [
        f"UPDATE patients SET status = 'z' WHERE org_id = {ORG}",
        "UPDATE patients SET status = 'z' WHERE name = 'x'",
        f"UPDATE patients SET org_id = {ORG} WHERE status = 'active'",
        f"UPDATE patients SET status = 'z' WHERE org_id = {ORG} OR name = 'x'",
        f"UPDATE orders o SET status = 'z' FROM patients p WHERE o.patient_id = p.id AND p.org_id = {ORG}",
        f"UPDATE orders o SET status = 'z' FROM patients p WHERE o.patient_id = p.id AND p.org_id = {ORG} AND o.org_id = {ORG}",
        f"UPDATE orders o SET total = p.id FROM patients p WHERE o.patient_id = p.id AND o.org_id = {ORG}",
        f"UPDATE notes SET body = 'z' WHERE patient_id IN (SELECT id FROM patients WHERE org_id = {ORG})",
        "UPDATE notes SET body = 'z' WHERE body LIKE 'b%%'",
        f"UPDATE templates SET title = title || '?' WHERE org_id IS NULL OR org_id = {ORG}",
        f"DELETE FROM orders WHERE org_id = {ORG} AND status = 'paid'",
        "DELETE FROM orders WHERE status = 'paid'",
        f"DELETE FROM notes n USING patients p WHERE n.patient_id = p.id AND p.org_id = {ORG}",
        f"DELETE FROM orders o USING patients p WHERE o.patient_id = p.id AND p.org_id = {ORG}",
        f"DELETE FROM orders WHERE org_id = {ORG} AND patient_id IN (SELECT id FROM patients WHERE status = 'active')",
        f"WITH gone AS (DELETE FROM orders WHERE org_id = {ORG} RETURNING id) SELECT count(*) FROM gone",
        f"INSERT INTO orders (id, org_id, patient_id, total, status) VALUES (900, {ORG}, 11, 1, 'new')",
        "INSERT INTO orders (id, patient_id, total, status) VALUES (901, 11, 1, 'new')",
        f"INSERT INTO orders (id, org_id, total) SELECT id + 1000, org_id, 0 FROM patients WHERE org_id = {ORG}",
        "INSERT INTO orders (id, org_id, total) SELECT id + 1000, org_id, 0 FROM patients",
        f"INSERT INTO orders (id, org_id, total) SELECT o.id + 1000, {ORG}, o.total FROM orders o WHERE o.org_id = {ORG}",
        f"INSERT INTO orders (id, org_id, total) SELECT o.id + 1000, {ORG}, o.total FROM orders o",
        "INSERT INTO notes (id, patient_id, body) VALUES (9000, %(pid)s, 'n')",
        "INSERT INTO templates (id, title) VALUES (9, 't')",
        f"INSERT INTO templates (id, org_id, title) VALUES (9, {ORG}, 't')",
        f"INSERT INTO patients (id, org_id, name, mrn) VALUES (900, {ORG}, 'z', 'B-21') ON CONFLICT (mrn) DO UPDATE SET name = EXCLUDED.name",
        f"INSERT INTO templates (id, org_id, title) VALUES (10, {ORG}, 'a') ON CONFLICT (org_id, title) DO UPDATE SET title = 'a2'",
        f"INSERT INTO patients (id, org_id, name, mrn) VALUES (900, {ORG}, 'z', 'B-21') ON CONFLICT (mrn) DO NOTHING",
        f"INSERT INTO patients (id, org_id, name, mrn) VALUES (21, {ORG}, 'z', 'A-99') ON CONFLICT (id) DO NOTHING",
        f"INSERT INTO patients (id, org_id, name, mrn) VALUES (21, {ORG}, 'z', 'A-99') ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name",
        f"MERGE INTO orders o USING patients p ON o.patient_id = p.id AND o.org_id = {ORG} AND p.org_id = {ORG} WHEN MATCHED THEN UPDATE SET status = 'm'",
        "MERGE INTO orders o USING patients p ON o.patient_id = p.id WHEN MATCHED THEN UPDATE SET status = 'm'",
        f"MERGE INTO orders o USING patients p ON o.patient_id = p.id AND p.org_id = {ORG} WHEN MATCHED THEN DELETE",
        f"MERGE INTO orders o USING (SELECT * FROM patients WHERE org_id = {ORG}) p ON o.patient_id = p.id AND o.org_id = p.org_id WHEN MATCHED THEN UPDATE SET total = 0",
    ]


def corpus() -> list[str]:
    return _joins() + _comma_joins() + _parents() + _subqueries() + _ctes() + _set_operations() + _boolean() + _writes()
