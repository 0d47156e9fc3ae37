"""Inline expectations in fixtures: `# expect: TL101`, `# expect+1: TL101`, `-- expect: TL101` in SQL,
`expect-todo` (a known miss) and `expect-todo-ok` (a known false alarm)."""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

_MARKER = re.compile(r"(?:#|--)\s*expect(?P<todo>-todo(?P<ok>-ok)?)?(?:\+(?P<offset>\d+))?:\s*(?P<codes>TL\d{3}(?:\s*,\s*TL\d{3})*)")


@dataclass
class Expectations:
    expected: Counter = field(default_factory=Counter)  # (line, code) that must be reported
    todo_missing: Counter = field(default_factory=Counter)  # known misses: should be reported, are not yet
    todo_false: Counter = field(default_factory=Counter)  # known false alarms: reported, should not be


def parse_markers(text: str) -> Expectations:
    exp = Expectations()
    for number, line in enumerate(text.splitlines(), start=1):
        for m in _MARKER.finditer(line):
            target = number + int(m.group("offset") or 0)
            for code in re.split(r"\s*,\s*", m.group("codes").strip()):
                key = (target, code)
                if m.group("ok"):
                    exp.todo_false[key] += 1
                elif m.group("todo"):
                    exp.todo_missing[key] += 1
                else:
                    exp.expected[key] += 1
    return exp
