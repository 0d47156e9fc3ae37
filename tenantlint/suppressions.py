"""`# tenantlint: ignore[TL101] -- reason` comments, read with the tokenizer so strings never count."""
from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass

_SQL_COMMENT = re.compile(r"--[^\n]*")
_SUPPRESSION = re.compile(
    r"(?:#|--)\s*tenantlint:\s*ignore(?P<bracket>\[(?P<codes>[^\]]*)\])?(?P<rest>.*)$", re.IGNORECASE
)
_EXPECT_MARKER = re.compile(r"\s*(?:#|--)\s*expect(-todo(-ok)?)?(\+\d+)?:.*$")


@dataclass(frozen=True, slots=True)
class Suppression:
    line: int
    col: int  # 1-based column of the '#'
    end_col: int
    codes: tuple[str, ...]  # as written: codes or names
    reason: str
    own_line: bool  # the comment stands alone on its line (so it may cover the next line)


def parse_suppressions(source: str, language: str = "python") -> list[Suppression]:
    if "tenantlint:" not in source.lower():
        return []
    if language == "sql":
        return _sql_suppressions(source)
    found: list[Suppression] = []
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return found
    line_has_code: set[int] = set()
    for tok in tokens:
        if tok.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER):
            for ln in range(tok.start[0], tok.end[0] + 1):
                line_has_code.add(ln)
    for tok in tokens:
        if tok.type == tokenize.COMMENT:
            line = tok.start[0]
            s = _suppression(tok.string, line, tok.start[1] + 1, tok.end[1] + 1, line not in line_has_code)
            if s is not None:
                found.append(s)
    return found


def _suppression(comment: str, line: int, col: int, end_col: int, own_line: bool) -> Suppression | None:
    """The suppression a comment holds, if any (fixture markers stripped first)."""
    m = _SUPPRESSION.search(_EXPECT_MARKER.sub("", comment))
    if not m:
        return None
    codes = tuple(c.strip() for c in (m.group("codes") or "").split(",") if c.strip())
    rest = m.group("rest").strip()
    reason = rest[2:].strip() if rest.startswith("--") else ""
    return Suppression(line, col, end_col, codes, reason, own_line)


def _sql_suppressions(source: str) -> list[Suppression]:
    """`-- tenantlint: ignore[TL101] -- reason` in a .sql file (a `--` inside a string literal is not a comment)."""
    found: list[Suppression] = []
    for number, line in enumerate(source.splitlines(), start=1):
        for m in _SQL_COMMENT.finditer(line):
            if line[: m.start()].count("'") % 2:
                continue  # inside a string literal
            s = _suppression(m.group(0), number, m.start() + 1, len(line) + 1, not line[: m.start()].strip())
            if s is not None:
                found.append(s)
            break  # the first comment runs to the end of the line
    return found
