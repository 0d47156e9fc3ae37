"""The project index: summaries read with ast, names resolved across modules, callers, and the digest that keys
a file's cached findings on the helpers it calls."""
from __future__ import annotations

from pathlib import Path

from tenantlint.config import Config
from tenantlint.engine import run
from tenantlint.index.project import ProjectIndex
from tenantlint.index.summary import summarize

MODELS = '''
from django.db import models

class Finder:
    @classmethod
    def get_by_id(cls, _id):
        return cls.objects.get(id=_id)

class Organization(models.Model):
    name = models.CharField(max_length=10)

class Note(Finder, models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
'''
SERVICES = '''
from app.models import Note
from . import models as m

def get_note(note_id):
    return Note.objects.get(id=note_id)

def via_module(pk):
    return m.Note.get_by_id(pk)
'''
VIEWS = '''
from app import services
from app.services import get_note

def view(request, pk):
    return get_note(pk)

def other(request, pk):
    return services.via_module(pk), unknown_function(pk)
'''


def _index(files: dict[str, str]) -> ProjectIndex:
    index = ProjectIndex.build([summarize(rel, text) for rel, text in files.items()])
    index.mark_query_functions(frozenset({"Note", "Organization", "app_note"}))
    return index


def test_calls_resolve_through_imports_modules_and_inherited_classmethods():
    index = _index({"app/models.py": MODELS, "app/services.py": SERVICES, "app/views.py": VIEWS, "app/__init__.py": ""})
    assert index.resolve_call("app.views", None, "get_note").id == "app.services:get_note"
    assert index.resolve_call("app.views", None, "services.via_module").id == "app.services:via_module"
    r = index.resolve_call("app.services", None, "m.Note.get_by_id")
    assert r.id == "app.models:Finder.get_by_id" and r.bound == ("app.models", "Note")
    assert index.resolve_call("app.views", None, "unknown_function") is None
    assert index.unresolved >= 1
    assert [c[:2] for c in index.callers("app.services:get_note")] == [("app/views.py", "view")]
    assert "app.services:via_module" in index.query_functions  # calls a classmethod that queries
    assert index.calls_query_functions("app/views.py")


def test_module_names_resolve_by_suffix_under_a_source_folder():
    index = _index({"src/app/services.py": SERVICES, "src/app/models.py": MODELS, "src/app/views.py": VIEWS})
    assert index.resolve_call("src.app.views", None, "get_note").id == "src.app.services:get_note"


def test_a_file_that_does_not_parse_has_an_empty_summary():
    s = summarize("bad.py", "def broken(:\n")
    assert s.parse_error and not s.functions


def test_dependency_digest_follows_the_helpers_a_file_calls():
    files = {"app/models.py": MODELS, "app/services.py": SERVICES, "app/views.py": VIEWS}
    before = _index(files).dependency_digest("app/views.py")
    edited = dict(files, **{"app/services.py": SERVICES.replace("Note.objects.get(id=note_id)", "Note.objects.get(id=note_id, organization=o)")})
    assert _index(edited).dependency_digest("app/views.py") != before
    unrelated = dict(files, **{"app/models.py": MODELS + "\nX = 1\n"})
    assert _index(unrelated).dependency_digest("app/views.py") == before


def test_cached_findings_of_a_caller_change_when_only_the_helper_changes(tmp_path: Path):
    (tmp_path / "app").mkdir()
    for rel, text in {"app/__init__.py": "", "app/models.py": MODELS, "app/services.py": SERVICES, "app/views.py": VIEWS}.items():
        (tmp_path / rel).write_text(text)
    config = Config(root=tmp_path)
    first = run([tmp_path], config, use_cache=True)
    assert ("app/views.py", 6) in {(f.path, f.span.start_line) for f in first.findings}
    (tmp_path / "app/services.py").write_text(SERVICES.replace("Note.objects.get(id=note_id)", "Note.objects.get(id=note_id, organization=request_org())"))
    second = run([tmp_path], config, use_cache=True)
    assert ("app/views.py", 6) not in {(f.path, f.span.start_line) for f in second.findings}


REPOS = '''
class Generic:
    def __init__(self, session, sql_model, schema=None):
        self.session = session
        self.model = sql_model

class Scoped(Generic):
    def __init__(self, session, model, *, org_id):
        super().__init__(session, model)
        self.org_id = org_id
'''
FACTORY = '''
from app.models import Note, Organization
from app.repos import Generic, Scoped

def notes(session, org):
    return Scoped(session, Note, org_id=org.id)

def orgs(session):
    return Generic(session, sql_model=Organization)
'''


def test_constructor_bindings_follow_super_init_and_keywords():
    index = _index({"app/models.py": MODELS, "app/repos.py": REPOS, "app/factory.py": FACTORY})
    bindings = index.constructor_bindings("app.repos", "Generic")
    assert sorted((module, binds["model"], line) for module, binds, _, line in bindings) == [
        ("app.factory", "Note", 6), ("app.factory", "Organization", 9)]
    assert index.qualify("app.factory", "Note") == "app.models.Note"
    assert index.holds_constructor_binds("app.repos", "Scoped")
    # what the file's findings depend on changes when a caller builds the class with another model
    before = index.dependency_digest("app/repos.py")
    edited = _index({"app/models.py": MODELS, "app/repos.py": REPOS, "app/factory.py": FACTORY.replace("Scoped(session, Note", "Scoped(session, Organization")})
    assert edited.dependency_digest("app/repos.py") != before


def test_functions_that_query_a_model_passed_as_an_argument():
    helpers = '''
def ids_for(session, slugs, model):
    return session.execute(select(model.id).where(model.slug.in_(slugs))).all()

def by_pk(model, pk):
    return get_object_or_404(model, pk=pk)

def merge(params, extra):
    params.update(extra)
    return session.query(Note).filter_by(**params)

def status(session, document_id):
    return session.query(Note).filter_by(id=document_id).count()
'''
    index = _index({"app/helpers.py": helpers, "app/models.py": MODELS})
    assert index.model_param_functions == {"app.helpers:ids_for", "app.helpers:by_pk"}
    assert "app.helpers:status" in index.query_functions


TYPED_REPOS = '''
from functools import cached_property
from typing import Optional

class Recipes:
    def by_slug(self, group_id, slug):
        ...

class Repos:
    @cached_property
    def recipes(self) -> "Recipes":
        return Recipes()

    @property
    def maybe(self) -> Optional[Recipes]:
        return None

    def plain(self) -> Recipes:
        return Recipes()

def get_repos(session):
    if session is None:
        return Repos()
    return Repos()

def either(flag):
    if flag:
        return Repos()
    return Recipes()
'''
TYPED_ROUTES = '''
from app.repos import Recipes, Repos, either, get_repos

def built(session, slug):
    db = get_repos(session)
    return db.recipes.by_slug(1, slug)

def annotated(repos: Repos, slug):
    return repos.maybe.by_slug(1, slug)

def twice(session, slug):
    db = get_repos(session)
    db = object()
    return db.recipes.by_slug(1, slug)

def unknown(flag, slug):
    db = either(flag)
    return db.recipes.by_slug(1, slug)

def method_not_property(session, slug):
    db = get_repos(session)
    return db.plain.by_slug(1, slug)
'''


def test_calls_on_locals_resolve_through_returned_classes_and_properties():
    index = ProjectIndex.build([summarize("app/repos.py", TYPED_REPOS), summarize("app/routes.py", TYPED_ROUTES)])
    repos = index.files["app.repos"]
    assert repos.functions["get_repos"].returns == "Repos"  # every return builds it
    assert repos.functions["either"].returns is None  # two classes: no one type
    assert repos.functions["Repos.recipes"].returns == '"Recipes"'
    assert index.local_type("app.routes", "built", "db") == ("app.repos", "Repos")
    assert index.local_type("app.routes", "annotated", "repos") == ("app.repos", "Repos")
    assert index.attribute_type(("app.repos", "Repos"), "maybe") == ("app.repos", "Recipes")  # Optional[...] unwrapped
    assert index.resolve_typed_call("app.routes", "built", "db.recipes.by_slug").id == "app.repos:Recipes.by_slug"
    assert index.resolve_typed_call("app.routes", "annotated", "repos.maybe.by_slug").id == "app.repos:Recipes.by_slug"
    # assigned twice, built by a function returning either of two classes, or a plain method: not resolved
    assert index.resolve_typed_call("app.routes", "twice", "db.recipes.by_slug") is None
    assert index.resolve_typed_call("app.routes", "unknown", "db.recipes.by_slug") is None
    assert index.resolve_typed_call("app.routes", "method_not_property", "db.plain.by_slug") is None


def test_digest_of_a_route_follows_the_methods_it_calls_on_typed_locals():
    route = '''
from fastapi import APIRouter
from app.repos import get_repos

router = APIRouter()

@router.get("/groups/{group_id}/recipes")
def recipes(group_id: int, slug: str, session=None):
    db = get_repos(session)
    return db.recipes.by_slug(group_id, slug)
'''
    files = {"app/repos.py": TYPED_REPOS, "app/routes.py": route}
    before = _index(files).dependency_digest("app/routes.py")
    # what the method does decides the route's TL105: its text is part of the route's cached findings' key
    edited = dict(files, **{"app/repos.py": TYPED_REPOS.replace("def by_slug(self, group_id, slug):\n        ...", "def by_slug(self, group_id, slug):\n        return group_id")})
    assert edited["app/repos.py"] != TYPED_REPOS
    assert _index(edited).dependency_digest("app/routes.py") != before
    # a change the route cannot reach leaves it alone
    unrelated = dict(files, **{"app/repos.py": TYPED_REPOS + "\nX = 1\n"})
    assert _index(unrelated).dependency_digest("app/routes.py") == before


def test_scheduled_only_follows_beat_schedules_and_resolved_callers():
    tasks = '''
from app.models import Note

def count_notes():
    return Note.objects.count()

def nightly():
    return count_notes()

def also_from_a_view():
    return Note.objects.count()

def weekly():
    return also_from_a_view()

def view(request):
    return also_from_a_view()
'''
    celery = '''
app.conf.beat_schedule = {
    "nightly": {"task": "app.tasks.nightly", "schedule": 86400},
    "weekly": {"task": "app.tasks.weekly", "schedule": 604800},
}
'''
    files = {"app/models.py": MODELS, "app/tasks.py": tasks, "app/celery.py": celery}
    index = _index(files)
    assert index.scheduled_tasks() == {"app.tasks:nightly", "app.tasks:weekly"}
    assert index.scheduled_only("app.tasks:nightly") and index.scheduled_only("app.tasks:count_notes")
    assert not index.scheduled_only("app.tasks:also_from_a_view")  # a view calls it too
    assert not index.scheduled_only("app.tasks:view")
    # the schedule lives in another file: dropping a task changes what the tasks file's findings depend on
    before = index.dependency_digest("app/tasks.py")
    dropped = dict(files, **{"app/celery.py": celery.replace('    "nightly": {"task": "app.tasks.nightly", "schedule": 86400},\n', "")})
    assert _index(dropped).dependency_digest("app/tasks.py") != before


TWO_QUERIES = '''
from app.models import Note

def last_two(key):
    first = Note.objects.filter(id=key).first()
    if first is None:
        return Note.objects.filter(id=key).last()
    return first
'''


def test_a_helper_running_two_unscoped_queries_is_one_finding_at_the_call_with_both_locations(tmp_path: Path):
    (tmp_path / "app").mkdir()
    views = "from app.services import last_two\n\ndef view(request, pk):\n    return last_two(pk)\n"
    for rel, text in {"app/__init__.py": "", "app/models.py": MODELS, "app/services.py": TWO_QUERIES, "app/views.py": views}.items():
        (tmp_path / rel).write_text(text)
    findings = [f for f in run([tmp_path], Config(root=tmp_path)).findings if f.path == "app/views.py"]
    assert [(f.code, f.span.start_line) for f in findings] == [("TL101", 4)]
    assert [(path, span.start_line) for path, span, _ in findings[0].related] == [("app/services.py", 5), ("app/services.py", 7)]


TWO_TABLES = '''
from app.models import Note, Tag

def repair(session):
    notes = list(Note.objects.all())
    tags = list(Tag.objects.filter(note=None))
    Tag.objects.filter(note=None).delete()
    return notes, tags
'''


def test_a_helper_reading_two_tables_unscoped_is_one_finding_per_rule_at_the_call(tmp_path: Path):
    (tmp_path / "app").mkdir()
    models = MODELS + "\nclass Tag(models.Model):\n    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)\n    note = models.ForeignKey(Note, null=True, on_delete=models.CASCADE)\n"
    views = "from app.services import repair\n\ndef view(request):\n    return repair(None)\n"
    for rel, text in {"app/__init__.py": "", "app/models.py": models, "app/services.py": TWO_TABLES, "app/views.py": views}.items():
        (tmp_path / rel).write_text(text)
    findings = [f for f in run([tmp_path], Config(root=tmp_path)).findings if f.path == "app/views.py"]
    by_code = {f.code: f for f in findings}
    assert sorted(by_code) == ["TL101", "TL102"] and len(findings) == 2
    read = by_code["TL101"]
    assert read.span.start_line == 4 and [(p, s.start_line) for p, s, _ in read.related] == [("app/services.py", 5), ("app/services.py", 6)]
    assert "app_note" in read.message and read.message.endswith("(and 1 more query this call runs the same way: see the related locations)")
    assert "more quer" not in by_code["TL102"].message  # the delete is the one write: nothing merged into it


DENY_SQL = '''
from django.db.models.expressions import RawSQL

def hidden_ids(flag):
    return RawSQL("SELECT id FROM app_note WHERE pinned = %s", (flag,))
'''


def test_cached_findings_of_a_deny_list_change_when_a_caller_selects_by_it(tmp_path: Path):
    (tmp_path / "app").mkdir()
    views = "from app.models import Note\nfrom app.sql import hidden_ids\n\ndef view(request):\n    return Note.objects.filter(organization=request.org).{}(id__in=hidden_ids(True))\n"
    for rel, text in {"app/__init__.py": "", "app/models.py": MODELS, "app/sql.py": DENY_SQL, "app/views.py": views.format("exclude")}.items():
        (tmp_path / rel).write_text(text)
    config = Config(root=tmp_path)
    assert [f for f in run([tmp_path], config, use_cache=True).findings if f.path == "app/sql.py"] == []
    (tmp_path / "app/views.py").write_text(views.format("filter"))
    second = run([tmp_path], config, use_cache=True)
    assert [(f.code, f.span.start_line) for f in second.findings if f.path == "app/sql.py"] == [("TL101", 5)]


VALIDATORS = '''
from app.models import Note

class PinValidator:
    def __init__(self, data=None):
        self.data = data

    def validate_note_id(self, value):
        if not Note.objects.filter(organization_id=self.data["organization_id"], id=value).exists():
            raise ValueError("not this organization's note")
        return value
'''


def test_cached_findings_of_a_view_change_when_only_its_validator_changes(tmp_path: Path):
    (tmp_path / "app").mkdir()
    views = ("from app.models import Note\nfrom app.validators import PinValidator\n\ndef view(request):\n"
             "    validator = PinValidator(data=request.POST)\n    data = validator.data\n    return Note.objects.get(pk=data[\"note_id\"])\n")
    for rel, text in {"app/__init__.py": "", "app/models.py": MODELS, "app/validators.py": VALIDATORS, "app/views.py": views}.items():
        (tmp_path / rel).write_text(text)
    config = Config(root=tmp_path)
    assert [f for f in run([tmp_path], config, use_cache=True).findings if f.path == "app/views.py"] == []
    (tmp_path / "app/validators.py").write_text(VALIDATORS.replace("organization_id=self.data[\"organization_id\"], ", ""))
    second = run([tmp_path], config, use_cache=True)
    assert [(f.code, f.span.start_line) for f in second.findings if f.path == "app/views.py"] == [("TL101", 7)]


LONG_SERVICE = '''
from app.models import Note


def close_notes(bulk_notes):
''' + "".join(f"    step_{i} = {i}  # what a long service does besides its query\n" for i in range(60)) + '''
    for e in bulk_notes:
        Note.objects.get(id=e["note_id"])
'''
CHECKING_VIEW = '''
from rest_framework import serializers

from app.models import Note
from app.services import close_notes


class CloseValidator(serializers.Serializer):
    def validate_bulk_notes(self, value):
        ids = [e["note_id"] for e in value]
        if Note.objects.filter(organization__id=self.initial_data["organization_id"], id__in=ids).count() != len(ids):
            raise serializers.ValidationError("notes of another organization")
        return value


def close(request):
    validator = CloseValidator(data=request.data)
    validator.is_valid(raise_exception=True)
    data = validator.validated_data
    close_notes(data["bulk_notes"])
'''


def test_cached_findings_of_a_long_function_change_when_only_its_caller_changes(tmp_path: Path):
    """A function judged in its own body, whose every caller hands it a list a validator checked: the caller's
    file decides whether its loop reads that tenant's rows, so editing the caller re-judges the function."""
    (tmp_path / "app").mkdir()
    for rel, text in {"app/__init__.py": "", "app/models.py": MODELS, "app/services.py": LONG_SERVICE, "app/views.py": CHECKING_VIEW}.items():
        (tmp_path / rel).write_text(text)
    config = Config(root=tmp_path)
    loop = ("app/services.py", LONG_SERVICE.count("\n"))
    first = run([tmp_path], config, use_cache=True)
    assert loop not in {(f.path, f.span.start_line) for f in first.findings}
    (tmp_path / "app/views.py").write_text(CHECKING_VIEW.replace('close_notes(data["bulk_notes"])', 'close_notes(request.data["bulk_notes"])'))
    second = run([tmp_path], config, use_cache=True)
    assert loop in {(f.path, f.span.start_line) for f in second.findings}


HOOKS = '''
from app.models import Note


class NoteExistsMixin:
    def validate_note_id(self, value):
        return Note.objects.filter(pk=value).exists()
'''
HOOK_USERS = '''
from rest_framework import serializers

from app.hooks import NoteExistsMixin


class CloseValidator(NoteExistsMixin, serializers.Serializer):
    reason = serializers.CharField()
'''


def test_a_validate_hook_runs_only_where_a_serializer_declares_its_field():
    files = {"app/models.py": MODELS, "app/hooks.py": HOOKS, "app/users.py": HOOK_USERS}
    index = _index(files)
    assert index.unreachable_hook("app.hooks", "NoteExistsMixin", "validate_note_id")
    declared = dict(files, **{"app/users.py": HOOK_USERS.replace("reason = ", "note_id = serializers.IntegerField()\n    reason = ")})
    assert not _index(declared).unreachable_hook("app.hooks", "NoteExistsMixin", "validate_note_id")
    # the mixin's file is judged again when a class built on it changes its fields
    assert _index(declared).dependency_digest("app/hooks.py") != index.dependency_digest("app/hooks.py")
    with_meta = dict(files, **{"app/users.py": HOOK_USERS + "\n    class Meta:\n        model = None\n"})
    assert not _index(with_meta).unreachable_hook("app.hooks", "NoteExistsMixin", "validate_note_id")
    unused = {"app/models.py": MODELS, "app/hooks.py": HOOKS}
    assert not _index(unused).unreachable_hook("app.hooks", "NoteExistsMixin", "validate_note_id")  # no serializer at all
    named = {"app/models.py": MODELS, "app/hooks.py": HOOKS.replace("NoteExistsMixin", "NoteExistsValidator")}
    assert _index(named).unreachable_hook("app.hooks", "NoteExistsValidator", "validate_note_id")  # a validator nothing uses


STAFF_VIEWS = '''
from django.views import View
from app.models import Note


def shred(user_id):
    return Note.objects.filter(author_id=user_id).delete()


def shared(user_id):
    return Note.objects.filter(author_id=user_id)


def shred_twice(user_id):
    return shred(user_id)


class AdminOnly(View):
    def has_permission(self):
        return self.request.user.is_administrator

    def post(self, request, pk):
        return shred_twice(pk), shared(pk)


class ForMembers(View):
    def test_func(self):
        return self.request.user.is_administrator or self.request.user.is_member

    def get(self, request, pk):
        return shared(pk)


class Inherits(AdminOnly):
    def get(self, request, pk):
        return shared(pk)
'''


def test_staff_views_and_the_functions_only_they_call():
    index = _index({"app/models.py": MODELS, "app/views.py": STAFF_VIEWS})
    # not a staff flag until the schema says the user model, in no tenant, declares it
    assert not index.staff_view("app.views", "AdminOnly")
    index = _index({"app/models.py": MODELS, "app/views.py": STAFF_VIEWS})
    index.staff_flags = frozenset({"is_staff", "is_superuser", "is_administrator"})
    assert index.staff_view("app.views", "AdminOnly") and index.staff_view("app.views", "Inherits")
    assert not index.staff_view("app.views", "ForMembers")  # `or`: a member passes without the flag
    assert index.staff_only("app.views:shred_twice") and index.staff_only("app.views:shred")  # two calls up
    assert not index.staff_only("app.views:shared")  # a members' view calls it too
    assert not index.staff_only("app.views:ForMembers.get")


def test_staff_flags_come_from_a_user_model_that_belongs_to_no_tenant(tmp_path: Path):
    from tenantlint.context.entry import staff_flags
    from tenantlint.engine import learn_project

    (tmp_path / "app").mkdir()
    (tmp_path / "site").mkdir()
    user = '''
from django.contrib.auth.models import AbstractUser
from django.db import models

class Organization(models.Model):
    name = models.CharField(max_length=10)

class User(AbstractUser):
    is_administrator = models.BooleanField(default=False)
    is_site_admin = models.BooleanField(default=False)
    is_adminish = models.BooleanField(default=False)
'''
    for rel, text in {"app/__init__.py": "", "site/__init__.py": "", "site/settings.py": 'AUTH_USER_MODEL = "app.User"\n', "app/models.py": user}.items():
        (tmp_path / rel).write_text(text)
    schema = learn_project(Config(root=tmp_path))[0]
    assert staff_flags(schema) == {"is_staff", "is_superuser", "is_administrator", "is_site_admin"}
    # a user that belongs to an organization: its administrator flag may be the organization's
    (tmp_path / "app/models.py").write_text(user + "    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)\n")
    schema = learn_project(Config(root=tmp_path))[0]
    assert staff_flags(schema) == {"is_staff", "is_superuser"}


def test_calls_resolve_through_star_re_exports_and_attributes_built_in_init():
    files = {
        "app/__init__.py": "",
        "app/models.py": MODELS,
        "app/base/__init__.py": "from .controllers import *\n",
        "app/base/controllers.py": "class AdminController:\n    def guard(self):\n        return True\n",
        "app/exporter.py": "from app.models import Note\n\nclass Exporter:\n    def dump(self):\n        return list(Note.objects.all())\n",
        "app/backup.py": (
            "from app.base import AdminController\nfrom app.exporter import Exporter\n\n"
            "class Backup(AdminController):\n    def __init__(self, url):\n        self.exporter = Exporter()\n        self.url = url\n\n"
            "    def run(self):\n        self.guard()\n        return self.exporter.dump(), self.url.strip()\n"
        ),
    }
    index = _index(files)
    assert index.class_chain("app.backup", "Backup")[1][1].qualname == "AdminController"  # through `import *`
    r = index.resolve_call("app.backup", "Backup", "self.exporter.dump")
    assert r.id == "app.exporter:Exporter.dump" and r.bound == ("app.exporter", "Exporter")
    assert index.resolve_call("app.backup", "Backup", "self.url.strip") is None  # built from a parameter: not known
    assert [c for _, c, _ in index.callers("app.exporter:Exporter.dump")] == ["Backup.run"]


def test_cached_findings_of_an_uncalled_method_change_when_another_file_calls_it(tmp_path: Path):
    (tmp_path / "app").mkdir()
    repo = "from app.models import Note\n\nclass Repo:\n    def by_author(self, author_id):\n        return list(Note.objects.filter(author_id=author_id))\n"
    for rel, text in {"app/__init__.py": "", "app/models.py": MODELS, "app/repo.py": repo, "app/views.py": "def view(request):\n    return None\n"}.items():
        (tmp_path / rel).write_text(text)
    config = Config(root=tmp_path, cache_dir=".tenantlint_cache")

    def levels():
        return [(f.path, f.level.value) for f in run([tmp_path], config, use_cache=True).findings if f.code == "TL101"]

    assert levels() == [("app/repo.py", "note")]  # nothing calls it
    (tmp_path / "app/views.py").write_text("from app.repo import Repo\n\ndef view(request, pk):\n    return Repo().by_author(pk)\n")
    found = levels()
    assert ("app/repo.py", "note") not in found and found  # called now: the cached note is not reused


def test_calls_resolve_through_properties_that_build_a_project_class():
    files = {
        "app/__init__.py": "",
        "app/models.py": MODELS,
        "app/repos.py": (
            "from functools import cached_property\nfrom app.models import Note\n\n"
            "class NoteRepo:\n    def by_author(self, author_id):\n        return list(Note.objects.filter(author_id=author_id))\n\n"
            "class Repos:\n    @cached_property\n    def notes(self) -> NoteRepo:\n        return NoteRepo()\n"
        ),
        "app/controllers.py": (
            "from app.repos import Repos\n\nclass Controller:\n    _repos = None\n\n    @property\n    def repos(self):\n"
            "        if not self._repos:\n            self._repos = Repos()\n        return self._repos\n\n"
            "    def ratings(self, pk):\n        return self.repos.notes.by_author(pk), self.repos.missing.by_author(pk)\n"
        ),
    }
    index = _index(files)
    r = index.resolve_call("app.controllers", "Controller", "self.repos.notes.by_author")
    assert r.id == "app.repos:NoteRepo.by_author" and r.bound == ("app.repos", "NoteRepo")
    assert index.resolve_call("app.controllers", "Controller", "self.repos.missing.by_author") is None


def test_only_unresolved_calls_of_a_name_count_against_a_function():
    files = {
        "app/__init__.py": "",
        "app/models.py": MODELS,
        "app/repos.py": (
            "from app.models import Note\n\n"
            "class NoteRepo:\n    def __init__(self, session):\n        self.session = session\n\n"
            "    def pending(self):\n        return list(Note.objects.filter(status='p'))\n\n"
            "class OtherRepo:\n    def pending(self):\n        return []\n\n"
            "class Base:\n    def rows(self):\n        return []\n\n"
            "class Child(Base):\n    def rows(self):\n        return list(Note.objects.all())\n"
        ),
        "app/services.py": (
            "from app.repos import Base, NoteRepo\n\n"
            "class Service:\n    def __init__(self, repo: NoteRepo) -> None:\n        self.repo = repo\n\n"
            "    def pending(self):\n        return self.repo.pending()\n\n"
            "def listing(session):\n    service = Service(NoteRepo(session))\n    return service.pending()\n\n"
            "def rows_of(base: Base):\n    return base.rows()\n\n"
            "def anything(obj):\n    return obj.unknown_name()\n"
        ),
    }
    index = _index(files)
    # `self.repo` copied in __init__ from an annotated parameter; `service` a local built from a project class
    assert [c for _, c, _ in index.callers("app.repos:NoteRepo.pending")] == ["Service.pending"]
    assert [c for _, c, _ in index.callers("app.services:Service.pending")] == ["listing"]
    # both calls of `pending` resolve, to other functions: OtherRepo.pending is called by nothing
    assert not index.called_unresolved("app.repos:NoteRepo.pending")
    assert index.never_called("app.repos:OtherRepo.pending")
    # a call resolved to Base.rows may run Child.rows, which overrides it
    assert index.called_unresolved("app.repos:Child.rows") and not index.never_called("app.repos:Child.rows")
    # a call the index cannot resolve counts against every function of its name
    assert index.called_unresolved("app.x:Y.unknown_name")


def test_methods_called_on_the_requesting_user_resolve_to_the_user_model():
    files = {
        "app/__init__.py": "",
        "app/models.py": MODELS + "\nclass User(models.Model):\n    def notes(self):\n        return Note.objects.filter(author=self)\n",
        "app/views.py": "def view(request):\n    return request.user.notes(), request.user.missing()\n",
    }
    index = ProjectIndex.build([summarize(rel, text) for rel, text in files.items()])
    assert not index.callers("app.models:User.notes")
    index.resolve_principal_calls(("app.models", "User"))
    assert [c for _, c, _ in index.callers("app.models:User.notes")] == ["view"]
    assert index.called_unresolved("app.models:User.missing")  # no such method: still unresolved
