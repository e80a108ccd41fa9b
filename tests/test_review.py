"""Reviewing scored batches: reading every output format back, selecting flags, the HTML page and the sheet."""

from __future__ import annotations

import csv
import json

import pytest
from typer.testing import CliRunner

from neutrality_nlp.batch import score_file
from neutrality_nlp.cli import app
from neutrality_nlp.records import Evidence, ScoreRecord
from neutrality_nlp.review import ScoredFileError, collect, read_scored, render_html, write_sheet
from tests.helpers import KeywordScorer

TEXTS = [
    {"id": "a", "text": "Camat Rasyid hadir di deklarasi paslon nomor 2 di Dompu.", "url": "https://warta.example/a"},
    {"id": "b", "text": "Harga beras di pasar Bima naik lagi.", "url": "https://warta.example/b"},
    {"id": "c", "text": "Guru PNS <script>alert(1)</script> ikut deklarasi.", "url": "javascript:alert(1)"},
    {"id": "d", "text": "BOOM"},
]


@pytest.fixture()
def scored(tmp_path):
    """The same four texts scored into JSONL, CSV and Parquet (text and url kept)."""
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(t) + "\n" for t in TEXTS), encoding="utf-8")
    outs = {}
    for fmt in ("jsonl", "csv", "parquet"):
        outs[fmt] = tmp_path / f"out.{fmt}"
        score_file(KeywordScorer(), [src], outs[fmt], keep_fields=["text", "url"])
    return outs


def _rec(i: int, score: float, category: str = "hadir_deklarasi", error: str | None = None) -> ScoreRecord:
    return ScoreRecord(id=f"r{i}", flagged=score >= 0.5 and error is None, score=None if error else score,
                       threshold=0.5, category=category if score >= 0.5 else None, model="m@1", error=error)


def test_every_output_format_reads_back_the_same(scored):
    by_fmt = {fmt: list(read_scored([path])) for fmt, path in scored.items()}
    ref = by_fmt["jsonl"]
    assert [r.id for r in ref] == ["a", "b", "c", "d"]
    assert [r.flagged for r in ref] == [True, False, True, False]
    assert ref[3].error and ref[3].score is None
    assert ref[0].evidence[0].text == TEXTS[0]["text"] and ref[0].categories == {"hadir_deklarasi": 0.9}
    assert ref[0].extra == {"text": TEXTS[0]["text"], "url": TEXTS[0]["url"]}
    for fmt in ("csv", "parquet"):
        assert [r.to_dict() for r in by_fmt[fmt]] == [r.to_dict() for r in ref], fmt


def test_collect_counts_everything_and_orders_the_flags():
    records = [_rec(0, 0.7), _rec(1, 0.2), _rec(2, 0.95, "media_sosial"), _rec(3, 0.7), _rec(4, 0.0, error="x"),
               _rec(5, 0.8)]
    summary, flags = collect(records)
    assert (summary.records, summary.flagged, summary.errors, summary.selected) == (6, 4, 1, 4)
    assert summary.categories == {"hadir_deklarasi": 3, "media_sosial": 1}
    assert summary.error_kinds == {"x": 1}
    assert [r.id for r in flags] == ["r2", "r5", "r0", "r3"]  # best first; ties keep input order
    assert [r.id for r in collect(records, limit=2)[1]] == ["r2", "r5"]
    assert [r.id for r in collect(records, limit=3)[1]] == ["r2", "r5", "r0"]
    assert [r.id for r in collect(records, category="hadir_deklarasi", min_score=0.75)[1]] == ["r5"]
    assert collect(records, limit=0)[1] == []
    with pytest.raises(ValueError, match="unknown category"):
        collect(records, category="kampanye")


def test_sheet_has_one_row_per_flag_and_empty_verdicts(scored, tmp_path):
    _, flags = collect(read_scored([scored["csv"]]))
    path = write_sheet(flags, tmp_path / "sheet.csv", extra_fields=["url"])
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # spreadsheet programs then read UTF-8
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert [r["id"] for r in rows] == ["a", "c"]
    assert rows[0]["category_name"] == "hadir di deklarasi/pendaftaran calon"
    assert rows[0]["evidence_1"] == TEXTS[0]["text"] and rows[0]["url"] == TEXTS[0]["url"]
    assert rows[0]["verdict"] == rows[0]["note"] == ""


def test_html_escapes_data_marks_evidence_and_links_only_http(scored):
    summary, flags = collect(read_scored([scored["jsonl"]]))
    page = render_html(summary, flags)
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'href="https://warta.example/a"' in page
    assert 'href="javascript' not in page and "javascript:alert(1)" in page  # shown, not linked
    assert "<mark>Camat Rasyid hadir di deklarasi" in page
    assert page.index('id="r1"') < page.index('id="r2"')


def test_marks_ignore_offsets_that_do_not_fit_the_text():
    r = ScoreRecord(id=1, flagged=True, score=0.9, threshold=0.5, category="lainnya",
                    evidence=[Evidence("x", 0.9, 5, 500)], extra={"text": "pendek"})
    page = render_html(collect([r])[0], [r])
    assert "<mark>" not in page and "pendek" in page


def test_unreadable_files_are_clear_errors(scored, tmp_path):
    broken = tmp_path / "broken.jsonl"
    lines = scored["jsonl"].read_text(encoding="utf-8").splitlines()
    broken.write_text(lines[0] + "\n{not json\n", encoding="utf-8")
    with pytest.raises(ScoredFileError, match="broken.jsonl: record 2: invalid JSON"):
        list(read_scored([broken]))
    inputs = tmp_path / "in.jsonl"  # the input of a run, not its output
    with pytest.raises(ScoredFileError, match="not a neutrality-nlp score output"):
        list(read_scored([inputs]))


def test_review_command(scored, tmp_path):
    html_out, sheet = tmp_path / "r.html", tmp_path / "r.csv"
    res = CliRunner().invoke(app, ["review", str(scored["parquet"]), "--html", str(html_out),
                                   "--sheet", str(sheet), "--lang", "en"])
    assert res.exit_code == 0, res.output
    assert "4 records · 2 flagged · 1 errors" in res.output
    assert "attending a declaration/registration" in res.output
    assert html_out.read_text(encoding="utf-8").count('class="flag"') == 2
    assert len(sheet.read_text(encoding="utf-8-sig").splitlines()) == 3
    # an error names the whole path on one line (no wrapping, no markup), however long the path
    src = tmp_path / ("sangat-panjang-" * 8) / "masukan [mentah].jsonl"
    src.parent.mkdir()
    src.write_bytes((tmp_path / "in.jsonl").read_bytes())
    bad = CliRunner().invoke(app, ["review", str(src)])
    assert bad.exit_code == 2
    assert f"error: {src}: record 1: not a neutrality-nlp score output" in bad.output.splitlines()[0]
    assert CliRunner().invoke(app, ["review", str(scored["jsonl"]), "--category", "nope"]).exit_code == 2


def _fill(sheet, verdicts):
    rows = list(csv.DictReader(sheet.read_text(encoding="utf-8-sig").splitlines()))
    for row, v in zip(rows, verdicts, strict=True):
        row["verdict"] = v
    with sheet.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def test_verdicts_give_the_precision_of_reviewed_flags(tmp_path):
    from neutrality_nlp.review import verdict_report

    records = [_rec(0, 0.995), _rec(1, 0.97, "media_sosial"), _rec(2, 0.96), _rec(3, 0.6), _rec(4, 0.55)]
    sheet = write_sheet(collect(records)[1], tmp_path / "s.csv")
    _fill(sheet, ["Ya", "tidak", "benar", "", "0"])
    rep = verdict_report([sheet])
    assert (rep["rows"], rep["reviewed"], rep["confirmed"], rep["dismissed"], rep["pending"]) == (5, 4, 2, 2, 1)
    assert rep["precision"] == 0.5
    assert rep["per_band"] == {
        ">=0.0": {"reviewed": 1, "confirmed": 0, "dismissed": 1, "precision": 0.0},
        ">=0.95": {"reviewed": 2, "confirmed": 1, "dismissed": 1, "precision": 0.5},
        ">=0.99": {"reviewed": 1, "confirmed": 1, "dismissed": 0, "precision": 1.0},
    }
    assert rep["per_category"]["media_sosial"]["precision"] == 0.0
    assert rep["per_category"]["hadir_deklarasi"] == {"reviewed": 3, "confirmed": 2, "dismissed": 1,
                                                      "precision": 0.6667}
    res = CliRunner().invoke(app, ["verdicts", str(sheet)])
    assert res.exit_code == 0 and "5 flags · 4 reviewed · 2 confirmed" in res.output
    _fill(sheet, ["ya", "mungkin", "", "", ""])  # a typo must not count as either verdict
    with pytest.raises(ScoredFileError, match="row 3: verdict 'mungkin'"):
        verdict_report([sheet])
    assert CliRunner().invoke(app, ["verdicts", str(sheet)]).exit_code == 2
