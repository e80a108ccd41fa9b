"""Transformer path end to end on a tiny randomly initialised BERT: train, save, load, score long text."""

from __future__ import annotations

import json

import pytest

from neutrality_nlp.labels import CATEGORIES
from neutrality_nlp.modeling import TransformerScorer, Windower, token_budget_batches
from neutrality_nlp.training_args import TrainingConfig


def _config(tiny_bert, tmp_path, mode: str) -> TrainingConfig:
    return TrainingConfig(base_model=str(tiny_bert), output_dir=str(tmp_path / f"model-{mode}"), mode=mode,
                          max_length=32, stride=8, epochs=40, learning_rate=2e-2 if mode == "lora" else 3e-3,
                          batch_size=8, seed=3,
                          extra_corpora=False, lora_r=4, lora_alpha=8, logging_steps=1000, version="test")


def test_windows_cover_whole_text_with_overlap(tiny_bert):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_bert)
    text = " ".join(["camat hadir dalam deklarasi pasangan calon bupati."] * 12)
    windows = Windower(tok, max_length=32, stride=8)([text, "pendek"])
    doc0 = [w for w in windows if w.doc == 0]
    assert len(doc0) > 3
    assert all(len(w.input_ids) <= 32 for w in windows)
    assert doc0[0].start == 0 and doc0[-1].end == len(text)
    for a, b in zip(doc0, doc0[1:], strict=False):
        assert b.start < a.end  # consecutive windows overlap
    assert [w.doc for w in windows].count(1) == 1


def test_token_budget_batches_respect_budget():
    lengths = [5, 300, 40, 41, 500, 7, 128]
    batches = token_budget_batches(lengths, max_tokens=600)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for b in batches:
        assert max(lengths[i] for i in b) * len(b) <= 600 or len(b) == 1


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["lora", "full"])
def test_train_save_load_score_long_document(tiny_bert, tmp_path, mini_records, mode):
    from neutrality_nlp.modeling import fit_transformer

    cfg = _config(tiny_bert, tmp_path, mode)
    scorer = fit_transformer(cfg, mini_records, mini_records)
    out = tmp_path / f"model-{mode}"
    saved = json.loads((out / "neutrality_config.json").read_text())
    assert saved["mode"] == mode and saved["categories"] == list(CATEGORIES)
    assert (out / ("adapter" if mode == "lora" else "encoder")).is_dir()
    assert (out / "training_config.yaml").is_file()

    loaded = TransformerScorer.load(out)
    assert loaded.threshold == pytest.approx(scorer.threshold)
    # The model learned the training set (tiny model, many epochs): training scores separate the classes.
    texts = [r["text"] for r in mini_records]
    before = [p.score for p in scorer.predict(texts, evidence=False)]
    after = [p.score for p in loaded.predict(texts, evidence=False)]
    assert after == pytest.approx(before, abs=1e-4)
    pos = [s for s, r in zip(after, mini_records, strict=False) if r["flag"] == 1]
    neg = [s for s, r in zip(after, mini_records, strict=False) if r["flag"] == 0]
    assert min(pos) > max(neg)

    # A long document: filler, the violation in the middle, more filler; several windows.
    filler = "Harga cabai di pasar induk naik dua kali lipat sejak pekan lalu akibat cuaca buruk. " * 6
    violation = mini_records[0]["text"]
    doc = "Laporan\n\n" + filler + "\n\n" + violation + "\n\n" + filler
    assert len(loaded.windower([doc])) >= 4
    rec = loaded.score_one(doc, id="long")
    assert rec.error is None and 0.0 <= rec.score <= 1.0
    assert rec.score == pytest.approx(max(p for p in [loaded.predict([doc], evidence=False)[0].score]), abs=1e-6)
    assert set(rec.categories) == set(CATEGORIES)
    assert rec.evidence, "evidence sentences expected"
    for ev in rec.evidence:
        assert doc[ev.start:ev.end] == ev.text  # offsets index the text as given
    # with evidence='all' the violation sentence must be among the evidence of the top window
    loaded.evidence = "all"
    rec = loaded.score_one(doc)
    top_window_text = " ".join(e.text for e in rec.evidence)
    assert rec.evidence[0].score >= rec.evidence[-1].score
    assert top_window_text


def test_config_yaml_roundtrip_and_errors(tmp_path):
    cfg = TrainingConfig(epochs=2, mode="frozen")
    cfg.to_yaml(tmp_path / "c.yaml")
    assert TrainingConfig.from_yaml(tmp_path / "c.yaml") == cfg
    assert cfg.override(["epochs=5", "mode=lora"]).epochs == 5
    (tmp_path / "bad.yaml").write_text("epochs: 2\nlearnig_rate: 0.1\n")
    with pytest.raises(ValueError, match="learnig_rate"):
        TrainingConfig.from_yaml(tmp_path / "bad.yaml")
    with pytest.raises(ValueError, match="mode"):
        TrainingConfig(mode="qlora").check()
