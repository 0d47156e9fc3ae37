"""`[tool.tenantlint]` in pyproject.toml (or a tenantlint.toml) -> one frozen Config.

Parsed once per run and passed down; nothing else reads configuration files.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping

import tomli

DEFAULT_TENANT_COLUMNS = ("org_id", "organization_id", "tenant_id")
DEFAULT_TENANT_ROOTS = ("Organization", "Tenant")
DEFAULT_EXCLUDE = (
    "**/migrations/**",
    "**/alembic/versions/**",
    "**/tests/**",
    "**/test/**",
    "**/test_*.py",
    "**/*_test.py",
    "**/conftest.py",
    "**/.venv/**",
    "**/venv/**",
    "**/env/**",
    "**/.tox/**",
    "**/.nox/**",
    "**/site-packages/**",
    "**/node_modules/**",
    "**/.git/**",
    "**/__pycache__/**",
    "**/build/**",
    "**/dist/**",
)


class ConfigError(Exception):
    """A user mistake in configuration: the message names the file and key."""


@dataclass(frozen=True)
class Config:
    root: Path = field(default_factory=Path.cwd)
    source: str | None = None  # the file the configuration came from
    tenant_columns: tuple[str, ...] = DEFAULT_TENANT_COLUMNS
    tenant_roots: tuple[str, ...] = DEFAULT_TENANT_ROOTS
    tenant_tables: tuple[str, ...] = ()  # extra tables/models that are tenant-owned, whatever the schema says
    shared_tables: tuple[str, ...] = ()  # tables/models never flagged (global catalogues)
    include: tuple[str, ...] = ()  # globs; empty = every .py and .sql file
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: tuple[str, ...] = ()
    per_path_ignores: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    scoped_managers: tuple[str, ...] = ()  # Django managers that filter by tenant themselves ("objects" on a TenantManager)
    scoped_sessions: tuple[str, ...] = ()  # SQLAlchemy sessions whose queries are tenant-filtered globally
    sql_dialect: str = "postgres"
    sql_functions: tuple[str, ...] = ()  # project functions whose first argument is SQL they run ("db.run_query")
    mode: str = "filter"  # filter: each query carries a tenant predicate; context: each runs in a tenant context; both
    context_tables: tuple[str, ...] = ()  # tables judged in context mode whatever `mode` says (a migration in progress)
    tenant_contexts: tuple[str, ...] = ()  # binders the code cannot show: "app.db.tenant_session", "@tenant_required"
    cross_tenant: tuple[str, ...] = ()  # places allowed to work across tenants: "app/admin.py::rebuild", "app/jobs/**"
    rls_bypass_roles: tuple[str, ...] = ()  # database roles that bypass row-level security
    unscoped_managers: tuple[str, ...] = ()  # managers or sessions that skip the tenant scope ("all_objects")
    jobs: int = 0  # 0 = one worker per core
    cache_dir: str = ".tenantlint_cache"  # relative to the project root; "" disables the cache
    baseline: str = ""  # a baseline file (relative to the project root): check reports only findings not in it

    @property
    def all_excludes(self) -> tuple[str, ...]:
        return self.exclude + self.extend_exclude


def _key(name: str) -> str:
    return name.replace("_", "-")


# Config field -> (expected type description, converter)
def _str_list(v: Any) -> tuple[str, ...]:
    if isinstance(v, str):
        return (v,)
    if isinstance(v, list) and all(isinstance(x, str) for x in v):
        return tuple(v)
    raise TypeError("a string or a list of strings")


def _str(v: Any) -> str:
    if isinstance(v, str):
        return v
    raise TypeError("a string")


def _int(v: Any) -> int:
    if isinstance(v, int) and not isinstance(v, bool) and v >= 0:
        return v
    raise TypeError("a whole number >= 0")


def _mode(v: Any) -> str:
    if v in ("filter", "context", "both"):
        return v
    raise TypeError('one of "filter", "context", "both"')


def _ignores(v: Any) -> dict[str, tuple[str, ...]]:
    if not isinstance(v, dict):
        raise TypeError("a table of glob = [codes]")
    return {str(k): _str_list(codes) for k, codes in v.items()}


_CONVERTERS = {
    "tenant-columns": ("tenant_columns", _str_list),
    "tenant-roots": ("tenant_roots", _str_list),
    "tenant-root": ("tenant_roots", _str_list),  # one-line form: tenant-root = "Realm"
    "tenant-tables": ("tenant_tables", _str_list),
    "shared-tables": ("shared_tables", _str_list),
    "include": ("include", _str_list),
    "exclude": ("exclude", _str_list),
    "extend-exclude": ("extend_exclude", _str_list),
    "per-path-ignores": ("per_path_ignores", _ignores),
    "select": ("select", _str_list),
    "ignore": ("ignore", _str_list),
    "scoped-managers": ("scoped_managers", _str_list),
    "scoped-sessions": ("scoped_sessions", _str_list),
    "sql-dialect": ("sql_dialect", _str),
    "sql-functions": ("sql_functions", _str_list),
    "mode": ("mode", _mode),
    "context-tables": ("context_tables", _str_list),
    "tenant-contexts": ("tenant_contexts", _str_list),
    "cross-tenant": ("cross_tenant", _str_list),
    "rls-bypass-roles": ("rls_bypass_roles", _str_list),
    "unscoped-managers": ("unscoped_managers", _str_list),
    "jobs": ("jobs", _int),
    "cache-dir": ("cache_dir", _str),
    "baseline": ("baseline", _str),
}
KNOWN_KEYS = tuple(sorted(_CONVERTERS))


def parse_table(table: Mapping[str, Any], root: Path, source: str | None) -> Config:
    """Turn a `[tool.tenantlint]` table into a Config; unknown keys and wrong types raise ConfigError."""
    values: dict[str, Any] = {}
    where = source or "configuration"
    for key, raw in table.items():
        norm = key.replace("_", "-")
        if norm not in _CONVERTERS:
            hint = difflib.get_close_matches(norm, KNOWN_KEYS, n=1)
            extra = f"; did you mean '{hint[0]}'?" if hint else f"; known keys: {', '.join(KNOWN_KEYS)}"
            raise ConfigError(f"{where}: unknown key 'tool.tenantlint.{key}'{extra}")
        attr, convert = _CONVERTERS[norm]
        try:
            values[attr] = convert(raw)
        except TypeError as exc:
            raise ConfigError(f"{where}: 'tool.tenantlint.{key}' must be {exc}, got {type(raw).__name__} {raw!r}") from None
    if values.get("sql_dialect"):
        import sqlglot.dialects  # noqa: F401  -- only to validate the name

        from sqlglot.dialects.dialect import Dialect

        try:
            Dialect.get_or_raise(values["sql_dialect"])
        except ValueError:
            raise ConfigError(f"{where}: 'tool.tenantlint.sql-dialect' names no sqlglot dialect: {values['sql_dialect']!r}") from None
    return Config(root=root, source=source, **values)


def default_root(start: Path) -> Path:
    """The project root when no configuration file names one.

    The repository's top folder (a `.git` at or above `start`) when there is one, so that a pre-commit hook handed
    `app/views.py` still learns the schema of the whole project; else the current folder when the path is inside
    it; else the folder given, or the file's folder.
    """
    start = start.resolve()
    folder = start if start.is_dir() else start.parent
    for candidate in [folder, *folder.parents]:
        if (candidate / ".git").exists():
            return candidate
    cwd = Path.cwd().resolve()
    if folder == cwd or cwd in folder.parents:
        return cwd  # `tenantlint check app/views.py` from the project's top folder
    return folder


def find_config_file(start: Path) -> Path | None:
    """The nearest tenantlint.toml, or pyproject.toml with a [tool.tenantlint] table, at or above `start`."""
    start = start.resolve()
    for folder in [start, *start.parents] if start.is_dir() else [start.parent, *start.parent.parents]:
        candidate = folder / "tenantlint.toml"
        if candidate.is_file():
            return candidate
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            try:
                data = tomli.loads(pyproject.read_text(encoding="utf-8"))
            except (tomli.TOMLDecodeError, UnicodeDecodeError, OSError):
                continue
            if "tenantlint" in data.get("tool", {}):
                return pyproject
    return None


def load_config(explicit: Path | None, start: Path) -> Config:
    """Read the configuration for a run: the explicit file if given, else the nearest one, else defaults.

    The project root (for relative paths and the schema pass) is the configuration file's folder, unless
    `--config` names a file outside the checked tree; without a file it is `default_root(start)`.
    """
    path = explicit if explicit is not None else find_config_file(start)
    if path is None:
        return Config(root=default_root(start))
    if not path.is_file():
        raise ConfigError(f"{path}: configuration file not found")
    try:
        data = tomli.loads(path.read_text(encoding="utf-8"))
    except tomli.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    if path.name == "pyproject.toml":
        table = data.get("tool", {}).get("tenantlint")
        if table is None:
            if explicit is not None:
                raise ConfigError(f"{path}: has no [tool.tenantlint] table")
            table = {}
    else:  # tenantlint.toml or any file given with --config: keys at the top level
        table = data.get("tool", {}).get("tenantlint", data)
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: 'tool.tenantlint' must be a table")
    root = path.parent.resolve()
    target = start.resolve()
    if explicit is not None and target != root and root not in target.parents:
        # --config names a file outside the checked tree: the project is still the tree being checked
        root = default_root(start)
    return parse_table(table, root, str(path))


def with_overrides(config: Config, **changes: Any) -> Config:
    """A copy with command-line overrides applied (only non-empty values)."""
    return replace(config, **{k: v for k, v in changes.items() if v not in (None, (), [])})


def fingerprint_of(config: Config) -> str:
    """A stable digest of the settings that change analysis results (cache key)."""
    import hashlib

    parts = [f"{f.name}={getattr(config, f.name)!r}" for f in fields(config) if f.name not in ("root", "source", "jobs", "cache_dir", "baseline")]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]
