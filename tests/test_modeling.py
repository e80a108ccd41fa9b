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


def test_config_predates_added_keys():
    from neutrality_nlp.training_args import ADDED_KEYS

    saved = TrainingConfig().to_dict()
    assert TrainingConfig.predates(saved) == {}
    v020 = {k: v for k, v in saved.items() if k != "buried_actor_only"}
    assert TrainingConfig.predates(v020) == {"buried_actor_only": False}
    v010 = {k: v for k, v in v020.items() if k != "buried_evidence"}
    assert TrainingConfig.predates(v010) == {"buried_evidence": 0, "buried_actor_only": False}
    assert TrainingConfig.predates({"epochs": 2}) == {}  # hand-written: today's defaults are meant
    # a key whose default is the old behaviour needs no warning (0.3.0's config lacks extra_corpora_sizes)
    v030 = {k: v for k, v in saved.items() if k != "extra_corpora_sizes"}
    assert TrainingConfig.predates(v030) == {}
    # A key added to TrainingConfig must also go into ADDED_KEYS, or old saved configs get today's default
    # silently: the keys of the first saved config (model 0.1.0's) plus ADDED_KEYS are all the keys.
    first = set("""
        base_model batch_size category_loss_weight dev_file epochs extra_corpora freeze_embeddings
        gradient_accumulation_steps head_learning_rate learning_rate logging_steps lora_alpha
        lora_dropout lora_r lora_target_modules max_length max_train_records mode name num_threads
        output_dir partisan_loss_weight pos_weight precision push_to_hub seed sentence_negatives stride
        test_file text_prefix train_file version warmup_ratio weight_decay
    """.split())
    assert set(saved) == first | set(ADDED_KEYS)


def test_card_markdown_lists_later_evaluations(tmp_path):
    from neutrality_nlp.evaluation import record_in_card
    from neutrality_nlp.modeling import render_card_markdown

    card = {"kind": "transformer", "name": "m", "version": "1.0.0", "base_model": "b", "mode": "lora",
            "max_length": 64, "stride": 16, "threshold": 0.5, "training": {"command": "c", "counts": {}},
            "metrics": {}}
    (tmp_path / "model_card.json").write_text(json.dumps(card))
    data = tmp_path / "test.jsonl"
    data.write_text('{"id": "a", "text": "x", "flag": 1}\n')
    report = {"n": 1, "positives": 1, "precision": 1.0, "recall": 1.0, "f1": 1.0, "pr_auc": 1.0,
              "dense_negative_fp": 0, "dense_negative_n": 0, "per_genre_f1": {}}
    entry = record_in_card(tmp_path, report, [data], "neutrality-nlp evaluate test.jsonl")
    assert "per_genre_f1" not in entry["metrics"]
    text = (tmp_path / "README.md").read_text()
    assert text == render_card_markdown(json.loads((tmp_path / "model_card.json").read_text()))
    assert "## Later evaluations" in text and entry["data"][0]["sha256"][:12] in text and "test.jsonl" in text


def _untrained_scorer(tiny_bert, **kwargs):
    import torch
    from transformers import AutoModel, AutoTokenizer

    from neutrality_nlp.modeling import NeutralityHeads

    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(tiny_bert)
    enc = AutoModel.from_pretrained(tiny_bert)
    return TransformerScorer(enc, NeutralityHeads(enc.config.hidden_size), tok, base_model=str(tiny_bert),
                             max_length=32, stride=8, **kwargs)


TEXTS = ["Camat hadir dalam deklarasi pasangan calon bupati nomor urut dua di lapangan kecamatan pada Senin pagi "
         "bersama ratusan simpatisan dan tim pemenangan.", "Harga cabai naik.", "Guru PNS mengunggah foto calon."]


def test_pipeline_wrapper_reproduces_window_scores(tiny_bert):
    from transformers import pipeline

    scorer = _untrained_scorer(tiny_bert)
    windows = scorer.windower(TEXTS)
    ours, _ = scorer.forward_windows([w.input_ids for w in windows])
    pipe = pipeline("text-classification", model=scorer.as_sequence_classifier(), tokenizer=scorer.tokenizer,
                    device=-1)
    outs = pipe([TEXTS[w.doc][w.start:w.end] for w in windows], batch_size=2, truncation=True, max_length=32)
    assert [o["label"] for o in outs] == ["asn_partisan"] * len(windows)
    assert [o["score"] for o in outs] == pytest.approx(list(ours), abs=1e-5)


def test_reduced_precisions_keep_scores_close(tiny_bert):
    import torch

    from neutrality_nlp.modeling import _bf16_supported

    fp32 = _untrained_scorer(tiny_bert, precision="fp32")
    assert fp32.precision == "fp32"
    assert _untrained_scorer(tiny_bert).precision == "fp32"  # auto is exact on a CPU
    a = [p.score for p in fp32.predict(TEXTS, evidence=False)]
    int8 = _untrained_scorer(tiny_bert, precision="int8")
    assert any(isinstance(m, torch.ao.nn.quantized.dynamic.Linear) for m in int8.encoder.modules())
    assert [p.score for p in int8.predict(TEXTS, evidence=False)] == pytest.approx(a, abs=0.02)
    if _bf16_supported(cuda=False):
        bf16 = _untrained_scorer(tiny_bert, precision="bf16")
        assert [p.score for p in bf16.predict(TEXTS, evidence=False)] == pytest.approx(a, abs=0.02)
    else:
        with pytest.raises(ValueError, match="bf16"):
            _untrained_scorer(tiny_bert, precision="bf16")
    with pytest.raises(ValueError, match="precision must be one of"):
        _untrained_scorer(tiny_bert, precision="int4")


def test_training_windows_label_acts_not_documents(tiny_bert):
    from transformers import AutoTokenizer

    from neutrality_nlp.modeling import training_windows

    tok = AutoTokenizer.from_pretrained(tiny_bert)
    filler = "Harga cabai di pasar induk naik dua kali lipat sejak pekan lalu akibat cuaca buruk. " * 5
    act = "Camat Lembah Hijau hadir dalam deklarasi pasangan calon bupati nomor urut 2."
    pos = {"text": filler + act + " " + filler, "flag": 1, "categories": ["hadir_deklarasi"], "evidence": [act]}
    neg = {"text": "Bawaslu mengingatkan ASN agar netral dalam pilkada. PNS dilarang hadir di deklarasi calon. "
                   "Harga cabai naik lagi.", "flag": 0, "categories": [], "negative_type": "regulasi"}
    cleared = dict(neg, boundary="dugaan_tidak_terbukti")
    w = Windower(tok, max_length=32, stride=8)
    cols = training_windows([pos, neg, cleared], w, sentence_negatives=2)
    n_pos_windows = len([x for x in w([pos["text"]])])
    doc_labels = cols["flag_labels"][:n_pos_windows]
    assert 0 < sum(doc_labels) < n_pos_windows  # only the windows holding the act are positive
    tail = cols["flag_labels"][-2:]
    assert tail == [0.0, 0.0]  # two sentence negatives from `neg`, none from the cleared allegation
    decoded = [tok.decode(ids, skip_special_tokens=True) for ids in cols["input_ids"][-2:]]
    assert any("dilarang" in d for d in decoded)  # dense sentences first
    assert cols["flag_labels"].count(1.0) == sum(doc_labels) + 1  # + the evidence sentence on its own


def test_windows_start_and_end_on_word_boundaries(tiny_bert):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_bert)
    text = " ".join(["Camat Lembah-Hijau menghadiri deklarasi paslon, katanya (sumber: warga)."] * 10)
    w = Windower(tok, max_length=32, stride=8)
    windows = w([text])
    assert len(windows) > 3 and windows[-1].end == len(text)
    for win in windows:
        piece = text[win.start:win.end]
        assert win.start == 0 or text[win.start - 1] == " " or piece[0] == " "
        # re-tokenising the window's text gives the window's tokens (what a text pipeline would see)
        assert w([piece])[0].input_ids == win.input_ids


def test_buried_evidence_sits_among_rule_sentences(tiny_bert):
    import random

    from transformers import AutoTokenizer

    from neutrality_nlp.modeling import bury_evidence, training_windows

    host = [f"Aturan nomor {i} melarang PNS memberikan dukungan kepada calon dalam bentuk apa pun." for i in range(12)]
    act = "Dugaan kuat saya ada beberapa ASN ikut mengantar bakal calon mendaftar ke KPU."
    rng = random.Random(0)
    for _ in range(20):
        text, s0, s1 = bury_evidence(act, host, rng, budget_tokens=60)
        assert text[s0:s1] in (act, act.rstrip("."))
        assert text[:s0].strip() and text[s1:].strip()  # host sentences on both sides
        assert len(text) <= 5 * 60 + 2 * len(host[0])

    tok = AutoTokenizer.from_pretrained(tiny_bert)
    pos = {"text": "Laporan warga. " + act, "flag": 1, "categories": ["hadir_deklarasi"], "evidence": [act]}
    neg = {"text": " ".join(host), "flag": 0, "categories": [], "negative_type": "regulasi"}
    cleared = dict(neg, text="Bawaslu menyatakan dugaan itu tidak terbukti. " * 5, boundary="dugaan_tidak_terbukti")
    w = Windower(tok, max_length=64, stride=8)
    plain = training_windows([pos, neg, cleared], w, sentence_negatives=0)
    buried = training_windows([pos, neg, cleared], w, sentence_negatives=0, buried_evidence=1)
    extra = buried["input_ids"][len(plain["input_ids"]):]
    assert extra and buried["flag_labels"][len(plain["input_ids"]):] == [1.0] * len(extra)
    decoded = [tok.decode(ids, skip_special_tokens=True).replace(" ##", "") for ids in extra]
    assert all("aturan" in d and "kpu" in d and "terbukti" not in d for d in decoded)  # never a cleared host
    assert buried["category_labels"][-1][CATEGORIES.index("hadir_deklarasi")] == 1.0


def test_buried_actor_only_keeps_acts_that_name_their_actor(tiny_bert):
    from transformers import AutoTokenizer

    from neutrality_nlp.modeling import training_windows

    host = " ".join(f"Aturan nomor {i} melarang PNS memberikan dukungan kepada calon." for i in range(12))
    named = "Staf kelurahan membagikan stiker paslon nomor dua kepada warga."
    unnamed = "Dalam video itu ia memakai kaos paslon dan ikut meneriakkan yel-yel."
    recs = [{"text": "Seorang PNS dilaporkan. " + unnamed, "flag": 1, "categories": ["peserta_kampanye"],
             "evidence": [unnamed]},
            {"text": "Laporan warga. " + named, "flag": 1, "categories": ["peserta_kampanye"], "evidence": [named]},
            {"text": host, "flag": 0, "categories": [], "negative_type": "regulasi"}]
    tok = AutoTokenizer.from_pretrained(tiny_bert)
    w = Windower(tok, max_length=64, stride=8)
    plain = len(training_windows(recs, w, sentence_negatives=0)["input_ids"])

    def buried(actor_only: bool) -> list[str]:
        cols = training_windows(recs, w, sentence_negatives=0, buried_evidence=1, buried_actor_only=actor_only)
        return [tok.decode(ids, skip_special_tokens=True).replace(" ##", "") for ids in cols["input_ids"][plain:]]

    every, only = buried(False), buried(True)
    assert any("yel" in d for d in every) and any("stiker" in d for d in every)
    assert only and all("stiker" in d and "yel" not in d for d in only)


def test_training_precision_follows_hardware():
    from neutrality_nlp.modeling import _bf16_supported, training_precision

    assert training_precision("fp32", cuda=False) == "fp32"
    assert training_precision("auto", cuda=False) == ("bf16" if _bf16_supported(cuda=False) else "fp32")
    with pytest.raises(ValueError, match="fp16 training needs a GPU"):
        training_precision("fp16", cuda=False)


def test_extra_corpora_sizes_choose_how_many_negatives(tmp_path):
    from neutrality_nlp.corpora import TRAINING_SOURCES, corpora_dir
    from neutrality_nlp.trainer import load_training_data

    train = tmp_path / "train.jsonl"
    from tests.conftest import MINI

    train.write_text(MINI.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(ValueError, match="unknown corpus nope"):
        load_training_data(train, train, extra_corpora_sizes={"nope": 3})
    if not corpora_dir().is_dir():
        pytest.skip("../shared/corpora not present")
    sizes = {name: 0 for name in TRAINING_SOURCES} | {"pemilu2024_tweets": 7, "nusax": 2}
    records, _, _ = load_training_data(train, train, extra_corpora_sizes=sizes)
    extra = [r for r in records if r.get("source", "").startswith("corpus:")]
    assert sorted(r["source"] for r in extra) == ["corpus:nusax"] * 2 + ["corpus:pemilu2024_tweets"] * 7
    assert all(r["flag"] == 0 for r in extra)
