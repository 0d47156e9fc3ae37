"""Engine behaviour beyond single rules: the cache, parallel runs, schema learnt from the whole project."""
from __future__ import annotations

from pathlib import Path

import pytest

import tenantlint.engine as engine
from tenantlint.config import Config

MODELS = """\
from django.db import models


class Organization(models.Model):
    name = models.CharField(max_length=100)


class Patient(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
"""

LEAK = "from app.models import Patient\n\n\ndef leak(pk):\n    return Patient.objects.get(pk=pk)\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "models.py").write_text(MODELS)
    (tmp_path / "app" / "views.py").write_text(LEAK)
    return tmp_path


def _codes(result) -> list[tuple[str, int, str]]:
    return [(f.path, f.span.start_line, f.code) for f in result.findings]


def test_warm_run_serves_unchanged_files_from_the_cache(project: Path, monkeypatch) -> None:
    config = Config(root=project.resolve())
    cold = engine.run([project], config, use_cache=True)
    assert _codes(cold) == [("app/views.py", 5, "TL101")]
    parsed: list[str] = []
    real_parse = engine.PythonModule.parse
    monkeypatch.setattr(engine.PythonModule, "parse", classmethod(lambda cls, path, text: parsed.append(path) or real_parse(path, text)))
    warm = engine.run([project], config, use_cache=True)
    assert _codes(warm) == _codes(cold) and parsed == []
    (project / "app" / "views.py").write_text(LEAK.replace("get(pk=pk)", "get(pk=pk, organization=1)"))
    changed = engine.run([project], config, use_cache=True)
    assert _codes(changed) == [] and parsed == ["app/views.py"]


def test_schema_change_invalidates_cached_findings(project: Path) -> None:
    config = Config(root=project.resolve())
    assert _codes(engine.run([project], config, use_cache=True)) == [("app/views.py", 5, "TL101")]
    (project / "app" / "models.py").write_text(MODELS.replace("organization = models.ForeignKey(Organization, on_delete=models.CASCADE)", "name = models.TextField()"))
    assert _codes(engine.run([project], config, use_cache=True)) == []


def test_parallel_run_equals_serial_run(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "models.py").write_text(MODELS)
    for i in range(engine.PARALLEL_THRESHOLD + 6):
        (tmp_path / "app" / f"views_{i}.py").write_text(LEAK)
    serial = engine.run([tmp_path], Config(root=tmp_path.resolve(), jobs=1))
    parallel = engine.run([tmp_path], Config(root=tmp_path.resolve(), jobs=2))
    assert len(serial.findings) == engine.PARALLEL_THRESHOLD + 6
    assert _codes(parallel) == _codes(serial)


def test_schema_comes_from_the_whole_project_when_one_file_is_checked(project: Path) -> None:
    result = engine.run([project / "app" / "views.py"], Config(root=project.resolve()))
    assert _codes(result) == [("app/views.py", 5, "TL101")]
    assert result.files_checked == 1


def test_files_without_known_models_are_not_parsed(project: Path, monkeypatch) -> None:
    (project / "app" / "other.py").write_text("def f(objects):\n    return objects.filter(x=1)\n")
    parsed: list[str] = []
    real_parse = engine.PythonModule.parse
    monkeypatch.setattr(engine.PythonModule, "parse", classmethod(lambda cls, path, text: parsed.append(path) or real_parse(path, text)))
    engine.run([project], Config(root=project.resolve()))
    assert "app/other.py" not in parsed and "app/views.py" in parsed


def test_broken_migration_is_a_notification_and_other_tables_still_count(tmp_path):
    mig = tmp_path / "supabase" / "migrations"
    mig.mkdir(parents=True)
    (mig / "1.sql").write_text("create table a (id int;\ncreate table organizations (id int primary key);\ncreate table b (org_id int references organizations(id));\n")
    result = engine.run([tmp_path], Config(root=tmp_path))
    assert result.schema.table("b").is_tenant_table
    assert any(path == "supabase/migrations/1.sql" and msg.startswith("line 1: cannot parse") for path, msg in result.notifications)


def test_the_span_of_an_empty_tuple_is_its_parentheses():
    # a parenthesized expression is searched without its parentheses; `()` cannot lose them (libcst refuses)
    from tenantlint.python_module import PythonModule

    module = PythonModule.parse("forms.py", "x = 1\nexclude = ()\n")
    node = module.tree.body[1].body[0].value
    span = module.span_of(node)
    assert (span.start_line, span.start_col, span.end_line, span.end_col) == (2, 11, 2, 13)


def test_children_match_libcst_order():
    # python_module.children() reads fields instead of libcst's rebuilding visitor: same nodes, same order
    import libcst as cst

    from tenantlint.python_module import children, descendants

    source = (Path(__file__).parent.parent / "fixtures" / "django_helpers" / "app" / "raw_ordering.py").read_text()
    source += "\nx = (a if b else c)[1:2, ...]\nf(*args, k=1, **kw)\nlambda y=1, *z: {**y, 'k': [i async for i in z if i]}\n"
    tree = cst.parse_module(source)
    seen = 0
    for node in descendants(tree):
        assert [id(c) for c in children(node)] == [id(c) for c in node.children], type(node).__name__
        seen += 1
    assert seen > 500
