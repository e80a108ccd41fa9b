"""Reviewing a scored batch: what was flagged, for which kind of violation, on which evidence.

A monitor scores a scrape with ``neutrality-nlp score`` and then has to *read* the flags. This module
reads the output files back (JSONL, CSV or Parquet, exactly as the batch scorer writes them), summarises
them, and writes two things for the people who check each flag:

* :func:`render_html` — one self-contained HTML page, flags best first, with the category, the evidence
  sentences and, when the text was kept (``--keep-fields text``), the text with the evidence marked;
* :func:`write_sheet` — a review sheet (CSV, UTF-8 with a byte-order mark so spreadsheet programs read
  Indonesian text correctly) with empty ``verdict`` and ``note`` columns for the reviewer.
"""

from __future__ import annotations

import csv
import heapq
import html
import json
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neutrality_nlp.batch import READERS, detect_format, expand_inputs, flat_value
from neutrality_nlp.labels import CATEGORIES, CATEGORY_NAMES
from neutrality_nlp.records import Evidence, ScoreRecord

#: Evidence sentences per record in the review sheet.
SHEET_EVIDENCE = 3


class ScoredFileError(ValueError):
    """A file that is not a readable ``neutrality-nlp score`` output."""


def read_scored(inputs: Sequence[str | Path]) -> Iterator[ScoreRecord]:
    """Stream the records of scored output files (paths, directories or globs), in order.

    CSV and Parquet hold ``categories`` and ``evidence`` as JSON strings; they are decoded back, so every
    format gives the same :class:`~neutrality_nlp.records.ScoreRecord` s. A row that cannot be read is an
    error naming its file and record number: a review must not skip flags silently.
    """
    for path in expand_inputs(inputs):
        for n, (row, error, _) in enumerate(READERS[detect_format(path)](path), 1):
            where = f"{path}: record {n}"
            if row is None:
                raise ScoredFileError(f"{where}: {error}")
            yield _to_record(row, where)


def _to_record(row: dict[str, Any], where: str) -> ScoreRecord:
    missing = [k for k in ("flagged", "score") if k not in row]
    if missing:
        raise ScoredFileError(f"{where}: not a neutrality-nlp score output (no {', '.join(missing)} field)")
    # CSV cannot tell an empty cell from a missing value: empty is ``None`` in every format
    data = {k: (None if v == "" else v) for k, v in row.items()}
    try:
        data["flagged"] = _as_bool(data["flagged"])
        data["score"] = None if data["score"] is None else float(data["score"])
        data["threshold"] = float(data.get("threshold") or 0.0)
        data["categories"] = _as_json(data.get("categories"), {})
        data["evidence"] = _as_json(data.get("evidence"), [])
        return ScoreRecord.from_dict(data)
    except (TypeError, ValueError, KeyError) as exc:
        raise ScoredFileError(f"{where}: unreadable field ({exc})") from exc


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).strip().lower() in ("true", "1"):
        return True
    if str(value).strip().lower() in ("false", "0"):
        return False
    raise ValueError(f"flagged is {value!r}, not true/false")


def _as_json(value: Any, empty: Any) -> Any:
    if value is None:
        return empty
    if isinstance(value, str):
        value = json.loads(value)
    if not isinstance(value, type(empty)):
        raise ValueError(f"expected a JSON {type(empty).__name__}, got {type(value).__name__}")
    return value


@dataclass
class ReviewSummary:
    """Counts over every record read (not only the ones selected for review)."""

    records: int = 0
    flagged: int = 0
    errors: int = 0
    #: Flagged records per top category (``None``: a model without a category head).
    categories: Counter = field(default_factory=Counter)
    models: Counter = field(default_factory=Counter)
    #: Error messages (their first 80 characters) and how often each occurred.
    error_kinds: Counter = field(default_factory=Counter)
    #: Flagged records that pass the filters (all of them are in the review, best first).
    selected: int = 0


def collect(
    records: Iterator[ScoreRecord] | Sequence[ScoreRecord],
    *,
    category: str | None = None,
    min_score: float | None = None,
    limit: int | None = None,
) -> tuple[ReviewSummary, list[ScoreRecord]]:
    """Summarise ``records`` and select the flagged ones for review, highest score first.

    ``category`` keeps flags whose top category is that code, ``min_score`` those scoring at least that;
    ``limit`` keeps only the best ``limit`` of them (in bounded memory). Ties keep input order.
    """
    if category is not None and category not in CATEGORIES:
        raise ValueError(f"unknown category {category!r}; one of: {', '.join(CATEGORIES)}")
    summary = ReviewSummary()
    chosen: list[tuple[float, int, ScoreRecord]] = []
    for i, r in enumerate(records):
        summary.records += 1
        summary.models[r.model] += 1
        if r.error:
            summary.errors += 1
            summary.error_kinds[r.error[:80]] += 1
        if not r.flagged:
            continue
        summary.flagged += 1
        summary.categories[r.category] += 1
        if (category and r.category != category) or (min_score is not None and (r.score or 0.0) < min_score):
            continue
        summary.selected += 1
        item = (r.score or 0.0, -i, r)
        if limit is None:
            chosen.append(item)
        elif len(chosen) < limit:
            heapq.heappush(chosen, item)
        elif limit and item[:2] > chosen[0][:2]:
            heapq.heapreplace(chosen, item)
    chosen.sort(key=lambda t: t[:2], reverse=True)
    return summary, [r for *_, r in chosen]


def category_name(code: str | None, lang: str = "id") -> str:
    """The reader-facing name of a category code (``-`` when there is none)."""
    if code is None:
        return "-"
    return CATEGORY_NAMES.get(code, {}).get(lang, code)


def write_sheet(records: Sequence[ScoreRecord], path: str | Path, *, extra_fields: Sequence[str] = (),
                lang: str = "id") -> Path:
    """Write the review sheet: one row per flag, best first, with empty ``verdict`` and ``note`` columns."""
    path = Path(path)
    head = ["rank", "id", "score", "threshold", "category", "category_name"]
    head += [f"evidence_{k}" for k in range(1, SHEET_EVIDENCE + 1)]
    head += [*extra_fields, "model", "verdict", "note"]
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(head)
        for rank, r in enumerate(records, 1):
            ev = [e.text for e in r.evidence[:SHEET_EVIDENCE]]
            ev += [""] * (SHEET_EVIDENCE - len(ev))
            w.writerow([rank, r.id, _round(r.score), _round(r.threshold), r.category or "",
                        category_name(r.category, lang) if r.category else "", *ev,
                        *(_cell(r.extra.get(f)) for f in extra_fields), r.model, "", ""])
    return path


def _round(x: float | None) -> str:
    return "" if x is None else f"{x:.4f}"


def _cell(value: Any) -> str:
    return "" if value is None else str(flat_value(value))


# -- HTML ------------------------------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem} table.sum td{padding:.1rem .8rem .1rem 0} .flag{border-top:1px solid #ccc;padding:.8rem 0}
.meta{color:#555;font-size:.9rem} .score{font-weight:bold} ol.ev li{margin:.3rem 0}
.ev .s{color:#777;font-size:.85rem} mark{background:#ffe08a} details pre{white-space:pre-wrap;font:inherit}
"""


def render_html(summary: ReviewSummary, records: Sequence[ScoreRecord], *, title: str = "neutrality-nlp review",
                text_field: str = "text", lang: str = "id") -> str:
    """One self-contained HTML page: the summary, then each selected flag with its evidence.

    When a record kept its text (field ``text_field``), the text is shown with the evidence sentences
    marked at their offsets. Everything taken from the data is HTML-escaped; only ``http(s)`` URLs become
    links.
    """
    e = html.escape
    parts = [f"<!doctype html><html lang=\"{e(lang)}\"><head><meta charset=\"utf-8\"><title>{e(title)}</title>"
             f"<style>{_CSS}</style></head><body><h1>{e(title)}</h1><table class=\"sum\">"]
    rows = [("records", summary.records), ("flagged", summary.flagged), ("errors", summary.errors),
            ("in this review", len(records))]
    parts += [f"<tr><td>{e(k)}</td><td>{v:,}</td></tr>" for k, v in rows]
    parts.append("</table>")
    if summary.categories:
        cats = ", ".join(f"{e(category_name(c, lang))} {n:,}" for c, n in summary.categories.most_common())
        parts.append(f"<p class=\"meta\">flags per category: {cats}</p>")
    for rank, r in enumerate(records, 1):
        parts.append(_html_record(rank, r, text_field, lang))
    parts.append("</body></html>\n")
    return "".join(parts)


def _html_record(rank: int, r: ScoreRecord, text_field: str, lang: str) -> str:
    e = html.escape
    out = [f"<div class=\"flag\" id=\"r{rank}\"><div><b>#{rank}</b> <code>{e(str(r.id))}</code> · "
           f"<span class=\"score\">{r.score:.3f}</span> (threshold {r.threshold:.3f}) · "
           f"{e(category_name(r.category, lang))}</div>"]
    top = sorted(r.categories.items(), key=lambda kv: kv[1], reverse=True)[:3]
    if top:
        out.append("<div class=\"meta\">" + ", ".join(f"{e(category_name(c, lang))} {p:.2f}" for c, p in top)
                   + "</div>")
    meta = []
    for key, value in r.extra.items():
        if key == text_field or value is None or value == "":
            continue
        s = _cell(value)
        if key == "url" and s.startswith(("http://", "https://")):
            meta.append(f"<a href=\"{e(s, quote=True)}\" rel=\"noreferrer\">{e(s)}</a>")
        else:
            meta.append(f"{e(key)}: {e(s[:300])}")
    if meta:
        out.append("<div class=\"meta\">" + " · ".join(meta) + "</div>")
    if r.evidence:
        out.append("<ol class=\"ev\">" + "".join(
            f"<li>{e(ev.text)} <span class=\"s\">[{ev.score:.2f}; {ev.start}–{ev.end}]</span></li>"
            for ev in r.evidence) + "</ol>")
    text = r.extra.get(text_field)
    if isinstance(text, str) and text:
        out.append(f"<details><summary>text</summary><pre>{_marked(text, r.evidence)}</pre></details>")
    out.append("</div>")
    return "".join(out)


def _marked(text: str, evidence: Sequence[Evidence]) -> str:
    """``text`` HTML-escaped, with each evidence span that matches its offsets inside ``<mark>``."""
    spans = sorted((ev.start, ev.end) for ev in evidence
                   if 0 <= ev.start < ev.end <= len(text) and text[ev.start:ev.end].strip())
    out, pos = [], 0
    for start, end in spans:
        if start < pos:  # overlapping spans: extend the previous mark
            start = pos
        if end <= start:
            continue
        out.append(html.escape(text[pos:start]) + "<mark>" + html.escape(text[start:end]) + "</mark>")
        pos = end
    out.append(html.escape(text[pos:]))
    return "".join(out)


# -- reviewers' verdicts ---------------------------------------------------------------------------------

#: Accepted ``verdict`` cells (case-insensitive), Indonesian and English; an empty cell is not reviewed yet.
CONFIRMED = frozenset({"ya", "y", "benar", "pelanggaran", "yes", "confirmed", "true", "1"})
DISMISSED = frozenset({"tidak", "t", "bukan", "salah", "no", "n", "dismissed", "false", "0"})
#: Score bands of the verdict report: the precision a reviewer can expect above each lower bound.
SCORE_BANDS: tuple[float, ...] = (0.99, 0.95, 0.0)


def verdict_report(sheets: Sequence[str | Path]) -> dict[str, Any]:
    """What reviewers found, from filled-in review sheets (:func:`write_sheet`).

    Returns ``{"rows", "reviewed", "confirmed", "dismissed", "pending", "precision", "per_category",
    "per_model", "per_band"}``: precision is confirmed / reviewed, overall and per top category, model and
    score band (``">=0.99"``, …). An unrecognised verdict is an error naming its sheet and row, so a typo
    never counts as either.
    """
    total: Counter = Counter()
    groups: dict[str, dict[str, Counter]] = {"per_category": {}, "per_model": {}, "per_band": {}}
    for sheet in sheets:
        with Path(sheet).open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames or "verdict" not in reader.fieldnames:
                raise ScoredFileError(f"{sheet}: not a review sheet (no verdict column)")
            for n, row in enumerate(reader, 2):
                verdict = _verdict(row.get("verdict"), f"{sheet}: row {n}")
                total[verdict] += 1
                if verdict == "pending":
                    continue
                score = float(row["score"]) if row.get("score") else 0.0
                keys = {"per_category": row.get("category") or "-", "per_model": row.get("model") or "-",
                        "per_band": f">={next(b for b in SCORE_BANDS if score >= b)}"}
                for name, key in keys.items():
                    groups[name].setdefault(key, Counter())[verdict] += 1

    def entry(c: Counter) -> dict[str, Any]:
        reviewed = c["confirmed"] + c["dismissed"]
        return {"reviewed": reviewed, "confirmed": c["confirmed"], "dismissed": c["dismissed"],
                "precision": round(c["confirmed"] / reviewed, 4) if reviewed else None}

    report = {"rows": sum(total.values()), **entry(total), "pending": total["pending"]}
    for name, per in groups.items():
        report[name] = {key: entry(c) for key, c in sorted(per.items())}
    return report


def _verdict(cell: str | None, where: str) -> str:
    """``confirmed``, ``dismissed`` or ``pending`` (empty) for a sheet's verdict cell."""
    value = (cell or "").strip().lower()
    if not value:
        return "pending"
    if value in CONFIRMED:
        return "confirmed"
    if value in DISMISSED:
        return "dismissed"
    raise ScoredFileError(f"{where}: verdict {cell!r} is neither yes ({', '.join(sorted(CONFIRMED))}) "
                          f"nor no ({', '.join(sorted(DISMISSED))})")
