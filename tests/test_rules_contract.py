"""Every rule: a unique code, a kebab-case name, all documentation headings, and examples that do what they say.

The Bad example must yield exactly the rule's own code and the Good one nothing, run through the real engine
against a small clinic schema, so the documentation cannot drift from the behaviour.
"""
from __future__ import annotations

import ast
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

from tenantlint.config import parse_table
from tenantlint.engine import run
from tenantlint.registry import HEADINGS, RuleError, all_rules, load_rules

RULES_DIR = Path(__file__).resolve().parents[1] / "rules"

MODELS = """\
from django.db import models


class Organization(models.Model):
    name = models.CharField(max_length=100)


class Patient(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    name = models.CharField(max_length=100)
    archived = models.BooleanField(default=False)
    status = models.CharField(max_length=20)


class Visit(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE)
"""

PRELUDE = "from django.db.models import Q\nfrom clinic.models import Patient\n\n\n"


def _codes_for(tmp_path: Path, snippet: str, monkeypatch=None, config: dict | None = None) -> list[str]:
    app = tmp_path / "clinic"
    app.mkdir(exist_ok=True)
    (app / "__init__.py").write_text("")
    (app / "models.py").write_text(MODELS)
    (app / "views.py").write_text(PRELUDE + textwrap.dedent(snippet) + "\n")
    result = run([tmp_path], parse_table(config or {}, tmp_path.resolve(), None), debug=False)
    return sorted(f.code for f in result.findings if f.path == "clinic/views.py")


RULES = list(all_rules().values())


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_rule_documents_every_heading(rule) -> None:
    for heading in HEADINGS:
        assert rule.sections.get(heading), f"{rule.code} lacks '{heading}'"
    assert rule.summary and rule.summary[0].islower() or rule.summary[0] == "a"


@pytest.mark.parametrize("rule", [r for r in RULES if r.code != "TL000"], ids=lambda r: r.code)
def test_bad_example_yields_exactly_its_code(rule, tmp_path: Path) -> None:
    codes = _codes_for(tmp_path, rule.sections["Bad"], config=rule.example_config)
    assert codes and set(codes) == {rule.code}, codes


@pytest.mark.parametrize("rule", [r for r in RULES if r.code != "TL000"], ids=lambda r: r.code)
def test_good_example_yields_nothing(rule, tmp_path: Path) -> None:
    assert _codes_for(tmp_path, rule.sections["Good"], config=rule.example_config) == []


def test_internal_error_becomes_TL000_and_the_run_goes_on(tmp_path: Path, monkeypatch) -> None:
    import tenantlint.engine as engine

    class Exploding:
        name = "exploding"

        def wants(self, source: str) -> bool:
            return True

        def sites(self, module, schema, config):
            raise RuntimeError("boom")

    real = engine.python_adapters
    monkeypatch.setattr(engine, "python_adapters", lambda: [Exploding(), *real()])
    codes = _codes_for(tmp_path, "def leak(pk):\n    return Patient.objects.get(pk=pk)\n")
    assert "TL000" in codes and "TL101" in codes


def test_codes_and_names_are_unique() -> None:
    assert len({r.code for r in RULES}) == len(RULES)
    assert len({r.name for r in RULES}) == len(RULES)


def test_duplicate_code_is_rejected_with_one_line() -> None:
    a = ModuleType("a")
    a.__doc__ = "TL900 one-rule\n\nWhat it finds: x\nWhy it matters: y\nBad:\n  a\nGood:\n  b\nHow to silence it: z\n"
    a.CODE, a.NAME, a.LEVEL, a.SITE_KINDS, a.check = "TL900", "one-rule", "note", set(), lambda s, c: ()
    b = ModuleType("b")
    b.__doc__ = a.__doc__.replace("one-rule", "two-rule")
    b.CODE, b.NAME, b.LEVEL, b.SITE_KINDS, b.check = "TL900", "two-rule", "note", set(), lambda s, c: ()
    with pytest.raises(RuleError, match="duplicate rule code TL900"):
        load_rules([a, b])


def test_rules_import_no_adapter_and_no_libcst() -> None:
    """Rules judge neutral QuerySites; an adapter or parser import would tie them to one front end."""
    for path in RULES_DIR.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                assert not name.startswith(("libcst", "sqlglot", "tenantlint.adapters", "tenantlint.schema")), f"{path.name} imports {name}"


def test_types_module_is_free_of_parser_types() -> None:
    tree = ast.parse((Path(__file__).resolve().parents[1] / "tenantlint" / "types.py").read_text())
    imported = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    imported += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert not [m for m in imported if m.startswith(("libcst", "sqlglot"))], imported
