"""Count the SQL of a project as tenantlint sees it: execution sites found, with text resolved, parsed, flagged.

    python scripts/sql_census.py TREE [--config FILE]

Runs the raw-SQL adapter alone over every Python file of TREE (one process) and prints the totals and the files
with the most sites; the closing note of the raw-SQL work quotes these figures.
"""
from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from tenantlint.adapters.sql_strings import ADAPTER, _Analysis
from tenantlint.config import load_config
from tenantlint.engine import _read, learn_project
from tenantlint.files import discover_targets
from tenantlint.python_module import PythonModule
from tenantlint.sql import parse_sql


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("tree", type=Path)
    ap.add_argument("--config", type=Path)
    args = ap.parse_args()
    config = load_config(args.config, args.tree)
    schema, _, _, index = learn_project(config)
    totals: Counter = Counter()
    per_file: Counter = Counter()
    sql_files = Counter()
    for f in discover_targets([args.tree], config):
        text = _read(f.path)
        if f.language == "sql":
            parsed = parse_sql(text, config.sql_dialect)
            sql_files["statements"] += len(parsed.statements)
            sql_files["failed"] += len(parsed.failed)
            continue
        if not ADAPTER.wants(text):
            continue
        try:
            module = PythonModule.parse(f.rel, text)
        except Exception:
            continue
        analysis = _Analysis(module, schema, config, index)
        analysis.run()
        totals.update(analysis.stats)
        per_file[f.rel] += analysis.stats["sites"]
    print(f"SQL execution sites: {totals['sites']}")
    print(f"  text resolved:     {totals['resolved']}")
    print(f"  parsed:            {totals['parsed']}")
    print(f"  flagged (TL101-104 verdict on some table): {totals['flagged']}")
    print(f"  unverifiable (TL002): {totals['unverifiable']}")
    print(f".sql files: {sql_files['statements']} statements parsed, {sql_files['failed']} not")
    for rel, n in per_file.most_common(10):
        if n:
            print(f"  {n:4d}  {rel}")


if __name__ == "__main__":
    main()
