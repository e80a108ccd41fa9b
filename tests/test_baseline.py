"""The TF-IDF baseline: fit, threshold, categories, safe save/load."""

from __future__ import annotations

import pytest

from neutrality_nlp.baseline import BaselineModel


@pytest.fixture(scope="module")
def fitted(mini_records):
    texts = [r["text"] for r in mini_records]
    model = BaselineModel(c=10.0).fit(texts, [r["flag"] for r in mini_records],
                                      [r["categories"] for r in mini_records])
    model.calibrate_threshold(texts, [r["flag"] for r in mini_records])
    return model


def test_baseline_separates_training_data(fitted, mini_records):
    probs = fitted.predict_proba([r["text"] for r in mini_records])
    pos = [p for p, r in zip(probs, mini_records, strict=False) if r["flag"]]
    neg = [p for p, r in zip(probs, mini_records, strict=False) if not r["flag"]]
    assert min(pos) > max(neg)
    assert 0 < fitted.threshold < 1


def test_baseline_categories(fitted):
    cats = fitted.predict_categories(["Guru PNS mengunggah foto bersama calon wali kota sambil acungkan dua jari."])[0]
    assert cats and max(cats, key=cats.get) in ("foto_simbol", "media_sosial")


def test_save_load_roundtrip_identical(fitted, tmp_path, mini_records):
    fitted.save(tmp_path / "m", card={"note": "test"})
    loaded = BaselineModel.load(tmp_path / "m")
    texts = [r["text"] for r in mini_records]
    assert loaded.predict_proba(texts) == pytest.approx(fitted.predict_proba(texts))
    assert loaded.threshold == fitted.threshold
    assert loaded.card["note"] == "test" and loaded.card["threshold"] == fitted.threshold
    rec = loaded.score_one(texts[0])
    assert rec.model == "baseline@0.1.0" and rec.evidence


def test_load_refuses_untrusted_types(fitted, tmp_path, monkeypatch):
    import neutrality_nlp.baseline as b

    fitted.save(tmp_path / "m")
    monkeypatch.setattr(b, "_TRUSTED_PREFIXES", ("numpy.",))
    with pytest.raises(ValueError, match="untrusted"):
        BaselineModel.load(tmp_path / "m")


def test_unfitted_model_errors():
    with pytest.raises(RuntimeError, match="not fitted"):
        BaselineModel().predict_proba(["x"])
