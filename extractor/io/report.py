"""The batch report: OUT/summary.json for machines (documents by status, forms,
flagged, findings by code, by department, timings) and OUT/report.html, one page for
a supervisor with the same counts and the flagged forms linked to the static review
pages (`extractor review OUT --static -o OUT/review`)."""

from __future__ import annotations

import html
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .atomic import write_text_atomic

if TYPE_CHECKING:
    from .outputs import BatchTables

DOCUMENT_STATUSES = ("read", "no_form", "failed", "skipped")
FORM_STATUSES = ("ok", "flagged", "read_poorly")


def batch_summary(tables: BatchTables, run: dict[str, Any] | None = None) -> dict[str, Any]:
    """The counts of every table row the batch holds (this run's documents and those
    already in OUT); `run`: what this run did (its line, seconds, LLM use)."""
    documents = Counter(r["status"] for r in tables.rows("documents"))
    forms: Counter = Counter()
    unique: set[str] = set()
    departments: dict[tuple, dict[str, Any]] = defaultdict(lambda: {"forms": 0, "flagged": 0, "annual_budget_wan": 0.0,
                                                                    "executed_wan": 0.0})
    flagged_forms = []
    for r in tables.rows("forms"):
        forms[r["status"]] += 1
        if r["status"] != "ok":
            flagged_forms.append({k: r[k] for k in ("form_id", "document", "form", "page", "status", "project_name",
                                                     "department", "year", "errors", "warnings", "source_path")})
        if r["form_key"] in unique:
            continue
        unique.add(r["form_key"])
        d = departments[(r["department"], r["year"])]
        d["forms"] += 1
        d["flagged"] += r["status"] != "ok"
        d["annual_budget_wan"] += float(r["annual_budget_wan"] or 0)
        d["executed_wan"] += float(r["executed_wan"] or 0)
    codes = Counter((r["code"], r["severity"]) for r in tables.rows("findings"))
    return {
        "documents": {s: documents.get(s, 0) for s in DOCUMENT_STATUSES},
        "forms": {"total": sum(forms.values()), "distinct": len(unique), **{s: forms.get(s, 0) for s in FORM_STATUSES}},
        "findings": [{"code": c, "severity": s, "count": n}
                     for (c, s), n in sorted(codes.items(), key=lambda kv: (-kv[1], kv[0]))],
        "by_department": [{"department": dep, "year": year, **{k: round(v, 4) if isinstance(v, float) else v
                                                               for k, v in d.items()}}
                          for (dep, year), d in sorted(departments.items(), key=lambda kv: (-kv[1]["forms"], str(kv[0])))],
        "flagged_forms": flagged_forms,
        "not_read": [{k: r[k] for k in ("document", "source_path", "status", "error")}
                     for r in tables.rows("documents") if r["status"] != "read"],
        "run": run or {},
    }


def write_report(summary: dict[str, Any], out_dir: Path) -> list[Path]:
    """OUT/summary.json and OUT/report.html."""
    write_text_atomic(out_dir / "summary.json", json.dumps(summary, ensure_ascii=False, indent=1) + "\n")
    write_text_atomic(out_dir / "report.html", report_html(summary, out_dir))
    return [out_dir / "summary.json", out_dir / "report.html"]


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _table(head: list[str], rows: list[list[Any]], raw: set[int] = frozenset()) -> str:
    """An HTML table; every cell escaped but the columns in `raw` (links this module made)."""
    cells = "".join(f"<th>{_e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{v if i in raw else _e(v)}</td>" for i, v in enumerate(r)) + "</tr>" for r in rows)
    return f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>"


def report_html(summary: dict[str, Any], out_dir: Path) -> str:
    """One page for a supervisor. Text from documents (names, errors) is escaped."""
    docs, forms = summary["documents"], summary["forms"]
    review = out_dir / "review"

    def link(f: dict[str, Any]) -> str:
        page = review / f["document"] / "index.html"
        label = _e(f["project_name"] or f["department"] or f["form_id"])
        if page.is_file():
            href = html.escape(f"review/{f['document']}/index.html#form-{f['form']}", quote=True)
            return f'<a href="{href}">{label}</a>'
        return label

    parts = [
        "<!doctype html><html lang='zh'><head><meta charset='utf-8'><title>绩效自评表提取报告</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;margin:1em 0}"
        "td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}th{background:#eef}"
        ".n{font-size:1.6em;font-weight:bold}</style></head><body>",
        "<h1>绩效自评表提取报告 <small>batch report</small></h1>",
        f"<p>{_e(summary['run'].get('line', ''))}</p>",
        _table(["文件 documents", "自评表 forms", "不同的表 distinct", "待复核 flagged", "读取欠佳 read poorly",
                "无自评表 no form", "失败 failed"],
               [[sum(docs.values()), forms["total"], forms["distinct"], forms["flagged"], forms["read_poorly"],
                 docs["no_form"], docs["failed"]]]),
        "<h2>按部门 by department</h2>",
        _table(["主管部门", "年度", "表数", "待复核", "全年预算数(万元)", "全年执行数(万元)"],
               [[d["department"], d["year"], d["forms"], d["flagged"], f"{d['annual_budget_wan']:,.2f}",
                 f"{d['executed_wan']:,.2f}"] for d in summary["by_department"]]),
        "<h2>发现 findings by code</h2><p>extractor explain CODE says what each means.</p>",
        _table(["代码 code", "级别 severity", "数量"], [[f["code"], f["severity"], f["count"]] for f in summary["findings"]]),
        "<h2>待复核的表 flagged forms</h2>",
        "" if review.is_dir() else "<p>Links to each form's page: <code>extractor review OUT --static -o OUT/review</code>, "
                                   "then this report again (<code>extractor check OUT</code>).</p>",
        _table(["项目/部门", "状态", "错误", "警告", "页码", "文件"],
               [[link(f), f["status"], f["errors"], f["warnings"], f["page"], f["source_path"]]
                for f in summary["flagged_forms"]], raw={0}),
    ]
    if summary["not_read"]:
        parts += ["<h2>未读取 not read</h2>",
                  _table(["文件", "状态", "原因"], [[d["source_path"], d["status"], d["error"]] for d in summary["not_read"]])]
    parts.append("</body></html>\n")
    return "\n".join(parts)
