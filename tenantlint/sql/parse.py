"""SQL text -> sqlglot statements, each with where it starts in the text; every distinct text is parsed once.

DB-API placeholders (`%s`, `%(name)s`, `:name`, `$1`, `?`) are read by sqlglot as they are. A text that does not
parse is an error with sqlglot's reason; the caller turns it into a TL002 note at the right place.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

logging.getLogger("sqlglot").setLevel(logging.ERROR)  # opaque commands (SET LOCAL, GRANT) are not our business

# a statement that can read or write tenant rows starts with one of these words (after comments and parentheses)
_QUERY_START = re.compile(r"^\s*(?:--[^\n]*\n\s*|/\*.*?\*/\s*|\(\s*)*(select|with|insert|update|delete|merge|values|table)\b", re.IGNORECASE | re.DOTALL)


def looks_like_query(text: str) -> bool:
    """The text is a statement worth parsing: SELECT / WITH / INSERT / UPDATE / DELETE / MERGE."""
    return bool(_QUERY_START.match(text))


@dataclass(frozen=True, slots=True)
class Statement:
    tree: exp.Expression
    line: int  # 1-based line of its first token in the text
    col: int  # 1-based column of its first token
    end_line: int
    end_col: int  # exclusive
    text: str


@dataclass(frozen=True, slots=True)
class Parsed:
    statements: tuple[Statement, ...]
    error: str | None = None  # why (part of) the text could not be read: the first statement that did not parse
    error_line: int = 1
    failed: tuple[tuple[int, str, str], ...] = ()  # (line, reason, text) of every statement that did not parse


@lru_cache(maxsize=4096)
def parse_sql(text: str, dialect: str = "postgres") -> Parsed:
    """Every statement of `text`; a statement that does not parse ends the list with an error."""
    try:
        tokens = sqlglot.Dialect.get_or_raise(dialect).tokenize(text)
    except (TokenError, ValueError) as exc:
        return Parsed((), _first_line(str(exc)), 1)
    chunks: list[list] = [[]]
    for tok in tokens:
        if tok.token_type.name == "SEMICOLON":
            chunks.append([])
        else:
            chunks[-1].append(tok)
    out: list[Statement] = []
    failed: list[tuple[int, str, str]] = []
    for chunk in chunks:
        if not chunk:
            continue
        start, end = chunk[0].start, chunk[-1].end + 1
        # a token's start is the offset of its text; comments before it belong to nothing
        piece = text[start:end]
        try:
            trees = sqlglot.parse(piece, read=dialect)
        except (ParseError, TokenError) as exc:
            failed.append((chunk[0].line, _first_line(str(exc)), piece))
            continue
        except RecursionError:
            failed.append((chunk[0].line, "the statement is nested too deeply to read", piece))
            continue
        line, col = _point(text, start)
        end_line, end_col = _point(text, end)
        for tree in trees:
            if tree is not None:
                out.append(Statement(tree, line, col, end_line, end_col, piece))
    if failed:
        return Parsed(tuple(out), failed[0][1], failed[0][0], tuple(failed))
    return Parsed(tuple(out))


def _point(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _first_line(message: str) -> str:
    line = message.strip().splitlines()[0] if message.strip() else "sqlglot could not read it"
    line = re.sub(r"\x1b\[[0-9;]*m", "", line)
    line = re.sub(r"<Token token_type: TokenType\.\w+, text: (.*?), line: .*?>", r"'\1'", line)
    line = re.sub(r"\s*Line \d+, Col: \d+\.?$", "", line)
    line = re.sub(r"<class 'sqlglot\.expressions\.[\w.]*?\.?(\w+)'>", lambda m: m.group(1).upper(), line)
    return line[:200]
