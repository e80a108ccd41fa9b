"""Batch scoring: one output record per input, in order, errors marked, resumable after SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from neutrality_nlp.batch import read_inputs, score_file
from tests.helpers import KeywordScorer

REPO = Path(__file__).resolve().parents[1]


def _mixed_jsonl(path: Path) -> int:
    lines = [
        json.dumps({"id": "ok1", "text": "Camat hadir di deklarasi calon bupati."}).encode(),
        b'{"id": "broken", "text": "unterminated',
        json.dumps({"id": "nofield", "body": "teks di kolom lain"}).encode(),
        json.dumps({"id": "empty", "text": ""}).encode(),
        json.dumps({"id": "huge", "text": "kata " * 2_100_000}).encode(),
        b'{"id": "latin1", "text": "caf\xe9 deklarasi"}',
        json.dumps({"id": "html", "text": "<html><body><nav>Menu</nav><p>Lurah ikut deklarasi pasangan calon di "
                                         "balai desa bersama tim pemenangan.</p></body></html>"}).encode(),
        json.dumps({"id": "boom", "text": "BOOM this breaks the model"}).encode(),
        json.dumps(["not", "an", "object"]).encode(),
        json.dumps({"text": "tanpa id, harga cabai naik", "url": "http://x"}).encode(),
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    return len(lines)


def test_mixed_input_one_record_per_line_in_order(tmp_path):
    src = tmp_path / "in.jsonl"
    n = _mixed_jsonl(src)
    out = tmp_path / "out.jsonl"
    summary = score_file(KeywordScorer(), [src], out, keep_fields=["url"], window=3)
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(rows) == n == summary.records
    ids = [r["id"] for r in rows]
    assert ids[:8] == ["ok1", "in.jsonl:2", "nofield", "empty", "huge", "in.jsonl:6", "html", "boom"]
    assert ids[9] == "in.jsonl:10" and rows[9]["url"] == "http://x"
    err = {r["id"]: r["error"] for r in rows}
    assert err["ok1"] is None and rows[0]["flagged"] is True
    assert "invalid JSON" in err["in.jsonl:2"]
    assert "missing text" in err["nofield"]
    assert "empty" in err["empty"]
    assert "too long" in err["huge"]
    assert "UTF-8" in err["in.jsonl:6"]
    assert err["html"] is None and rows[6]["flagged"] and "Menu" not in rows[6]["evidence"][0]["text"]
    assert "model exploded" in err["boom"]
    assert "JSON object" in rows[8]["error"]
    assert summary.errors == 7 and summary.flagged == 2
    assert not (tmp_path / "out.jsonl.progress.json").exists()


def test_csv_and_parquet_inputs_and_outputs(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    csv_in = tmp_path / "in.csv"
    csv_in.write_text('id,text,src\n1,"Ia ikut deklarasi, katanya",a\n2,"baris\nbiasa",b\n3,,c\n', encoding="utf-8")
    pq_in = tmp_path / "in.parquet"
    pq.write_table(pa.table({"text": ["deklarasi calon", None, "biasa"], "k": [1, 2, 3]}), pq_in)
    for out_name in ("o.csv", "o.parquet", "o.jsonl"):
        out = tmp_path / out_name
        s = score_file(KeywordScorer(), [csv_in, pq_in], out, keep_fields=["src"], window=2)
        assert s.records == 6
        if out_name.endswith(".parquet"):
            rows = pq.read_table(out).to_pylist()
            assert not (tmp_path / "o.parquet.parts").exists()
        elif out_name.endswith(".csv"):
            import csv

            rows = list(csv.DictReader(out.open(encoding="utf-8")))
        else:
            rows = [json.loads(x) for x in out.read_text().splitlines()]
        assert [str(r["id"]) for r in rows] == ["1", "2", "3", "in.parquet:1", "in.parquet:2", "in.parquet:3"]
        assert str(rows[0]["flagged"]) in ("True", "true")
        assert rows[2]["error"] and rows[4]["error"]


def test_only_flagged_is_a_filter_view(tmp_path):
    src = tmp_path / "in.jsonl"
    _mixed_jsonl(src)
    out = tmp_path / "f.jsonl"
    score_file(KeywordScorer(), [src], out, only_flagged=True)
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert rows and all(r["flagged"] for r in rows)


def test_existing_output_needs_resume_or_overwrite(tmp_path):
    src = tmp_path / "in.jsonl"
    _mixed_jsonl(src)
    out = tmp_path / "o.jsonl"
    score_file(KeywordScorer(), [src], out)
    with pytest.raises(FileExistsError):
        score_file(KeywordScorer(), [src], out)
    score_file(KeywordScorer(), [src], out, overwrite=True)


def test_resume_refuses_another_precision(tmp_path):
    from neutrality_nlp.batch import _fingerprint

    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "x"}\n')
    fp32, again, bf16 = KeywordScorer(), KeywordScorer(), KeywordScorer()
    fp32.precision, again.precision, bf16.precision = "fp32", "fp32", "bf16"
    key = [src], "text", "id", (), False
    assert _fingerprint(key[0], fp32, *key[1:]) == _fingerprint(key[0], again, *key[1:])
    assert _fingerprint(key[0], fp32, *key[1:]) != _fingerprint(key[0], bf16, *key[1:])


def test_stable_generated_ids(tmp_path):
    src = tmp_path / "a.jsonl"
    src.write_text('{"text": "x"}\n\n{"text": "y"}\n')
    assert [r.id for r in read_inputs([src])] == ["a.jsonl:1", "a.jsonl:2"]


@pytest.mark.parametrize("fmt", ["jsonl", "parquet", "csv"])
def test_killed_run_resumes_without_duplicates_or_gaps(tmp_path, fmt):
    src = tmp_path / "in.jsonl"
    with src.open("w") as fh:
        for i in range(60):
            text = "deklarasi calon" if i % 3 == 0 else f"berita biasa nomor {i}"
            fh.write(json.dumps({"id": f"r{i}", "text": text}) + "\n")
    reference = tmp_path / f"ref.{fmt}"
    score_file(KeywordScorer(), [src], reference, window=4)

    out = tmp_path / f"out.{fmt}"
    code = (
        f"import sys; sys.path.insert(0, {str(REPO)!r})\n"
        "from neutrality_nlp.batch import score_file\n"
        "from tests.helpers import KeywordScorer\n"
        f"score_file(KeywordScorer(delay=0.15), [{str(src)!r}], {str(out)!r}, window=4)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, start_new_session=True)
    progress = out.with_name(out.name + ".progress.json")
    deadline = time.time() + 60
    while time.time() < deadline:
        if progress.exists() and json.loads(progress.read_text())["records"] >= 16:
            break
        time.sleep(0.05)
    time.sleep(0.07)  # land somewhere inside the next window
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert progress.exists(), "the run should have been killed before finishing"
    summary = score_file(KeywordScorer(), [src], out, window=4, resume=True)
    assert summary.resumed_from >= 16
    assert _rows(out, fmt) == _rows(reference, fmt)


def _rows(path: Path, fmt: str) -> list:
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pylist()
    return path.read_bytes().splitlines()


def test_progress_fraction_for_eta(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.csv"
    a.write_text("".join(json.dumps({"text": f"berita {i}"}) + "\n" for i in range(5)))
    b.write_text("text\n" + "".join(f"kabar {i}\n" for i in range(5)))
    fractions = [r.fraction for r in read_inputs([a, b])]
    assert len(fractions) == 10 and fractions == sorted(fractions)
    assert 0 < fractions[0] < 0.5 and fractions[-1] == 1.0
    calls = []
    score_file(KeywordScorer(), [a, b], tmp_path / "o.jsonl", window=4, progress=lambda *x: calls.append(x))
    assert [c[0] for c in calls] == [4, 8, 10] and calls[-1][3] == 1.0


def test_expand_inputs_files_dirs_globs(tmp_path):
    from neutrality_nlp.batch import expand_inputs

    (tmp_path / "a.jsonl").write_text("{}\n")
    (tmp_path / "b.csv").write_text("text\n")
    (tmp_path / "notes.txt").write_text("x")
    literal = tmp_path / "berita [1].jsonl"  # glob characters in a real file name
    literal.write_text("{}\n")
    assert expand_inputs([literal]) == [str(literal)]
    assert expand_inputs([tmp_path / "*.csv"]) == [str(tmp_path / "b.csv")]
    assert expand_inputs([tmp_path]) == sorted(str(tmp_path / n) for n in ("a.jsonl", "b.csv", "berita [1].jsonl"))
    with pytest.raises(FileNotFoundError, match="no files match"):
        expand_inputs([tmp_path / "*.parquet"])
    with pytest.raises(FileNotFoundError, match="input not found"):
        expand_inputs([tmp_path / "missing.jsonl"])


def test_kept_field_named_like_an_output_field_is_refused(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a", "text": "Camat hadir di deklarasi.", "categories": ["x"]}) + "\n")
    with pytest.raises(ValueError, match="--keep-fields categories: an output field has that name"):
        score_file(KeywordScorer(), [src], tmp_path / "out.jsonl", keep_fields=["url", "categories"])
    assert not (tmp_path / "out.jsonl").exists()
