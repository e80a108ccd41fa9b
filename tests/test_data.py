"""Corpus schema, loaders with clear errors, splits without leakage, generated dataset card."""

from __future__ import annotations

import json

import pytest

from neutrality_nlp import data as d


def test_validate_record_names_fields(mini_records):
    assert d.validate_record(mini_records[0]) == []
    bad = dict(mini_records[0], flag=2, categories=["nope"], evidence=["not in text"])
    fields = {f for f, _ in d.validate_record(bad)}
    assert {"flag", "categories", "evidence"} <= fields
    neg = dict(mini_records[-1], negative_type=None)
    assert ("negative_type" in {f for f, _ in d.validate_record(neg)})


def test_loaders_name_line_and_field(tmp_path):
    p = tmp_path / "u.jsonl"
    p.write_text('{"text": "a", "flag": 1}\n\n{"text": "b", "flag": "x"}\n')
    with pytest.raises(d.DataError, match=r"line 3, field 'flag'"):
        d.load_records(p)
    p.write_text('{"text": "a", "flag": 1}\n{oops\n')
    with pytest.raises(d.DataError, match="line 2: invalid JSON"):
        d.load_records(p)
    c = tmp_path / "u.csv"
    c.write_text("isi,label\nhalo,1\n,0\n")
    with pytest.raises(d.DataError, match=r"line 3, field 'text'"):
        d.load_records(c, text_field="isi", label_field="label")
    c.write_text("isi,label,categories\nhalo,1,media_sosial|foto_simbol\n")
    rec = d.load_records(c, text_field="isi", label_field="label")[0]
    assert rec["flag"] == 1 and rec["categories"] == ["media_sosial", "foto_simbol"]


def test_to_dataset(mini_records):
    ds = d.to_dataset(mini_records)
    assert len(ds) == len(mini_records)
    assert len(ds[0]["category_labels"]) == 10 and ds[0]["flag"] == 1


def test_augment_keeps_evidence_consistent():
    import random

    rec = {"id": "x", "text": "Camat di Bima hadir saat paslon nomor urut 2 mendaftar.",
           "region": "Kabupaten Bima, NTB",
           "evidence": ["Camat di Bima hadir saat paslon nomor urut 2 mendaftar."]}
    a = d.augment(rec, random.Random(0))
    assert a is not None and "Bima" not in a["text"] and a["augmented_from"] == "x"
    assert all(e in a["text"] for e in a["evidence"]) and "region:Bima->" in a["augmentation"]


def test_near_duplicates_grouped():
    recs = [{"id": "a", "text": "Camat Lembah Hijau hadir dalam deklarasi pasangan calon bupati nomor urut 2."},
            {"id": "b", "text": "Camat Lembah Hijau hadir dalam deklarasi pasangan calon bupati nomor urut 3."},
            {"id": "c", "text": "Harga cabai di pasar induk naik dua kali lipat sejak pekan lalu."}]
    d.assign_groups(recs)
    assert recs[0]["group"] == recs[1]["group"] != recs[2]["group"]


def _write(path, records):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def test_heldout_records_stay_out_of_the_hashed_splits(mini_records, tmp_path):
    corpus = [dict(r, id=f"w1-{i:04d}") for i, r in enumerate(mini_records)]
    _write(tmp_path / "raw" / "w1.jsonl", corpus)
    fresh = dict(mini_records[-1], id="h1-0001",
                 text="Jadwal kapal cepat Ternate–Tidore berubah mulai Senin karena ombak tinggi di selat.")
    _write(tmp_path / "heldout" / "h1.jsonl", [fresh])
    d.build_corpus(tmp_path, augment_share=0.0)
    before = {s: d.split_path(s, tmp_path).read_text() for s in d.HASHED_SPLITS}
    held = d.load_split("heldout", tmp_path)
    assert [r["id"] for r in held] == ["h1-0001"] and held[0]["split"] == "heldout"
    assert all(r["split"] in d.HASHED_SPLITS for s in d.HASHED_SPLITS for r in d.load_split(s, tmp_path))
    assert "The held-out splits are" in (tmp_path / "README.md").read_text()
    assert d.load_split("heldout_long", tmp_path) == []
    # the hashed splits do not depend on the held-out set
    (tmp_path / "heldout" / "h1.jsonl").unlink()
    d.build_corpus(tmp_path, augment_share=0.0)
    assert {s: d.split_path(s, tmp_path).read_text() for s in d.HASHED_SPLITS} == before
    assert d.load_split("heldout", tmp_path) == []


@pytest.mark.parametrize("folder", ["heldout", "heldout_long"])
def test_heldout_near_duplicate_of_corpus_is_refused(mini_records, tmp_path, folder):
    corpus = [dict(r, id=f"w1-{i:04d}") for i, r in enumerate(mini_records)]
    _write(tmp_path / "raw" / "w1.jsonl", corpus)
    _write(tmp_path / folder / "h1.jsonl", [dict(corpus[0], id="h1-0001")])
    with pytest.raises(d.DataError, match=r"1 held-out record\(s\) are near-duplicates.*h1-0001 \(cosine 1.00\)"):
        d.build_corpus(tmp_path)
    assert not d.split_path("heldout", tmp_path).exists()


# -- the project corpus -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def splits():
    if not d.split_path("train").is_file():
        pytest.skip("corpus not built")
    return {s: d.load_split(s) for s in d.SPLITS}


def test_corpus_passes_checks(splits):
    assert d.validate_files(d.raw_files()) == []
    assert d.corpus_checks() == []


def test_no_near_duplicates_across_splits(splits):
    train = [r["text"] for r in splits["train"]]
    for other in ("dev", "test"):
        sims = d.cross_similarity([r["text"] for r in splits[other]], train)
        assert sims.max() < d.NEAR_DUPLICATE, f"{other} has a near-duplicate in train (cos {sims.max():.2f})"
    sims = d.cross_similarity([r["text"] for r in splits["test"]], [r["text"] for r in splits["dev"]])
    assert sims.max() < d.NEAR_DUPLICATE
    # the build's rule: no held-out record near a written train/dev/test record
    corpus = [r for s in d.HASHED_SPLITS for r in splits[s] if not r.get("augmented_from")]
    for name in d.HELDOUT_SETS:
        assert d.heldout_leaks(splits[name], corpus) == []


def test_augmented_records_stay_with_their_original(splits):
    where = {r["id"]: s for s in d.SPLITS for r in splits[s]}
    for s in d.SPLITS:
        for r in splits[s]:
            if r.get("augmented_from"):
                assert where[r["augmented_from"]] == s == "train"


def test_dataset_card_is_generated_from_data(splits, tmp_path):
    records = [r for s in d.SPLITS for r in splits[s]]
    d.write_dataset_card(records, tmp_path / "card.md")
    assert (tmp_path / "card.md").read_text() == (d.data_dir() / "README.md").read_text()
    assert json.dumps(d.corpus_stats(records))
