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
        if tok.type != tokenize.COMMENT:
            continue
        text = _EXPECT_MARKER.sub("", tok.string)
        m = _SUPPRESSION.search(text)
        if not m:
            continue
        codes = tuple(c.strip() for c in (m.group("codes") or "").split(",") if c.strip())
        rest = m.group("rest").strip()
        reason = rest[2:].strip() if rest.startswith("--") else ""
        line = tok.start[0]
        found.append(Suppression(line, tok.start[1] + 1, tok.end[1] + 1, codes, reason, line not in line_has_code))
    return found


def _sql_suppressions(source: str) -> list[Suppression]:
    """`-- tenantlint: ignore[TL101] -- reason` in a .sql file (a `--` inside a string literal is not a comment)."""
    found: list[Suppression] = []
    for number, line in enumerate(source.splitlines(), start=1):
        for m in _SQL_COMMENT.finditer(line):
            if line[: m.start()].count("'") % 2:
                continue  # inside a string literal
            text = _EXPECT_MARKER.sub("", m.group(0))
            s = _SUPPRESSION.search(text)
            if not s:
                break
            codes = tuple(c.strip() for c in (s.group("codes") or "").split(",") if c.strip())
            rest = s.group("rest").strip()
            reason = rest[2:].strip() if rest.startswith("--") else ""
            found.append(Suppression(number, m.start() + 1, len(line) + 1, codes, reason, not line[: m.start()].strip()))
            break
    return found
