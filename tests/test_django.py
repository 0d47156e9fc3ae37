"""Django schema source and adapter, beyond what the fixtures pin: facts, call counts, odd code."""
from __future__ import annotations

import textwrap

import pytest

import tenantlint.adapters.django as dj
from tenantlint.config import Config
from tenantlint.python_module import PythonModule
from tenantlint.schema.django import SOURCE, app_label_for
from tenantlint.schema.resolve import build_schema
from tenantlint.types import Scope, SiteKind

MODELS = textwrap.dedent(
    """
    from django.db import models

    class Organization(models.Model):
        name = models.CharField(max_length=10)

    class Base(models.Model):
        organization = models.ForeignKey("core.Organization", on_delete=models.CASCADE, related_name="%(class)s_items")

        class Meta:
            abstract = True

    class Patient(Base):
        name = models.CharField(max_length=10, db_column="full_name")

        class Meta:
            db_table = "patients"

    class Order(models.Model):
        patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="orders")
    """
)


def schema():
    module = PythonModule.parse("core/models.py", MODELS)
    return build_schema(list(SOURCE.facts(module, Config())), Config())


def sites(code: str):
    module = PythonModule.parse("core/views.py", textwrap.dedent(code))
    return list(dj.ADAPTER.sites(module, schema(), Config()))


@pytest.mark.parametrize(
    "path,label",
    [("clinic/models.py", "clinic"), ("zerver/models/realms.py", "zerver"), ("apps/db/models/__init__.py", "db"), ("models.py", None)],
)
def test_app_label_from_path(path, label):
    assert app_label_for(path) == label


def test_facts_follow_meta_columns_and_related_names():
    s = schema()
    patient = s.model("Patient")
    assert patient.table == "patients"
    assert patient.tenant.tenant_paths == (("organization",),)
    assert any(c.name == "full_name" and c.attr == "name" for c in patient.columns)
    assert s.model("Order").table == "core_order"
    assert s.model("Order").tenant.tenant_paths == (("patient", "organization"),)
    assert s.reverse["Organization"]["patient_items"] == "Patient"
    assert s.reverse["Patient"]["orders"] == "Order"
    assert s.model("Base") is None  # abstract: no table


def test_one_site_per_query_reported_where_it_starts():
    found = sites(
        """
        from core.models import Patient
        def view(org, flag):
            qs = Patient.objects.all()
            if flag:
                qs = qs.filter(name="x")
            qs = qs.order_by("name")
            return qs
        """
    )
    assert [(s.kind, s.restriction.scope, s.api) for s in found] == [(SiteKind.READ, Scope.UNSCOPED, "Patient.objects.all")]
    assert found[0].text == "Patient.objects.all()"
    assert found[0].function == "view"


def test_long_chains_are_evaluated_in_linear_time(monkeypatch):
    calls = 0
    original = dj.ModuleAnalysis.value

    def counting(self, node, env):
        nonlocal calls
        calls += 1
        return original(self, node, env)

    monkeypatch.setattr(dj.ModuleAnalysis, "value", counting)
    links = ".".join(f"helper{i}(x)" for i in range(40))
    found = sites(f"from core.models import Patient\ndef f(x):\n    return Patient.objects.filter(organization=x).{links}\n")
    assert len(found) == 1
    assert calls < 40 * 12, calls  # each link a bounded number of times, not 2**40


def test_methods_of_nested_classes_are_named_with_their_class():
    found = sites(
        """
        from core.models import Patient
        class Outer:
            class Inner:
                def get(self, pk):
                    return Patient.objects.get(pk=pk)
        """
    )
    assert [s.function for s in found] == ["Outer.Inner.get"]


@pytest.mark.parametrize(
    "code",
    [
        "x = (lambda: Patient.objects.all())\n",
        "match x:\n    case 1:\n        Patient.objects.all()\n",
        "async def f():\n    async with a as b:\n        await Patient.objects.aget(pk=1)\n",
        "def f():\n    try:\n        pass\n    finally:\n        return Patient.objects.all()\n",
        "Patient.objects.filter(*[], **{1: 2})\n",
    ],
)
def test_odd_code_never_raises(code):
    sites("from core.models import Patient\n" + code)


_WANTS_CASES = [
    # (path, source, wanted): a module the Django source would read nothing from is not parsed for the schema at all
    ("models/account.py", "from sqlalchemy import Column, String\nfrom models.base import Base\n\nclass Account(Base):\n"
     "    __tablename__ = 'accounts'\n    id = Column(String, primary_key=True)\n", False),
    ("services/account.py", "from sqlalchemy import select\nfrom models.account import Account\n\nclass AccountService:\n"
     "    def get(self, session, pk):\n        return session.scalar(select(Account).where(Account.id == pk))\n", False),
    ("services/nested.py", "from models.account import Account\n\nclass Loader:\n    def load(self):\n"
     "        import sqlalchemy as sa\n        return sa.select(Account)\n", False),
    ("app/models.py", "from app.base import ProjectBaseModel\n\nclass Issue(ProjectBaseModel):\n"
     "    name = models.CharField(max_length=10)\n", True),
    ("app/views.py", "from django.views import View\n\nclass IssueView(View):\n    pass\n", True),
]


@pytest.mark.parametrize("path,source,wanted", _WANTS_CASES)
def test_schema_source_skips_only_modules_it_reads_nothing_from(path, source, wanted):
    assert SOURCE.wants(source) is wanted
    facts = list(SOURCE.facts(PythonModule.parse(path, source), Config()))
    if not wanted:
        assert facts == []  # what the skipped parse would have given
    elif path.endswith("models.py"):
        assert [f.name for f in facts] == ["Issue"]
