"""CREATE TABLE / ALTER TABLE in .sql files -> ModelFacts, with sqlglot.

The file is split into statements with sqlglot's own tokenizer (so `;` inside `$$ ... $$` bodies and strings
does not split), and each statement is parsed on its own: a statement sqlglot cannot read costs that statement,
never the file. Statements other than CREATE TABLE and ALTER TABLE (policies, functions, grants, RLS switches,
which sqlglot keeps as opaque commands) are skipped without a word; a CREATE or ALTER TABLE that does not parse
becomes a diagnostic naming its line.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.tokens import TokenType

from tenantlint.types import Column, ModelFacts, Relation

# sqlglot logs a warning for every statement it keeps as an opaque Command (ENABLE ROW LEVEL SECURITY, ...);
# those are expected here and say nothing to the user.
logging.getLogger("sqlglot").setLevel(logging.ERROR)


@dataclass
class _Table:
    name: str
    line: int
    columns: dict[str, Column] = field(default_factory=dict)
    relations: dict[str, Relation] = field(default_factory=dict)
    primary: set[str] = field(default_factory=set)
    unique: set[str] = field(default_factory=set)  # columns declared UNIQUE on their own
    altered_only: bool = False  # the file alters a table that another file creates


def statements(text: str, dialect: str = "postgres") -> list[tuple[int, str, list]]:
    """(line of the first token, statement text, its tokens) for each statement of the file."""
    tokens = sqlglot.Dialect.get_or_raise(dialect).tokenize(text)
    out: list[tuple[int, str, list]] = []
    current: list = []
    for tok in tokens:
        if tok.token_type == TokenType.SEMICOLON:
            if current:
                out.append((current[0].line, text[current[0].start : current[-1].end + 1], current))
            current = []
        else:
            current.append(tok)
    if current:
        out.append((current[0].line, text[current[0].start : current[-1].end + 1], current))
    return out


_CREATE_WORDS = {"or", "replace", "global", "local", "temp", "temporary", "unlogged"}


def _wanted(tokens: list) -> str | None:
    """'create' or 'alter' for CREATE [...] TABLE / ALTER TABLE statements, else None."""
    words = [t.text.lower() for t in tokens[:8]]
    if not words:
        return None
    if words[0] == "create":
        rest = [w for w in words[1:] if w not in _CREATE_WORDS]
        return "create" if rest[:1] == ["table"] else None
    if words[0] == "alter" and len(words) > 1 and words[1] == "table":
        return "alter"
    return None


def _table_name(table: exp.Expression | None) -> str | None:
    if isinstance(table, exp.Schema):
        table = table.this
    if isinstance(table, exp.Table):
        return table.name
    return None


def _column_def(col: exp.ColumnDef, t: _Table) -> None:
    name = col.name
    nullable = True
    for c in col.args.get("constraints") or []:
        kind = c.args.get("kind")
        if isinstance(kind, exp.NotNullColumnConstraint) and not kind.args.get("allow_null"):
            nullable = False
        elif isinstance(kind, exp.PrimaryKeyColumnConstraint):
            nullable = False
            t.primary.add(name)
        elif isinstance(kind, exp.UniqueColumnConstraint):
            t.unique.add(name)
        elif isinstance(kind, exp.Reference):
            target = _table_name(kind.this)
            if target:
                t.relations[name] = Relation(name, target, name, True)
    t.columns[name] = Column(name, nullable)
    if name in t.relations:
        r = t.relations[name]
        t.relations[name] = Relation(r.field, r.target, r.column, nullable)


def _foreign_key(fk: exp.ForeignKey, t: _Table) -> None:
    cols = [e.name for e in fk.expressions]
    ref = fk.args.get("reference")
    target = _table_name(ref.this) if isinstance(ref, exp.Reference) else None
    if target and len(cols) == 1:
        col = cols[0]
        nullable = t.columns[col].nullable if col in t.columns else True
        t.relations[col] = Relation(col, target, col, nullable)


def _constraints(node: exp.Expression, t: _Table) -> None:
    for fk in node.find_all(exp.ForeignKey):
        _foreign_key(fk, t)
    for pk in node.find_all(exp.PrimaryKey):
        for e in pk.expressions:
            t.primary.add(e.name)


def _rename_column(action: exp.RenameColumn, t: _Table) -> None:
    old, new = action.this.name, action.args["to"].name if action.args.get("to") else ""
    if not old or not new or old not in t.columns:
        return
    t.columns = {(new if k == old else k): (Column(new, c.nullable) if k == old else c) for k, c in t.columns.items()}
    if old in t.relations:
        r = t.relations.pop(old)
        t.relations[new] = Relation(new, r.target, new, r.nullable)
    if old in t.primary:
        t.primary.discard(old)
        t.primary.add(new)


def facts_from_sql(text: str, path: str, dialect: str = "postgres") -> tuple[list[ModelFacts], list[tuple[int, str]]]:
    """(facts, diagnostics as (line, message))."""
    diagnostics: list[tuple[int, str]] = []
    try:
        stmts = statements(text, dialect)
    except (SqlglotError, ValueError) as exc:
        return [], [(1, f"cannot split this file into SQL statements, its tables were not read: {_first_line(exc)}")]
    tables: dict[str, _Table] = {}
    for line, sql, tokens in stmts:
        kind = _wanted(tokens)
        if kind is None:
            continue
        try:
            tree = sqlglot.parse_one(sql, read=dialect)
        except (SqlglotError, ValueError, RecursionError) as exc:
            diagnostics.append((line, f"cannot parse this {kind.upper()} TABLE statement, its columns were not read: {_first_line(exc)}"))
            continue
        if isinstance(tree, exp.Create) and str(tree.args.get("kind") or "").upper() == "TABLE":
            name = _table_name(tree.this)
            if not name or not isinstance(tree.this, exp.Schema):
                continue  # CREATE TABLE ... AS SELECT: no declared columns
            t = tables.setdefault(name.lower(), _Table(name, line))
            for e in tree.this.expressions:
                if isinstance(e, exp.ColumnDef):
                    _column_def(e, t)
            for e in tree.this.expressions:
                if not isinstance(e, exp.ColumnDef):
                    _constraints(e, t)
        elif isinstance(tree, exp.Alter) and str(tree.args.get("kind") or "").upper() == "TABLE":
            name = _table_name(tree.this)
            if not name:
                continue
            t = tables.setdefault(name.lower(), _Table(name, line, altered_only=True))
            for action in tree.args.get("actions") or []:
                if isinstance(action, exp.ColumnDef):
                    _column_def(action, t)
                elif isinstance(action, exp.AlterRename):
                    new_name = _table_name(action.this)
                    if new_name and not t.altered_only:  # renamed where it is created: the facts follow the new name
                        tables.pop(name.lower(), None)
                        t.name = new_name
                        tables[new_name.lower()] = t
                elif isinstance(action, exp.RenameColumn):
                    _rename_column(action, t)
                elif isinstance(action, exp.Drop) and str(action.args.get("kind") or "").upper() == "COLUMN":
                    for col in action.args.get("tables") or []:
                        t.columns.pop(col.name, None)
                        t.relations.pop(col.name, None)
                else:
                    _constraints(action, t)
    facts = []
    for t in tables.values():
        columns = tuple(Column(c.name, c.nullable and c.name not in t.primary, unique=c.name in t.unique) for c in t.columns.values())
        facts.append(
            ModelFacts(
                name=t.name,
                table=t.name,
                source="ddl-alter" if t.altered_only else "ddl",
                path=path,
                line=t.line,
                columns=columns,
                relations=tuple(t.relations.values()),
                table_is_explicit=True,
            )
        )
    return facts, diagnostics


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
