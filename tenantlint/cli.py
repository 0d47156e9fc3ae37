"""Command line: parse options, call the engine, print a report. No analysis logic lives here."""
from __future__ import annotations

import difflib
import os
import sys
from pathlib import Path

import click

from tenantlint import __version__
from tenantlint.config import ConfigError, load_config, with_overrides
from tenantlint.files import PathError
from tenantlint.registry import RuleError, all_rules, resolve_selector, rule_by_code_or_name
from tenantlint.report import FORMATS, RunInfo, render


class UsageFailure(click.ClickException):
    """A user mistake: one line on stderr, exit 2."""

    exit_code = 2

    def show(self, file=None) -> None:
        click.echo(f"tenantlint: error: {self.format_message()}", err=True)


def _split(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(v.strip() for value in values for v in value.split(",") if v.strip())


def _check_selectors(selectors: tuple[str, ...], option: str) -> None:
    rules = all_rules()
    for s in selectors:
        if not resolve_selector(s, rules):
            known = list(rules) + [r.name for r in rules.values()]
            hint = difflib.get_close_matches(s, known, n=1)
            raise UsageFailure(f"{option} {s}: no rule has this code, prefix or name" + (f"; did you mean {hint[0]}?" if hint else ""))


def _load(config_file: Path | None, paths: tuple[Path, ...]):
    start = paths[0] if paths else Path.cwd()
    try:
        return load_config(config_file, start if start.exists() else Path.cwd())
    except ConfigError as exc:
        raise UsageFailure(str(exc)) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tenantlint")
def main() -> None:
    """Find database queries that can leak one tenant's data to another."""
    try:
        all_rules()
    except RuleError as exc:
        raise UsageFailure(str(exc)) from None


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True, help="Report format; github prints workflow annotation lines.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write the report to this file instead of stdout.")
@click.option("--select", multiple=True, help="Only these rules: codes, prefixes (TL1) or names; comma-separated or repeated.")
@click.option("--ignore", multiple=True, help="Skip these rules: codes, prefixes or names.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), help="Configuration file (default: nearest tenantlint.toml or pyproject.toml with [tool.tenantlint]).")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when findings are reported.")
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=None, help="Worker processes (0 = one per core).")
@click.option("--no-cache", is_flag=True, help="Do not read or write the per-file cache (.tenantlint_cache/ under the project root).")
@click.option("--debug", is_flag=True, help="Re-raise internal errors with a traceback instead of reporting TL000.")
@click.option("--baseline", "baseline_file", type=click.Path(dir_okay=False, path_type=Path), help="Report only findings not in this baseline file (see `tenantlint baseline`).")
@click.option("--diff", "diff_rev", metavar="REV", help="Report only findings on lines changed since the merge base with REV (a pull request's base branch).")
@click.option("--statistics", is_flag=True, help="Print the number of findings per rule instead of the findings.")
@click.option("--show-source", is_flag=True, help="Text format: print the query's lines under each finding, the span marked.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar (it appears only on a terminal, for runs longer than a second).")
def check(paths, fmt, output, select, ignore, config_file, exit_zero, jobs, no_cache, debug, baseline_file, diff_rev, statistics, show_source, quiet) -> None:
    """Check PATHS (default: the current directory) for queries without a tenant filter.

    Exit status: 0 no error or warning finding, 1 findings, 2 usage or configuration error.
    """
    from tenantlint.engine import exit_status

    paths = paths or (Path("."),)
    if output is not None and not output.parent.resolve().is_dir():
        raise UsageFailure(f"--output {output}: the folder {output.parent} does not exist")
    config = _load(config_file, paths)
    changed = None
    if diff_rev:
        from tenantlint.diff import DiffError, changed_lines

        try:
            changed = changed_lines(config.root, diff_rev)
        except DiffError as exc:
            raise UsageFailure(str(exc)) from None
    progress = None if quiet or not sys.stderr.isatty() else ProgressBar()
    try:
        config, result = _run(paths, config_file, select, ignore, jobs, no_cache, debug, progress=progress)
    finally:
        if progress is not None:
            progress.close()
    findings = result.findings
    notes = list(result.notifications)
    baseline_path = baseline_file or (config.root / config.baseline if config.baseline else None)
    if baseline_path is not None:
        from tenantlint import baseline as bl

        try:
            entries = bl.load(baseline_path)
        except bl.BaselineError as exc:
            raise UsageFailure(str(exc)) from None
        cmp = bl.compare(findings, entries)
        findings = cmp.new
        summary = f"baseline {baseline_path}: {len(cmp.known)} known finding(s) not shown, {len(cmp.new)} new"
        if cmp.gone:
            summary += f"; {len(cmp.gone)} baselined finding(s) no longer occur: run `tenantlint baseline update` to drop them"
        notes.append(("", summary))
    if changed is not None:
        from tenantlint.diff import touches

        shown = [f for f in findings if touches(f, changed)]
        notes.append(("", f"--diff {diff_rev}: {len(shown)} of {len(findings)} finding(s) touch the {len(changed)} changed file(s)"))
        findings = shown
    info = RunInfo(
        root=config.root,
        files_checked=result.files_checked,
        files_parsed=result.files_parsed,
        seconds=result.seconds,
        version=__version__,
        notifications=tuple(notes),
        cross_tenant=tuple(result.cross_tenant),
        command_line=" ".join(sys.argv),
        show_source=show_source,
        color=fmt == "text" and output is None and sys.stdout.isatty() and not os.environ.get("NO_COLOR"),
    )
    text = _statistics(findings) if statistics else render(fmt, findings, all_rules(), info)
    if output is not None:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageFailure(f"--output {output}: cannot write the report: {exc.strerror or exc}") from None
    else:
        click.echo(text, nl=not text.endswith("\n"))
    sys.exit(0 if exit_zero else exit_status(findings))


def _statistics(findings) -> str:
    """One line per rule, most frequent first: count, code, name, level (ruff's --statistics)."""
    from collections import Counter

    rules = all_rules()
    counts = Counter(f.code for f in findings)
    lines = [f"{n:>5}  {code}  {rules[code].name:<36} {rules[code].level.value}" for code, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    return "\n".join(lines + [f"{sum(counts.values()):>5}  findings"]) + "\n"


class ProgressBar:
    """A rich progress bar on stderr, shown only once a run has taken more than `delay` seconds."""

    def __init__(self, delay: float = 1.0, console=None):
        import time

        self.delay = delay
        self.started = time.monotonic()
        self.console = console
        self.bar = None
        self.task = None

    def __call__(self, done: int, total: int) -> None:
        import time

        if self.bar is None:
            if time.monotonic() - self.started < self.delay or total <= 0:
                return
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(TextColumn("checking"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=self.console or Console(stderr=True), transient=True)
            self.bar.start()
            self.task = self.bar.add_task("files", total=total)
        self.bar.update(self.task, completed=done, total=total)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _run(paths, config_file, select=(), ignore=(), jobs=None, no_cache=False, debug=False, progress=None):
    """Configuration and the engine's result for PATHS, with command-line rule selection."""
    from tenantlint.engine import run

    config = _load(config_file, paths)
    select, ignore = _split(select), _split(ignore)
    _check_selectors(select, "--select")
    _check_selectors(ignore, "--ignore")
    _check_selectors(config.select, "select in configuration")
    _check_selectors(config.ignore, "ignore in configuration")
    config = with_overrides(config, select=select, ignore=config.ignore + ignore, jobs=jobs)
    try:
        return config, run(list(paths), config, debug=debug, use_cache=not no_cache and not debug, progress=progress)
    except PathError as exc:
        raise UsageFailure(str(exc)) from None


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(("markdown", "csv", "json", "html")), default="markdown", show_default=True, help="Inventory format; html is one self-contained page.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write the inventory to this file instead of stdout.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), help="Configuration file.")
@click.option("--no-cache", is_flag=True, help="Do not use the per-file cache.")
def audit(paths, fmt, output, config_file, no_cache) -> None:
    """The inventory of every query on a tenant table (not only findings): status, rules, suppressions with their
    reasons, cross-tenant places, tenant context; grouped by table and by file, with owner and fix-status columns."""
    from tenantlint.engine import run
    from tenantlint.report.audit import render as render_audit

    paths = paths or (Path("."),)
    if output is not None and not output.parent.resolve().is_dir():
        raise UsageFailure(f"--output {output}: the folder {output.parent} does not exist")
    config = _load(config_file, paths)
    try:
        result = run(list(paths), config, use_cache=not no_cache, inventory=True)
    except PathError as exc:
        raise UsageFailure(str(exc)) from None
    text = render_audit(fmt, result.sites, str(config.root))
    if output is not None:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageFailure(f"--output {output}: cannot write the inventory: {exc.strerror or exc}") from None
        click.echo(f"wrote the inventory of {len(result.sites)} queries to {output}", err=True)
    else:
        click.echo(text, nl=not text.endswith("\n"))


@main.group()
def baseline() -> None:
    """Accept today's findings so that `check --baseline` reports only new ones."""


@baseline.command("create")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), help="Configuration file.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Baseline file (default: .tenantlint-baseline.json at the project root, or the `baseline` key).")
@click.option("--no-cache", is_flag=True, help="Do not use the per-file cache.")
def baseline_create(paths, config_file, output, no_cache) -> None:
    """Write every current finding of PATHS to the baseline file (sorted, no line numbers)."""
    from tenantlint import baseline as bl

    paths = paths or (Path("."),)
    config, result = _run(paths, config_file, no_cache=no_cache)
    target = output or bl.default_path(config)
    if not target.parent.resolve().is_dir():
        raise UsageFailure(f"--output {target}: the folder {target.parent} does not exist")
    entries = [bl.entry_of(f) for f in result.findings]
    target.write_text(bl.dump(entries), encoding="utf-8")
    by_code = ", ".join(f"{c} {n}" for c, n in sorted(bl.counts(entries).items())) or "none"
    click.echo(f"wrote {len(entries)} finding(s) to {target} ({by_code})")


@baseline.command("update")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), help="Configuration file.")
@click.option("--baseline", "baseline_file", type=click.Path(dir_okay=False, path_type=Path), help="Baseline file (default: the `baseline` key, or .tenantlint-baseline.json at the project root).")
@click.option("--no-cache", is_flag=True, help="Do not use the per-file cache.")
def baseline_update(paths, config_file, baseline_file, no_cache) -> None:
    """Drop the entries no finding matches any more; never add a new finding."""
    from tenantlint import baseline as bl

    paths = paths or (Path("."),)
    config, result = _run(paths, config_file, no_cache=no_cache)
    target = baseline_file or bl.default_path(config)
    try:
        entries = bl.load(target)
    except bl.BaselineError as exc:
        raise UsageFailure(str(exc)) from None
    cmp = bl.compare(result.findings, entries)
    kept = [bl.entry_of(f) if e.path != f.path else e for f, e in cmp.known]  # a moved file: the entry follows it
    target.write_text(bl.dump(kept), encoding="utf-8")
    click.echo(f"{target}: kept {len(kept)}, dropped {len(cmp.gone)} fixed, {len(cmp.new)} new finding(s) not added")


@main.command("rules")
def list_rules() -> None:
    """List every rule: code, name, default level and what it finds."""
    for rule in all_rules().values():
        click.echo(f"{rule.code}  {rule.name:<24} {rule.level.value:<8} {rule.summary}")


@main.command()
@click.argument("rule")
def explain(rule: str) -> None:
    """Explain RULE (a code such as TL101 or a name such as unscoped-read)."""
    found = rule_by_code_or_name(rule)
    if found is None:
        known = list(all_rules()) + [r.name for r in all_rules().values()]
        hint = difflib.get_close_matches(rule, known, n=1)
        raise UsageFailure(f"unknown rule {rule!r}" + (f"; did you mean {hint[0]}?" if hint else "; see `tenantlint rules`"))
    click.echo(found.explain())


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), help="Configuration file.")
@click.option("--all", "show_all", is_flag=True, help="Also list models and tables that are not tenant-owned.")
def schema(paths, config_file, show_all) -> None:
    """Show the tenant tables learnt from models and DDL: where declared, through which column or relation."""
    from tenantlint.engine import learn_schema

    paths = paths or (Path("."),)
    config = _load(config_file, paths)
    learnt, _, notes = learn_schema(config)
    infos = sorted(learnt.tables.values(), key=lambda i: i.table)
    tenant = [i for i in infos if i.tenant is not None]
    click.echo(f"Tenant roots: {', '.join(config.tenant_roots)}; tenant columns: {', '.join(config.tenant_columns)}")
    listed = {t.lower() for t in config.context_tables}
    for info in tenant:
        t = info.tenant
        paths_txt = ", ".join("__".join(p) for p in t.tenant_paths) or "-"
        in_context = config.mode == "context" or info.table.lower() in listed or info.name.lower() in listed
        flags = ["mode: both" if config.mode == "both" else "mode: context" if in_context else "mode: filter"]
        if t.shared_when_null:
            flags.append("NULL tenant rows shared")
        if info.is_shared:
            flags.append("declared shared: never flagged")
        click.echo(
            f"{info.table:<32} {info.name if info.source != 'ddl' else '':<24} {t.via}; filter by {paths_txt}"
            f"{'; ' + '; '.join(flags) if flags else ''}  ({info.path}:{info.line})"
        )
    if show_all:
        for info in infos:
            if info.tenant is None:
                kind = "tenant root" if info.is_root else "not tenant-owned"
                click.echo(f"{info.table:<32} {info.name:<24} {kind}  ({info.path}:{info.line})")
    click.echo(f"{len(tenant)} tenant tables, {len(infos) - len(tenant)} other tables.")
    if learnt.unresolved:
        click.echo(f"\nCould not resolve ({len(learnt.unresolved)}); queries on these are not judged:")
        for path, line, what in learnt.unresolved:
            click.echo(f"  {path}:{line}: {what}")
    for path, msg in notes:
        click.echo(f"{path + ': ' if path else ''}{msg}", err=True)


if __name__ == "__main__":
    main()
