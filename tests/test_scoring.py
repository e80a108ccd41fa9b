"""The output contract and per-record error isolation, independent of any real model."""

from __future__ import annotations

import json

import pytest

from neutrality_nlp.records import RECORD_FIELDS, Evidence, ScoreRecord
from neutrality_nlp.scoring import ModelNotFoundError, Prediction, Scorer, load_scorer, resolve_model_path


class KeywordScorer(Scorer):
    """Scores 0.9 when a text mentions 'deklarasi', raises on 'BOOM', else 0.1."""

    name = "keyword"
    version = "1"
    threshold = 0.5

    def predict(self, texts):
        from neutrality_nlp.text import split_sentences

        out = []
        for t in texts:
            if "BOOM" in t:
                raise RuntimeError("model exploded")
            sents = split_sentences(t)
            scored = [(s.start, s.end, 0.9 if "deklarasi" in s.text else 0.1) for s in sents]
            score = max((s[2] for s in scored), default=0.1)
            out.append(Prediction(score=score, categories={"hadir_deklarasi": score, "lainnya": 0.05},
                                  sentences=scored))
        return out


def test_record_has_every_contract_field_and_roundtrips():
    rec = ScoreRecord(id="a", flagged=True, score=0.8, threshold=0.5, category="media_sosial",
                      categories={"media_sosial": 0.8}, evidence=[Evidence("x", 0.8, 0, 1)], model="m@1",
                      extra={"url": "u"})
    d = rec.to_dict()
    assert list(d)[: len(RECORD_FIELDS)] == list(RECORD_FIELDS)
    assert d["url"] == "u"
    assert ScoreRecord.from_dict(json.loads(rec.to_json())) == rec


def test_scorer_flags_and_gives_evidence_with_original_offsets():
    raw = "JAKARTA, Warta Kita - Camat Ali hadir.\n\nBaca juga: Harga beras naik\n\nIa ikut deklarasi calon bupati."
    rec = KeywordScorer().score_one(raw, id="x1")
    assert rec.id == "x1" and rec.flagged and rec.score == pytest.approx(0.9)
    assert rec.category == "hadir_deklarasi" and rec.model == "keyword@1" and rec.error is None
    best = rec.evidence[0]
    assert "deklarasi" in best.text
    assert raw[best.start:best.end] == best.text


def test_not_flagged_record_has_no_category():
    rec = KeywordScorer().score_one("Harga cabai naik di pasar.")
    assert not rec.flagged and rec.category is None and rec.categories


@pytest.mark.parametrize("bad,msg", [(None, "missing"), ("", "empty"), ("   \n", "empty"), (42, "string"),
                                     ("x" * 2_000_001, "too long")])
def test_bad_inputs_get_error_records(bad, msg):
    scorer = KeywordScorer()
    scorer.max_chars = 2_000_000
    recs = scorer.score(["ada deklarasi calon.", bad, "biasa saja."], ids=["a", "b", "c"])
    assert [r.id for r in recs] == ["a", "b", "c"]
    assert recs[1].error and msg in recs[1].error and recs[1].score is None and not recs[1].flagged
    assert recs[0].flagged and recs[0].error is None and recs[2].error is None


def test_model_failure_is_isolated_to_its_record():
    recs = KeywordScorer().score(["ada deklarasi.", "BOOM here", "biasa."], ids=[1, 2, 3])
    assert recs[0].flagged and recs[2].error is None
    assert "model exploded" in recs[1].error


def test_ids_must_match_texts():
    with pytest.raises(ValueError):
        KeywordScorer().score(["a", "b"], ids=[1])


def test_unknown_model_name_is_a_clear_error():
    with pytest.raises(ModelNotFoundError, match="no-such-model"):
        resolve_model_path("no-such-model")


def test_default_falls_back_to_baseline_when_default_cannot_load(tmp_path, monkeypatch):
    import shutil

    from neutrality_nlp.scoring import models_dir

    shipped = models_dir() / "baseline"
    if not shipped.is_dir():
        pytest.skip("shipped baseline missing")
    shutil.copytree(shipped, tmp_path / "baseline")
    (tmp_path / "default").mkdir()
    (tmp_path / "default" / "neutrality_config.json").write_text('{"mode": "lora", "base_model": "/nonexistent"}')
    monkeypatch.setenv("NEUTRALITY_NLP_MODELS", str(tmp_path))
    scorer = load_scorer("default")
    assert scorer.name == "baseline"
    assert getattr(scorer, "fallback_reason", "")
