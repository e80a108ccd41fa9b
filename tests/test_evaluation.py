"""Metrics, threshold choice and the paired bootstrap."""

from __future__ import annotations

import numpy as np
import pytest

from neutrality_nlp.evaluation import (
    binary_metrics,
    choose_threshold,
    evaluate,
    evidence_hits,
    gold_spans,
    paired_bootstrap,
)


def test_choose_threshold_maximises_f1_between_scores():
    y = [0, 0, 1, 0, 1, 1]
    s = [0.1, 0.2, 0.35, 0.4, 0.8, 0.9]
    t = choose_threshold(y, s)
    # Flagging {0.8, 0.9} gives F1 0.8; {0.35, 0.4, 0.8, 0.9} gives 6/7 ≈ 0.857, the best.
    assert t == pytest.approx((0.2 + 0.35) / 2)
    assert binary_metrics(y, s, t)["f1"] == pytest.approx(6 / 7, abs=1e-4)


def test_choose_threshold_ties_go_to_fewer_false_positives():
    y = [1, 0, 0, 1]
    s = [0.9, 0.8, 0.7, 0.6]
    # Flagging {0.9} and flagging all four both give F1 2/3; the higher threshold wins.
    assert choose_threshold(y, s) == pytest.approx(0.85)
    assert choose_threshold([1, 1], [0.2, 0.7]) == 0.5  # one class only


def test_binary_metrics_counts():
    m = binary_metrics([1, 1, 0, 0, 1], [0.9, 0.2, 0.7, 0.1, 0.6], 0.5)
    assert m["confusion"] == {"tp": 2, "fp": 1, "fn": 1, "tn": 1}
    assert m["precision"] == pytest.approx(2 / 3, abs=1e-4) and m["recall"] == pytest.approx(2 / 3, abs=1e-4)


def test_evaluate_counts_false_positives_per_negative_type():
    recs = [
        {"flag": 1, "categories": ["hadir_deklarasi"], "genre": "berita"},
        {"flag": 0, "negative_type": "sosialisasi", "genre": "berita"},
        {"flag": 0, "negative_type": "sosialisasi", "genre": "berita"},
        {"flag": 0, "negative_type": "regulasi", "genre": "opini"},
    ]
    r = evaluate(recs, [0.9, 0.8, 0.1, 0.2], 0.5)
    assert r["per_negative_type"]["sosialisasi"] == {"n": 2, "fpr": 0.5, "fp": 1}
    assert r["per_negative_type"]["regulasi"]["fp"] == 0
    assert r["hard_negative_fp"] == 1 and r["hard_negative_fpr"] == pytest.approx(1 / 3, abs=1e-4)
    assert r["per_category"]["hadir_deklarasi"] == {"n": 1, "flag_recall": 1.0, "fn": 0}


def test_paired_bootstrap_identical_systems_never_differ():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 200)
    s = rng.random(200)
    b = paired_bootstrap(y, {"a": (s, 0.5), "b": (s.copy(), 0.5)}, n_boot=300)
    d = b["diff"]["a - b"]
    assert d == {"diff": 0.0, "low": 0.0, "high": 0.0, "p_a_better": 0.0}
    assert b["f1"]["a"]["f1"] == binary_metrics(y, s, 0.5)["f1"]
    assert b["f1"]["a"]["low"] < b["f1"]["a"]["f1"] < b["f1"]["a"]["high"]


def test_paired_bootstrap_separates_a_better_system_and_is_seeded():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 300)
    good = np.where(y == 1, 0.8, 0.2) + rng.normal(0, 0.1, 300)  # nearly separable
    noisy = rng.random(300)
    systems = {"good": (good, 0.5), "noisy": (noisy, 0.5)}
    b = paired_bootstrap(y, systems, n_boot=500, seed=7)
    d = b["diff"]["good - noisy"]
    assert d["low"] > 0 and d["p_a_better"] == 1.0
    assert paired_bootstrap(y, systems, n_boot=500, seed=7) == b
    assert paired_bootstrap(y, systems, n_boot=500, seed=8) != b


def test_paired_bootstrap_rejects_mismatched_scores():
    with pytest.raises(ValueError, match="3 scores for 2 labels"):
        paired_bootstrap([0, 1], {"a": ([0.1, 0.2, 0.3], 0.5)})


def test_evidence_hits_count_only_correctly_flagged_positives():
    text = "Rapat dinas biasa. Camat itu membagikan kaus paslon kepada warga. Acara selesai sore."
    act = "Camat itu membagikan kaus paslon kepada warga."
    i = text.index(act)
    pos = {"text": text, "flag": 1, "evidence": [act]}
    assert gold_spans(pos) == [(i, i + len(act))]
    first = (0, text.index(".") + 1)
    records = [pos, pos, pos, {"text": text, "flag": 0, "evidence": []}]
    flagged = [True, True, False, True]  # the third is a miss, the fourth a false positive: neither counts
    evidence = [
        [(i, i + len(act) - 1)],             # the act (a sentence cut one character shorter): a hit
        [first, (i + 5, i + len(act) + 8)],  # the act only second (and overlapping the next sentence)
        [(i, i + len(act))],
        [(i, i + len(act))],
    ]
    r = evidence_hits(records, flagged, evidence)
    assert r == {"evidence_hit_at_1": 0.5, "evidence_hit_at_3": 1.0, "evidence_n": 2}
    assert evidence_hits([pos], [True], [[first]])["evidence_hit_at_3"] == 0.0
    assert evidence_hits([pos], [True], [[]])["evidence_hit_at_1"] == 0.0  # flagged with no evidence: a miss
    assert evidence_hits([pos], [False], [[]])["evidence_hit_at_1"] is None
