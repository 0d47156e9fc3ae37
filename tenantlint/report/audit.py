"""The audit: every query on a tenant table, scoped or not, grouped by table and by file — the tracking sheet of a
tenant-isolation review or an RLS migration. JSON, CSV, Markdown, and one self-contained HTML page (no network:
inline CSS, SVG bar chart, a sortable and filterable table with a few lines of script)."""
from __future__ import annotations

import csv
import html
import io
import json
from collections import Counter, defaultdict

from tenantlint.types import SiteRecord

FORMATS = ("markdown", "csv", "json", "html")
STATUSES = ("unscoped", "defeated", "unverifiable", "guarded", "scoped")
_NUMERIC = ' data-num="1"'
_FIELDS = ("path", "line", "column", "table", "model", "kind", "status", "rules", "api", "function", "reason", "suppressed", "cross_tenant", "context", "owner", "fix_status")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _status(r: SiteRecord) -> str:
    return "unverifiable" if r.status == "unknown" else r.status


def summary(sites: list[SiteRecord]) -> dict:
    by_status = Counter(_status(r) for r in sites)
    open_by_table = Counter(r.table for r in sites if _status(r) in ("unscoped", "defeated"))
    return {
        "sites": len(sites),
        "tables": len({r.table for r in sites}),
        "files": len({r.path for r in sites}),
        "by_status": {s: by_status.get(s, 0) for s in STATUSES},
        "suppressed": sum(1 for r in sites if r.suppressed),
        "cross_tenant": sum(1 for r in sites if r.cross_tenant),
        "outside_context": sum(1 for r in sites if r.context.startswith("outside")),
        "unscoped_by_table": dict(sorted(open_by_table.items(), key=lambda kv: (-kv[1], kv[0]))),
    }


def _row(r: SiteRecord) -> dict:
    return {
        "path": r.path, "line": r.line, "column": r.column, "table": r.table, "model": r.model, "kind": r.kind,
        "status": _status(r), "rules": list(r.rules), "api": r.api, "function": r.function, "reason": r.reason,
        "suppressed": list(r.suppressed), "cross_tenant": r.cross_tenant, "context": r.context, "owner": "", "fix_status": "",
    }


def as_dict(sites: list[SiteRecord], root: str = "") -> dict:
    by_table: dict[str, Counter] = defaultdict(Counter)
    by_file: dict[str, Counter] = defaultdict(Counter)
    for r in sites:
        by_table[r.table][_status(r)] += 1
        by_file[r.path][_status(r)] += 1
    return {
        "format_version": 1,
        "root": root,
        "summary": summary(sites),
        "by_table": {t: dict(c) for t, c in sorted(by_table.items())},
        "by_file": {p: dict(c) for p, c in sorted(by_file.items())},
        "sites": [_row(r) for r in sites],
    }


def render_json(sites: list[SiteRecord], root: str = "") -> str:
    return json.dumps(as_dict(sites, root), indent=2, ensure_ascii=False) + "\n"


def render_csv(sites: list[SiteRecord], root: str = "") -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=_FIELDS, lineterminator="\n")
    writer.writeheader()
    for r in sites:
        row = _row(r)
        row["rules"] = " ".join(row["rules"])
        row["suppressed"] = "; ".join(row["suppressed"])
        writer.writerow(row)
    return out.getvalue()


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(sites: list[SiteRecord], root: str = "") -> str:
    doc = as_dict(sites, root)
    s = doc["summary"]
    lines = [
        "# Tenant isolation audit",
        "",
        f"{s['sites']} queries on {s['tables']} tenant tables in {_plural(s['files'], 'file')}: "
        + ", ".join(f"{n} {k}" for k, n in s["by_status"].items())
        + f"; {s['suppressed']} with a suppressed finding, {s['cross_tenant']} declared cross-tenant"
        + (f", {s['outside_context']} outside a tenant context" if s["outside_context"] else "")
        + ".",
        "",
        "## By table",
        "",
        "| table | " + " | ".join(STATUSES) + " |",
        "|---|" + "---|" * len(STATUSES),
    ]
    for table, counts in doc["by_table"].items():
        lines.append(f"| {_md(table)} | " + " | ".join(str(counts.get(k, 0)) for k in STATUSES) + " |")
    lines += ["", "## By file", "", "| file | " + " | ".join(STATUSES) + " |", "|---|" + "---|" * len(STATUSES)]
    for path, counts in doc["by_file"].items():
        lines.append(f"| {_md(path)} | " + " | ".join(str(counts.get(k, 0)) for k in STATUSES) + " |")
    lines += ["", "## Sites", "", "| file:line | table | kind | status | rules | query | function | note | owner | fix status |", "|---|---|---|---|---|---|---|---|---|---|"]
    for row in doc["sites"]:
        note = "; ".join(x for x in [row["reason"], *row["suppressed"], row["cross_tenant"] and f"cross-tenant: {row['cross_tenant']}", row["context"]] if x)
        lines.append(
            f"| {_md(row['path'])}:{row['line']} | {_md(row['table'])} | {row['kind']} | {row['status']} | {' '.join(row['rules'])} | "
            f"`{_md(row['api'])}` | {_md(row['function'])} | {_md(note)} |  |  |"
        )
    return "\n".join(lines) + "\n"


_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1b1f24}
h1{font-size:20px} .cards{display:flex;gap:12px;flex-wrap:wrap;margin:12px 0}
.card{border:1px solid #d0d7de;border-radius:6px;padding:8px 14px;min-width:110px}
.card b{display:block;font-size:22px} .unscoped,.defeated{color:#b42318} .scoped{color:#067647}
table{border-collapse:collapse;width:100%;margin-top:12px} th,td{border-bottom:1px solid #eaeef2;padding:4px 6px;text-align:left;vertical-align:top}
th{cursor:pointer;background:#f6f8fa;position:sticky;top:0} code{font-size:12px}
.controls{display:flex;gap:8px;align-items:center;margin-top:16px} svg text{font-size:12px}
"""

_SCRIPT = """
const rows=[...document.querySelectorAll('#sites tbody tr')];
const q=document.getElementById('filter'), st=document.getElementById('status');
function apply(){const t=q.value.toLowerCase(), s=st.value;let n=0;
 for(const r of rows){const ok=(!t||r.textContent.toLowerCase().includes(t))&&(!s||r.dataset.status===s);r.hidden=!ok;if(ok)n++;}
 document.getElementById('shown').textContent=n;}
q.addEventListener('input',apply);st.addEventListener('change',apply);
document.querySelectorAll('#sites th').forEach((th,i)=>th.addEventListener('click',()=>{
 const dir=th.dataset.dir==='asc'?'desc':'asc';th.dataset.dir=dir;const body=th.closest('table').tBodies[0];
 const num=th.dataset.num==='1';
 rows.sort((a,b)=>{const x=a.cells[i].textContent,y=b.cells[i].textContent;
  const c=num?(parseFloat(x)-parseFloat(y)):x.localeCompare(y);return dir==='asc'?c:-c;});
 rows.forEach(r=>body.appendChild(r));}));
apply();
"""


def _bar_chart(counts: dict[str, int]) -> str:
    """Unscoped (and defeated) sites per table, as inline SVG."""
    if not counts:
        return '<p id="chart-empty">No unscoped queries.</p>'
    items = list(counts.items())[:25]
    top = max(n for _, n in items)
    bar_h, label_w, width = 20, 220, 420
    parts = [f'<svg id="chart" role="img" aria-label="unscoped queries per table" width="{label_w + width + 60}" height="{bar_h * len(items) + 10}">']
    for i, (table, n) in enumerate(items):
        y = i * bar_h + 5
        w = max(2, round(width * n / top))
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end">{html.escape(table)}</text>'
            f'<rect class="bar" data-table="{html.escape(table)}" data-count="{n}" x="{label_w}" y="{y}" width="{w}" height="{bar_h - 6}" fill="#d92d20"></rect>'
            f'<text x="{label_w + w + 6}" y="{y + 14}">{n}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def render_html(sites: list[SiteRecord], root: str = "") -> str:
    doc = as_dict(sites, root)
    s = doc["summary"]
    e = html.escape
    cards = [("sites", "queries on tenant tables", "")] + [(k, k, k) for k in STATUSES] + [("suppressed", "with a suppressed finding", ""), ("cross_tenant", "declared cross-tenant", "")]
    card_html = "".join(
        f'<div class="card"><b id="n-{key}" class="{cls}">{s["by_status"][key] if key in s["by_status"] else s[key]}</b>{e(label)}</div>' for key, label, cls in cards
    )
    head = ["file", "line", "table", "kind", "status", "rules", "query", "function", "note", "owner", "fix status"]
    body = []
    for row in doc["sites"]:
        note = "; ".join(x for x in [row["reason"], *row["suppressed"], row["cross_tenant"] and f"cross-tenant: {row['cross_tenant']}", row["context"]] if x)
        body.append(
            f'<tr data-status="{e(row["status"])}"><td>{e(row["path"])}</td><td>{row["line"]}</td><td>{e(row["table"])}</td><td>{e(row["kind"])}</td>'
            f'<td class="{e(row["status"])}">{e(row["status"])}</td><td>{e(" ".join(row["rules"]))}</td><td><code>{e(row["api"])}</code></td>'
            f'<td>{e(row["function"])}</td><td>{e(note)}</td><td contenteditable="true"></td><td contenteditable="true"></td></tr>'
        )
    options = "".join(f'<option value="{k}">{k}</option>' for k in STATUSES)
    return (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Tenant isolation audit</title>"
        f"<style>{_STYLE}</style></head><body>"
        f"<h1>Tenant isolation audit</h1><p>{e(root)}: {s['sites']} queries on {s['tables']} tenant tables in {_plural(s['files'], 'file')}.</p>"
        f'<div class="cards">{card_html}</div>'
        f"<h2>Unscoped queries per table</h2>{_bar_chart(s['unscoped_by_table'])}"
        '<div class="controls"><input id="filter" type="search" placeholder="filter: file, table, query..." size="40">'
        f'<select id="status"><option value="">every status</option>{options}</select> <span><span id="shown">0</span> shown</span></div>'
        '<table id="sites"><thead><tr>' + "".join(f"<th{_NUMERIC if h == 'line' else ''}>{h}</th>" for h in head) + "</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
        f"<script>{_SCRIPT}</script></body></html>\n"
    )


def render(fmt: str, sites: list[SiteRecord], root: str = "") -> str:
    return {"json": render_json, "csv": render_csv, "markdown": render_markdown, "html": render_html}[fmt](sites, root)
