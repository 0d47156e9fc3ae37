"""The run: schema pass over the whole project, then per file adapters -> rules -> suppressions.

Positions are computed only for files that produce findings, and only once per such file.
Files are spread over worker processes; each worker receives the schema once.
"""
from __future__ import annotations

import hashlib
import os
import re
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable, Iterator

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from tenantlint.adapters import python_adapters
from tenantlint.adapters.tenant_context import annotate_context
from tenantlint.cache import FileCache, digest
from tenantlint.config import Config, fingerprint_of
from tenantlint.context.entry import sequence_entry, staff_flags
from tenantlint.files import SKIPPED, SourceFile, discover_schema_files, discover_targets
from tenantlint.index.project import ProjectIndex
from tenantlint.index.summary import FileSummary, summarize
from tenantlint.python_module import PythonModule
from tenantlint.registry import Rule, all_rules, resolve_selector
from tenantlint.schema.ddl import facts_from_sql
from tenantlint.schema.resolve import build_schema
from tenantlint.schema.sources import python_sources
from tenantlint.suppressions import Suppression, parse_suppressions
from tenantlint.types import Finding, Level, ModelFacts, QuerySite, Schema, Scope, SiteKind, SiteRecord, Span

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TABLE_KINDS = (SiteKind.READ, SiteKind.UPDATE, SiteKind.DELETE, SiteKind.INSERT)
MAX_CHAIN = 200  # chained calls in one expression: libcst's parser takes seconds, then the walk hits the recursion limit
_DEEP_CHAIN = re.compile(r"(?:\)\s*\.\s*[A-Za-z_]\w*\s*\([^()]*){%d}" % MAX_CHAIN)
_SQL_DML = re.compile(r"\b(select|insert|update|delete|merge)\b", re.IGNORECASE)
_WS = re.compile(r"\s+")
PARALLEL_THRESHOLD = 24  # below this many files a worker pool costs more than it saves


def _too_deep(text: str) -> int:
    """The line of an expression chaining more than MAX_CHAIN calls (generated code), or 0."""
    if text.count(").") < MAX_CHAIN:
        return 0
    m = _DEEP_CHAIN.search(text)
    return text.count("\n", 0, m.start()) + 1 if m else 0


@dataclass
class RunResult:
    findings: list[Finding]
    schema: Schema
    files_checked: int
    files_parsed: int
    seconds: float
    notifications: list[tuple[str, str]] = field(default_factory=list)
    cross_tenant: list[tuple[str, int, str]] = field(default_factory=list)  # (path, line or 0, reason)
    sites: list[SiteRecord] = field(default_factory=list)  # every query on a tenant table (run(..., inventory=True))


@dataclass(frozen=True, slots=True)
class Verdict:
    rule: Rule
    site: QuerySite
    message: str
    level: Level | None = None  # the rule's level unless the site says otherwise


class RuleContext:
    """What a rule's check() receives besides the site: how to make a finding."""

    __slots__ = ("rule",)

    def __init__(self, rule: Rule):
        self.rule = rule

    def finding(self, site: QuerySite, message: str) -> Verdict:
        if site.entry and self.rule.level in (Level.ERROR, Level.WARNING):
            # run by an operator across tenants on purpose, not by a request: kept in every report, as a note
            article = "an" if site.entry[:1].lower() in "aeiou" else "a"
            suffix = "" if site.entry in message else f" (in {article} {site.entry})"
            return Verdict(self.rule, site, message + suffix, Level.NOTE)
        if site.derived and self.rule.level in (Level.ERROR, Level.WARNING):
            # keyed by a row that another finding reads unscoped: that finding is the one to fix
            return Verdict(self.rule, site, message, Level.NOTE)
        return Verdict(self.rule, site, message)


def enabled_codes(config: Config, rules: dict[str, Rule]) -> set[str]:
    codes = set(rules)
    if config.select:
        codes = set().union(*(resolve_selector(s, rules) for s in config.select))
    for s in config.ignore:
        codes -= resolve_selector(s, rules)
    return codes


# --- schema pass ------------------------------------------------------------------------------


def _read(path: Path) -> str:
    with open(path, "rb") as fh:
        data = fh.read()
    return data.decode("utf-8-sig")


def schema_facts(file: SourceFile, config: Config, cache: FileCache | None = None) -> tuple[list[ModelFacts], list[tuple[str, int, str]], FileSummary | None]:
    """Facts one file contributes to the schema, (path, line, message) for what could not be read, and the file's
    summary for the project index (Python files only)."""
    try:
        text = _read(file.path)
    except (OSError, UnicodeDecodeError) as exc:
        return [], [(file.rel, 1, f"cannot read file: {exc}")], None
    if cache is None:
        return _project_facts(file, text, config)
    key = _facts_key(file, text)
    hit = cache.get("facts", key)
    if hit is None:
        hit = _project_facts(file, text, config)
        cache.put("facts", key, hit)
    return hit


def _facts_key(file: SourceFile, text: str) -> str:
    return digest(file.rel + "\0" + text)


def _cached_facts(file: SourceFile, cache: FileCache):
    """The cached facts of a file whose text has not changed, or None (unreadable files go the long way)."""
    try:
        text = _read(file.path)
    except (OSError, UnicodeDecodeError):
        return None
    return cache.get("facts", _facts_key(file, text))


def _project_facts(file: SourceFile, text: str, config: Config):
    facts, diags = _schema_facts(file, text, config)
    return facts, diags, summarize(file.rel, text) if file.language == "python" else None


def _schema_facts(file: SourceFile, text: str, config: Config) -> tuple[list[ModelFacts], list[tuple[str, int, str]]]:
    if file.language == "sql":
        if "create" not in text.lower() and "alter" not in text.lower():
            return [], []
        facts, diags = facts_from_sql(text, file.rel, dialect=config.sql_dialect)
        return facts, [(file.rel, line, msg) for line, msg in diags]
    sources = [s for s in python_sources() if s.wants(text)]
    if not sources or _too_deep(text):
        return [], []  # a file too deep to parse is reported by the query pass
    try:
        module = PythonModule.parse(file.rel, text)
    except cst.ParserSyntaxError:
        return [], []  # reported by the query pass when the file is a target
    out: list[ModelFacts] = []
    for source in sources:
        try:
            out.extend(source.facts(module, config))
        except Exception as exc:  # a bug in a schema source must not end the run
            if os.environ.get("TENANTLINT_DEBUG"):
                raise
            return out, [(file.rel, 1, f"internal error in schema source {source.name}: {exc!r}; please report it")]
    return out, []


# --- query pass -------------------------------------------------------------------------------


@dataclass
class _FileOutcome:
    findings: list[Finding]
    parsed: bool
    sites: list[SiteRecord] = field(default_factory=list)  # the audit inventory, when asked for


def _known_identifiers(schema: Schema) -> frozenset[str]:
    names: set[str] = set()
    for info in schema.models.values():
        names.add(info.name)
        names.update(_IDENT.findall(info.table))
    for accessors in schema.reverse.values():
        names.update(accessors)
    return frozenset(names)


def _span_of(node: cst.CSTNode, positions) -> Span:
    rng = positions[node]
    return Span(rng.start.line, rng.start.column + 1, rng.end.line, rng.end.column + 1)


def _syntax_error_location(text: str, exc: cst.ParserSyntaxError) -> tuple[Span, str]:
    """Python's own compiler places syntax errors more exactly than libcst's native parser does."""
    try:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(text, "<checked>", "exec", dont_inherit=True)
    except SyntaxError as err:
        line, col = err.lineno or 1, err.offset or 1
        end_line, end_col = err.end_lineno or line, err.end_offset or col + 1
        return Span(line, col, end_line, max(end_col, col + 1) if end_line == line else end_col), f"{err.msg} (line {line})"
    except (ValueError, RecursionError):
        pass
    line, col = exc.raw_line or 1, (exc.raw_column or 0) + 1
    return Span(line, col, line, col + 1), exc.message


def _needs_names(adapter, text: str) -> bool:
    """Whether an adapter judges a file only when it names a model, table or accessor the schema knows."""
    needs = getattr(adapter, "needs_names", True)
    return needs(text) if callable(needs) else bool(needs)


# rules about the rows a query reaches: several queries judged at one expression are one finding of each. Other rules
# (a form's field, a setting) name a separate fix in each finding, even at one place.
_MERGED_AT_ONE_PLACE = frozenset({"TL002", "TL101", "TL102", "TL103"})


def _fingerprint(code: str, path: str, text: str, function: str) -> str:
    return hashlib.sha256(f"{code}\0{path}\0{_WS.sub(' ', text).strip()}\0{function}".encode()).hexdigest()[:20]


class FileChecker:
    """Checks one file against the schema; shared by the in-process and worker paths."""

    def __init__(self, schema: Schema, config: Config, rules: dict[str, Rule], enabled: set[str], debug: bool = False, cache: FileCache | None = None, index: ProjectIndex | None = None):
        self.cache = cache
        self.index = index
        self.schema = schema
        self.config = config
        self.rules = rules
        self.enabled = enabled
        self.debug = debug
        self.adapters = [a for a in python_adapters() if getattr(a, "applies", lambda _s: True)(schema)]
        for a in self.adapters:
            if hasattr(a, "configure"):
                a.configure(config)
        self.identifiers = _known_identifiers(schema)
        self.by_kind: dict = {}
        for rule in rules.values():
            if rule.code in enabled and not rule.engine_diagnostic:
                for kind in rule.site_kinds:
                    self.by_kind.setdefault(kind, []).append(rule)
        import pathspec

        self.path_ignores = [
            (pathspec.PathSpec.from_lines("gitignore", [glob]), set().union(*(resolve_selector(c, rules) for c in codes)))
            for glob, codes in config.per_path_ignores.items()
        ]
        self.ddl_diagnostics: dict[str, list[tuple[int, str]]] = {}
        self.inventory = False  # also record every query site (the audit)

    def _engine_finding(self, code: str, path: str, span: Span, message: str) -> Finding:
        rule = self.rules[code]
        return Finding(code, rule.name, rule.level, path, span, message, _fingerprint(code, path, message, ""), content_fingerprint=_fingerprint(code, "", message, ""))

    def check(self, file: SourceFile) -> _FileOutcome:
        try:
            return self._check(file)
        except Exception as exc:
            if self.debug:
                raise
            return _FileOutcome(
                [self._engine_finding("TL000", file.rel, Span(1, 1, 1, 1), f"internal error while checking this file: {exc!r}; please report it (run with --debug for the traceback)")],
                False,
            )

    def _check(self, file: SourceFile) -> _FileOutcome:
        try:
            text = _read(file.path)
        except (OSError, UnicodeDecodeError) as exc:
            return _FileOutcome(self._filter(file.rel, [self._engine_finding("TL001", file.rel, Span(1, 1, 1, 1), f"cannot read file: {exc}")]), False)
        if file.language == "sql":
            return self._check_sql(file, text)
        if self.cache is None:
            return self._check_text(file, text)
        context = getattr(self.index, "context", None) if self.index else None
        key = digest(file.rel + "\0" + text + "\0" + (self.index.dependency_digest(file.rel) if self.index else "") + (context.digest(file.rel) if context else ""))
        hit = self.cache.get("findings", key)
        if hit is None:
            hit = self._check_text(file, text)
            if not any(f.code == "TL000" for f in hit.findings):
                self.cache.put("findings", key, hit)
        return hit

    def _check_text(self, file: SourceFile, text: str) -> _FileOutcome:
        calls_helpers = self._calls_helpers(file.rel)
        # a file that calls project helpers which run queries is judged whatever it names itself
        wanted_text = text + "\n" + self.index.helper_sources(file.rel) if calls_helpers else text
        adapters = [a for a in self.adapters if a.wants(wanted_text if getattr(a, "follows_helpers", True) else text)]
        has_suppressions = "tenantlint:" in text.lower()
        if not adapters and not has_suppressions:
            return _FileOutcome([], False)
        if adapters and not calls_helpers and not self.identifiers.intersection(_IDENT.findall(text)) and "rpc(" not in text:
            # mentions no model, table or accessor the schema knows: nothing to judge, but for SQL built from text
            adapters = [a for a in adapters if not _needs_names(a, text)]
            if not adapters and not has_suppressions:
                return _FileOutcome([], False)
        deep = _too_deep(text)
        if deep:
            msg = f"cannot check this file: line {deep} chains more than {MAX_CHAIN} calls in one expression; split it to have its queries checked"
            return _FileOutcome(self._filter(file.rel, [self._engine_finding("TL001", file.rel, Span(deep, 1, deep, 1), msg)]), False)
        try:
            module = PythonModule.parse(file.rel, text)
        except cst.ParserSyntaxError as exc:
            span, reason = _syntax_error_location(text, exc)
            msg = f"cannot parse this file, its queries were not checked: {reason}"
            return _FileOutcome(self._filter(file.rel, [self._engine_finding("TL001", file.rel, span, msg)]), True)

        verdicts: list[Verdict] = []
        internal: list[tuple[str, cst.CSTNode | None]] = []
        all_sites: list[QuerySite] = []
        for adapter in adapters:
            try:
                all_sites.extend(adapter.sites(module, self.schema, self.config, self.index))
            except Exception as exc:
                if self.debug:
                    raise
                internal.append((f"internal error in adapter {adapter.name}: {exc!r}; please report it (run with --debug for the traceback)", None))
        if all_sites:
            try:  # which sites need a tenant filter, which a tenant context, and which have one
                all_sites = annotate_context(module, all_sites, self.config, self.index, self.schema)
            except Exception as exc:
                if self.debug:
                    raise
                internal.append((f"internal error in the tenant-context pass: {exc!r}; please report it", None))
        self._judge(all_sites, verdicts, internal)
        suppressions = parse_suppressions(text) if has_suppressions else []
        inventory = self.inventory and any(s.table is not None and s.table.is_tenant_table and s.kind in _TABLE_KINDS for s in all_sites)
        if not verdicts and not internal and not suppressions and not inventory:
            return _FileOutcome([], True)

        spans = module.spans
        positions: dict = {}

        summary = self.index.by_rel.get(file.rel) if self.index is not None else None

        def locate(anchor, statement=None, function: str = "") -> Span:
            nonlocal positions
            span = spans.of(anchor, statement, summary.lines_of(function) if summary is not None else None)
            if span is None:
                if not positions:  # an anchor whose text is not unique in the file: libcst's position pass, once
                    positions = MetadataWrapper(module.tree, unsafe_skip_copy=True).resolve(PositionProvider)
                try:
                    span = _span_of(anchor, positions)
                except KeyError:
                    span = Span(1, 1, 1, 1)
            return span

        findings, by_site = self._findings(file.rel, verdicts, locate)
        for message, anchor in internal:
            span = (spans.of(anchor) if anchor is not None else None) or Span(1, 1, 1, 1)
            findings.append(self._engine_finding("TL000", file.rel, span, message))
        suppressed: dict[int, str] = {}
        findings = self._filter(file.rel, self._apply_suppressions(file.rel, findings, suppressions, suppressed))
        records = self._records(file.rel, all_sites, by_site, suppressed, locate) if inventory else []
        return _FileOutcome(findings, True, records)

    def _records(self, rel: str, sites: list[QuerySite], by_site: dict, suppressed: dict, locate) -> list[SiteRecord]:
        """Every query on a tenant table of the file, with its status, its findings and their suppressions."""
        out = []
        ignored = self._ignored(rel)
        for site in sites:
            if site.table is None or not site.table.is_tenant_table or site.kind not in _TABLE_KINDS:
                continue
            span = site.span or locate(site.anchor, site.statement, site.function)
            found = by_site.get(id(site), [])
            context = ""
            if site.context_required:
                context = f"outside: {site.context_gap}" if site.context_gap else "inside"
            out.append(
                SiteRecord(
                    rel, span.start_line, span.start_col, site.table.table, site.table.name, site.kind.value,
                    site.restriction.scope.value, site.api, site.function, site.restriction.reason,
                    tuple(f.code for f in found if id(f) not in suppressed and f.code in self.enabled and f.code not in ignored),
                    tuple(f"{f.code}: {suppressed[id(f)]}" for f in found if id(f) in suppressed),
                    site.cross_tenant, context,
                )
            )
        return out


    def _judge(self, sites: Iterable[QuerySite], verdicts: list[Verdict], internal: list) -> None:
        """Every rule that cares about a site's kind, on every site."""
        for site in sites:
            for rule in self.by_kind.get(site.kind, ()):
                try:
                    verdicts.extend(rule.check(site, RuleContext(rule)) or ())
                except Exception as exc:
                    if self.debug:
                        raise
                    internal.append((f"internal error in rule {rule.code} {rule.name}: {exc!r}; please report it", site.anchor))

    def _findings(self, rel: str, verdicts: list[Verdict], locate) -> tuple[list[Finding], dict[int, list[Finding]]]:
        """One finding per rule and place: several queries judged at one expression (a helper call that runs five, an
        `execute()` whose SQL reads three tables) are one place to review. The first names the finding; the others
        add their related locations (a helper's queries) or their tables to its message. Also returns, by id of each
        site, the findings it is part of (for the audit)."""
        findings: list[Finding] = []
        owner: list[int] = []  # verdict -> index of its finding
        occurrences: Counter = Counter()
        same: dict[tuple, int] = {}
        at: dict[tuple, int] = {}  # (code, level, span) -> its finding
        helper: set[int] = set()  # findings at a helper call
        more: dict[int, list[str]] = {}  # finding -> the tables of the queries merged into it
        for v in verdicts:
            site = v.site
            span = site.span or locate(site.anchor, site.statement, site.function)
            level = v.level or v.rule.level
            key = (v.rule.code, level, span, v.message)
            i = same.get(key, at.get((v.rule.code, level, span)) if v.rule.code in _MERGED_AT_ONE_PLACE else None)
            owner.append(len(findings) if i is None else i)
            if i is not None:
                extra = tuple(r for r in site.related if r not in findings[i].related)
                findings[i] = replace(findings[i], related=findings[i].related + extra)
                if key not in same:
                    more.setdefault(i, []).append(site.table.table if site.table is not None else site.api)
                continue
            same[key] = at[(v.rule.code, level, span)] = len(findings)
            if site.related and "() -> " in site.api:
                helper.add(len(findings))
            base = _fingerprint(v.rule.code, rel, site.text, site.function)
            occurrences[base] += 1
            content = _fingerprint(v.rule.code, "", site.text, site.function)
            findings.append(Finding(v.rule.code, v.rule.name, level, rel, span, v.message, f"{base}:{occurrences[base]}", site.related, content))
        for i, tables in more.items():
            n = len(tables)
            if i in helper:
                suffix = f"(and {n} more {'query' if n == 1 else 'queries'} this call runs the same way: see the related locations)"
            else:
                names = list(dict.fromkeys(tables))
                suffix = f"(and the same for {', '.join(names[:5])}{', ...' if len(names) > 5 else ''})"
            findings[i] = replace(findings[i], message=f"{findings[i].message} {suffix}")
        by_site: dict[int, list[Finding]] = {}
        for v, i in zip(verdicts, owner):
            if findings[i] not in by_site.setdefault(id(v.site), []):
                by_site[id(v.site)].append(findings[i])
        return findings, by_site

    def _check_sql(self, file: SourceFile, text: str) -> _FileOutcome:
        """A .sql file outside migrations: every statement is a query site; what the schema pass could not read
        of its DDL is TL001."""
        findings = [self._engine_finding("TL001", file.rel, Span(line, 1, line, 1), msg) for line, msg in self.ddl_diagnostics.get(file.rel, [])]
        verdicts: list[Verdict] = []
        internal: list = []
        sites: list[QuerySite] = []
        if self.schema.tenant_tables and _SQL_DML.search(text):
            from tenantlint.sql import judge_text, looks_like_query

            judged, parsed = judge_text(text, self.schema, self.config.sql_dialect)
            for j in judged:
                st = j.statement
                span = Span(st.line, st.col, st.end_line, st.end_col)
                api = st.text.split(None, 1)[0].upper() if st.text.strip() else "SQL"
                for v in j.verdicts:
                    entry = sequence_entry(v.sequence, v.restriction.scope is Scope.UNSCOPED)
                    sites.append(QuerySite(v.kind, v.table, v.restriction, api, None, " ".join(st.text.split()) + f"\0{v.alias}\0{v.kind.value}",
                                           f"statement at line {st.line}", span=span, alias=v.alias, entry=entry))
            for line, error, piece in parsed.failed:
                if looks_like_query(piece) and not any(line == ln for ln, _ in self.ddl_diagnostics.get(file.rel, [])):
                    findings.append(self._engine_finding("TL002", file.rel, Span(line, 1, line, 1), f"cannot verify the tenant filter of this statement: sqlglot cannot read it: {error}"))
            self._judge(sites, verdicts, internal)
        made, by_site = self._findings(file.rel, verdicts, lambda anchor: Span(1, 1, 1, 1))
        findings += made
        for message, _ in internal:
            findings.append(self._engine_finding("TL000", file.rel, Span(1, 1, 1, 1), message))
        suppressed: dict[int, str] = {}
        if "tenantlint:" in text.lower():
            findings = self._apply_suppressions(file.rel, findings, parse_suppressions(text, language="sql"), suppressed)
        records = self._records(file.rel, sites, by_site, suppressed, lambda anchor: Span(1, 1, 1, 1)) if self.inventory else []
        return _FileOutcome(self._filter(file.rel, findings), True, records)

    def _calls_helpers(self, rel: str) -> bool:
        """The file calls project functions that may run queries: it is parsed even if it names no model."""
        return self.index is not None and self.index.calls_query_functions(rel)

    def _ignored(self, rel: str) -> set[str]:
        """Codes `per-path-ignores` turns off for this file."""
        ignored: set[str] = set()
        for spec, codes in self.path_ignores:
            if spec.match_file(rel):
                ignored |= codes
        return ignored

    def _filter(self, rel: str, findings: list[Finding]) -> list[Finding]:
        ignored = self._ignored(rel)
        return [f for f in findings if f.code in self.enabled and f.code not in ignored]

    def _apply_suppressions(self, rel: str, findings: list[Finding], suppressions: list[Suppression], suppressed: dict | None = None) -> list[Finding]:
        """Findings less the suppressed ones (recorded in `suppressed`: id(finding) -> reason), plus TL003 problems."""
        if not suppressions:
            return findings
        by_name = {r.name: c for c, r in self.rules.items()}
        kept: list[Finding] = []
        used: set[int] = set()
        valid: list[tuple[int, Suppression, set[str]]] = []
        problems: list[Finding] = []
        for i, s in enumerate(suppressions):
            span = Span(s.line, s.col, s.line, s.end_col)
            codes: set[str] = set()
            unknown = []
            for c in s.codes:
                code = c.upper() if c.upper() in self.rules else by_name.get(c)
                if code is None:
                    unknown.append(c)
                else:
                    codes.add(code)
            if not s.codes:
                problems.append(self._engine_finding("TL003", rel, span, "suppression names no rule: write the codes, e.g. ignore[TL101] -- reason; it silences nothing until it does"))
                continue
            if unknown:
                problems.append(self._engine_finding("TL003", rel, span, f"suppression names unknown rule(s): {', '.join(unknown)}"))
            if not s.reason:
                problems.append(self._engine_finding("TL003", rel, span, "suppression gives no reason: add '-- why this query is safe'"))
            valid.append((i, s, codes))
        for f in findings:
            hit = None
            for i, s, codes in valid:
                covers = f.span.start_line <= s.line <= f.span.end_line or (s.own_line and s.line == f.span.start_line - 1)
                if covers and f.code in codes:
                    hit = i
                    break
            if hit is None:
                kept.append(f)
            else:
                used.add(hit)
                if suppressed is not None:
                    suppressed[id(f)] = next(sup.reason for i, sup, _c in valid if i == hit)
        for i, s, codes in valid:
            if i not in used and codes and codes <= self.enabled and not any(c in self.rules and self.rules[c].engine_diagnostic for c in codes):
                problems.append(self._engine_finding("TL003", rel, Span(s.line, s.col, s.line, s.end_col), f"suppression of {', '.join(sorted(codes))} silences nothing: remove it"))
        return kept + problems


# --- worker plumbing --------------------------------------------------------------------------

_WORKER: dict = {}


def _init_worker(checker: FileChecker | None, config: Config | None, cache: FileCache | None = None) -> None:
    _WORKER["checker"] = checker
    _WORKER["config"] = config
    _WORKER["cache"] = cache


def _worker_check(files: list[SourceFile]) -> list[_FileOutcome]:
    checker: FileChecker = _WORKER["checker"]
    return [checker.check(f) for f in files]


def _worker_facts(files: list[SourceFile]):
    config: Config = _WORKER["config"]
    cache: FileCache | None = _WORKER.get("cache")
    return [schema_facts(f, config, cache) for f in files]


def _chunks(items: list, n: int) -> list[list]:
    size = max(1, min(64, len(items) // (n * 4) or 1))
    return [items[i : i + size] for i in range(0, len(items), size)]


def _jobs(config: Config, n_files: int) -> int:
    jobs = config.jobs or os.cpu_count() or 1
    return 1 if n_files < PARALLEL_THRESHOLD else jobs


def _map(fn, files: list, jobs: int, init_args: tuple) -> Iterator:
    if jobs <= 1:
        _init_worker(*init_args)
        for f in files:
            yield from fn([f])
        return
    import multiprocessing

    ctx = multiprocessing.get_context("fork") if "fork" in multiprocessing.get_all_start_methods() else None
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_init_worker, initargs=init_args) as pool:
        for batch in pool.map(fn, _chunks(files, jobs)):
            yield from batch


# --- the run ------------------------------------------------------------------------------------


def _cache_folder(config: Config, use_cache: bool) -> Path | None:
    return config.root / config.cache_dir if use_cache and config.cache_dir else None


def learn_schema(config: Config, use_cache: bool = False) -> tuple[Schema, dict[str, list[tuple[int, str]]], list[tuple[str, str]]]:
    """The schema pass: every file of the project that may declare tables."""
    schema, ddl_diags, notes, _ = learn_project(config, use_cache)
    return schema, ddl_diags, notes


def learn_project(config: Config, use_cache: bool = False) -> tuple[Schema, dict[str, list[tuple[int, str]]], list[tuple[str, str]], ProjectIndex]:
    """The project pass over every file of the project (whatever paths are reported on): the schema from the files
    that declare tables, and the project index from every Python file's summary."""
    files = discover_schema_files(config)
    summaries: list[FileSummary] = []
    facts: list[ModelFacts] = []
    ddl_diags: dict[str, list[tuple[int, str]]] = {}
    notes: list[tuple[str, str]] = []
    cache = FileCache(_cache_folder(config, use_cache), fingerprint_of(config)) if use_cache else None
    results: list = []
    todo = files
    if cache is not None and cache.has("facts"):
        # what the cache holds is read here: shipping it through worker processes would unpickle and pickle it twice
        # (with no facts cached yet, as on a first run, every file would be read twice for nothing)
        todo = []
        for f in files:
            hit = _cached_facts(f, cache)
            if hit is None:
                todo.append(f)
            else:
                results.append(hit)
    results.extend(_map(_worker_facts, todo, _jobs(config, len(todo)), (None, config, cache)))
    for file_facts, diags, summary in results:
        facts.extend(file_facts)
        if summary is not None:
            summaries.append(summary)
        for path, line, msg in diags:
            if path.endswith(".sql"):
                ddl_diags.setdefault(path, []).append((line, msg))
            else:
                notes.append((path, msg))
    facts.sort(key=lambda f: (f.path, f.line, f.name))  # the schema must not depend on worker timing
    index = ProjectIndex.build(summaries)
    schema = build_schema(facts, config, auth_user_model=index.setting("AUTH_USER_MODEL"))
    notes.extend(("", d) for d in schema.diagnostics)
    user = schema.models.get(schema.user_model) if schema.user_model else None
    owner = index.by_rel.get(user.path) if user is not None else None
    index.resolve_principal_calls((owner.module, user.name) if owner is not None else None)
    index.mark_query_functions(_known_identifiers(schema))
    index.staff_flags = staff_flags(schema)
    if config.mode != "filter" or config.context_tables:
        from tenantlint.context.reachability import ContextIndex

        index.context = ContextIndex(index, config)
    return schema, ddl_diags, notes, index


def run(paths: Iterable[Path], config: Config, *, debug: bool = False, use_cache: bool = False, inventory: bool = False, progress=None) -> RunResult:
    """Check `paths`. The cache is off by default (tests, library use); the command line turns it on.
    `progress(done, total)` is called as files are checked (the command line's progress bar); `inventory` also
    records every query on a tenant table (the audit)."""
    started = time.perf_counter()
    SKIPPED.clear()
    targets = discover_targets(list(paths), config)
    schema, ddl_diags, notes, index = learn_project(config, use_cache)
    rules = all_rules()
    enabled = enabled_codes(config, rules)
    cache = None
    if use_cache:
        salt = f"{fingerprint_of(config)}\0{sorted(enabled)}\0{_schema_digest(schema, ddl_diags)}\0{'inventory' if inventory else ''}"
        cache = FileCache(_cache_folder(config, use_cache), salt)
    checker = FileChecker(schema, config, rules, enabled, debug=debug, cache=cache, index=index)
    checker.ddl_diagnostics = ddl_diags
    checker.inventory = inventory
    sites: list[SiteRecord] = []
    done = 0
    findings: list[Finding] = []
    parsed = 0
    jobs = 1 if debug else _jobs(config, len(targets))
    for outcome in _map(_worker_check, targets, jobs, (checker, config, cache)):
        findings.extend(outcome.findings)
        sites.extend(outcome.sites)
        parsed += outcome.parsed
        done += 1
        if progress is not None:
            progress(done, len(targets))
    findings.sort(key=lambda f: (f.path, f.span.start_line, f.span.start_col, f.code))
    reported = {t.rel for t in targets}
    notes.extend(sorted(SKIPPED.items()))
    for path, diags in sorted(ddl_diags.items()):
        if path not in reported:  # a migration read for the schema only: say what was not understood
            notes.extend((path, f"line {line}: {msg}") for line, msg in diags)
    sites.sort(key=lambda r: (r.path, r.line, r.column, r.table, r.kind))
    return RunResult(findings, schema, len(targets), parsed, time.perf_counter() - started, notes, cross_tenant_places(config, index, targets), sites)


def cross_tenant_places(config: Config, index: ProjectIndex, targets: list[SourceFile]) -> list[tuple[str, int, str]]:
    """Every place declared cross-tenant: configuration entries, and `def` lines marked inline in checked files (read
    into the project index by the summaries)."""
    places: list[tuple[str, int, str]] = []
    for entry in config.cross_tenant:
        path, _, function = entry.partition("::")
        line = 0
        s = index.by_rel.get(path) if function else None
        if s is not None and function in s.functions:
            line = s.functions[function].line
        places.append((path, line, f"cross-tenant = {entry} in {config.source or 'configuration'}"))
    for t in targets:
        s = index.by_rel.get(t.rel)
        for qual, fn in sorted(s.functions.items(), key=lambda kv: kv[1].line) if s is not None else ():
            if fn.cross_tenant is not None:
                places.append((t.rel, fn.line, fn.cross_tenant or f"{qual} marked cross-tenant"))
    return places


def _schema_digest(schema: Schema, ddl_diags) -> str:
    parts = [repr(info) for _, info in sorted(schema.models.items())] + [repr(sorted(schema.reverse.items())), repr(sorted(ddl_diags.items())), schema.user_model]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def exit_status(findings: Iterable[Finding]) -> int:
    return 1 if any(f.level in (Level.ERROR, Level.WARNING) for f in findings) else 0
