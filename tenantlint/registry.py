"""Rule discovery: every module in `tenantlint.rules` is a rule; its docstring is its documentation."""
from __future__ import annotations

import importlib
import pkgutil
import re
import textwrap
from dataclasses import dataclass, field
from functools import lru_cache
from types import ModuleType
from typing import Callable, Iterable

from tenantlint.types import Level

HEADINGS = ("What it finds", "Why it matters", "Bad", "Good", "How to silence it")
_CODE_RE = re.compile(r"^TL\d{3}$")
_NAME_RE = re.compile(r"^[a-z]+(-[a-z]+)*$")


class RuleError(Exception):
    """A malformed or duplicate rule module: a bug in tenantlint or a plug-in, reported at start-up."""


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    level: Level
    site_kinds: frozenset
    check: Callable
    engine_diagnostic: bool
    security_severity: str
    summary: str  # the first docstring line after the code and name: "What it finds"
    sections: dict  # heading -> text
    doc: str  # the whole docstring
    example_config: dict = field(default_factory=dict)  # [tool.tenantlint] keys its Bad/Good examples assume

    @property
    def what(self) -> str:
        return self.sections["What it finds"]

    @property
    def why(self) -> str:
        return self.sections["Why it matters"]

    def explain(self) -> str:
        return f"{self.code} {self.name} ({self.level.value})\n\n" + self.doc.split("\n", 1)[1].strip() + "\n"

    def markdown(self) -> str:
        s = self.sections
        return (
            f"**{self.code} {self.name}** ({self.level.value})\n\n"
            f"{s['What it finds']}\n\n**Why it matters.** {s['Why it matters']}\n\n"
            f"Bad:\n```python\n{s['Bad']}\n```\n\nGood:\n```python\n{s['Good']}\n```\n\n"
            f"**How to silence it.** {s['How to silence it']}\n"
        )


def parse_doc(doc: str, where: str) -> tuple[str, str, dict[str, str]]:
    lines = textwrap.dedent(doc).strip("\n").splitlines()
    head = lines[0].split()
    if len(head) != 2:
        raise RuleError(f"{where}: docstring must start with '<CODE> <name>'")
    sections: dict[str, list[str]] = {}
    current: str | None = None
    for line in lines[1:]:
        m = re.match(r"^(What it finds|Why it matters|Bad|Good|How to silence it):\s*(.*)$", line)
        if m:
            current = m.group(1)
            sections[current] = [m.group(2)] if m.group(2) else []
        elif current is not None:
            sections[current].append(line)
    missing = [h for h in HEADINGS if h not in sections]
    if missing:
        raise RuleError(f"{where}: docstring lacks heading(s) {', '.join(missing)}")
    texts = {k: textwrap.dedent("\n".join(v)).strip() for k, v in sections.items()}
    return head[0], head[1], texts


def _load(module: ModuleType) -> Rule:
    where = module.__name__
    for attr in ("CODE", "NAME", "LEVEL", "SITE_KINDS", "check"):
        if not hasattr(module, attr):
            raise RuleError(f"rule module {where} lacks {attr}")
    if not _CODE_RE.match(module.CODE):
        raise RuleError(f"rule module {where}: code {module.CODE!r} is not of the form TL123")
    if not _NAME_RE.match(module.NAME):
        raise RuleError(f"rule module {where}: name {module.NAME!r} is not kebab-case")
    try:
        level = Level(module.LEVEL)
    except ValueError:
        raise RuleError(f"rule module {where}: level {module.LEVEL!r} is not error, warning or note") from None
    code, name, sections = parse_doc(module.__doc__ or "", where)
    if (code, name) != (module.CODE, module.NAME):
        raise RuleError(f"rule module {where}: docstring says {code} {name}, module says {module.CODE} {module.NAME}")
    return Rule(
        code=module.CODE,
        name=module.NAME,
        level=level,
        site_kinds=frozenset(module.SITE_KINDS),
        check=module.check,
        engine_diagnostic=bool(getattr(module, "ENGINE_DIAGNOSTIC", False)),
        security_severity=str(getattr(module, "SECURITY_SEVERITY", "5.0")),
        summary=sections["What it finds"].splitlines()[0],
        sections=sections,
        doc=module.__doc__ or "",
        example_config=dict(getattr(module, "EXAMPLE_CONFIG", {})),
    )


def load_rules(modules: Iterable[ModuleType]) -> dict[str, Rule]:
    rules: dict[str, Rule] = {}
    names: dict[str, str] = {}
    for module in modules:
        rule = _load(module)
        if rule.code in rules:
            raise RuleError(f"duplicate rule code {rule.code} in {module.__name__}")
        if rule.name in names:
            raise RuleError(f"duplicate rule name {rule.name} in {module.__name__} (also {names[rule.name]})")
        rules[rule.code] = rule
        names[rule.name] = rule.code
    return dict(sorted(rules.items()))


@lru_cache(maxsize=1)
def all_rules() -> dict[str, Rule]:
    """Every rule shipped in `tenantlint.rules`, by code."""
    import tenantlint.rules as package

    modules = [importlib.import_module(f"{package.__name__}.{info.name}") for info in pkgutil.iter_modules(package.__path__)]
    return load_rules(modules)


def resolve_selector(selector: str, rules: dict[str, Rule] | None = None) -> set[str]:
    """Codes matched by a code ("TL101"), a prefix ("TL1"), a name ("unscoped-read") or "ALL"."""
    rules = rules if rules is not None else all_rules()
    s = selector.strip()
    if s.upper() == "ALL":
        return set(rules)
    by_name = {r.name: c for c, r in rules.items()}
    if s in by_name:
        return {by_name[s]}
    matched = {c for c in rules if c.startswith(s.upper())}
    return matched


def rule_by_code_or_name(key: str) -> Rule | None:
    rules = all_rules()
    if key.upper() in rules:
        return rules[key.upper()]
    return next((r for r in rules.values() if r.name == key), None)
