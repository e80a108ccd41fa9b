"""Metrics for flag and category prediction, and threshold selection on a dev split."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neutrality_nlp.labels import BOUNDARIES, CATEGORIES, NEGATIVE_TYPES

#: Negative types whose false-positive rate the project tracks separately (the hardest negatives).
HARD_NEGATIVE_TYPES: tuple[str, ...] = ("sosialisasi", "regulasi")


def choose_threshold(y_true: Sequence[int], scores: Sequence[float], *, beta: float = 1.0) -> float:
    """The threshold that maximises F-beta on ``(y_true, scores)``.

    Candidate thresholds are the midpoints between consecutive distinct scores, so the chosen value
    does not sit exactly on a training example's score. Ties go to the higher threshold (fewer false
    positives). Returns 0.5 when the split has no positives or no negatives.
    """
    y = np.asarray(y_true, dtype=int)
    s = np.asarray(scores, dtype=float)
    if y.size == 0 or y.min() == y.max():
        return 0.5
    distinct = np.unique(s)
    candidates = np.concatenate([(distinct[:-1] + distinct[1:]) / 2, [0.5]])
    best_t, best_f = 0.5, -1.0
    b2 = beta * beta
    for t in np.sort(candidates):
        pred = s >= t
        tp = int(np.sum(pred & (y == 1)))
        fp = int(np.sum(pred & (y == 0)))
        fn = int(np.sum(~pred & (y == 1)))
        denom = (1 + b2) * tp + b2 * fn + fp
        f = (1 + b2) * tp / denom if denom else 0.0
        if f >= best_f:
            best_t, best_f = float(t), f
    return best_t


def binary_metrics(y_true: Sequence[int], scores: Sequence[float], threshold: float) -> dict[str, Any]:
    """Precision, recall, F1, PR-AUC (average precision), accuracy and the confusion matrix."""
    from sklearn.metrics import average_precision_score

    y = np.asarray(y_true, dtype=int)
    s = np.asarray(scores, dtype=float)
    pred = s >= threshold
    tp = int(np.sum(pred & (y == 1)))
    fp = int(np.sum(pred & (y == 0)))
    fn = int(np.sum(~pred & (y == 1)))
    tn = int(np.sum(~pred & (y == 0)))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    pr_auc = float(average_precision_score(y, s)) if 0 < y.sum() < y.size else float("nan")
    return {
        "n": int(y.size),
        "positives": int(y.sum()),
        "threshold": float(threshold),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "pr_auc": round(pr_auc, 4),
        "accuracy": round((tp + tn) / y.size, 4) if y.size else 0.0,
        "confusion": {"tp": tp, "fp": fp, "fn": fn, "tn": tn},
    }


def evaluate(
    records: Sequence[dict[str, Any]],
    scores: Sequence[float],
    threshold: float,
    category_probs: Sequence[dict[str, float]] | None = None,
    evidence: Sequence[Sequence[tuple[int, int]]] | None = None,
) -> dict[str, Any]:
    """Full report for labelled corpus records (see ``data/CODEBOOK.md`` for their fields).

    Returns overall binary metrics plus:
      - ``per_category``: recall of the flag among positives of each category, and (with a category
        head) whether the category is among the predicted top two;
      - ``per_category`` also counts the positives missed (``fn``);
      - ``per_negative_type``: false-positive rate and count per ``negative_type``;
      - ``per_boundary_negative``: false positives among the negatives of each codebook boundary case
        (cleared allegations, non-ASN actors, passive attendance, …);
      - ``hard_negative_fpr`` / ``hard_negative_fp``: false-positive rate and count on socialisation +
        regulation texts;
      - ``dense_negative_fpr`` / ``dense_negative_fp``: the same on every negative dense with ASN and
        election vocabulary (:func:`neutrality_nlp.data.is_hard_negative`);
      - ``per_genre_f1``: F1 per genre;
      - with ``evidence`` (each record's predicted evidence sentences as ``(start, end)`` offsets into its
        ``text``, best first): ``evidence_hit_at_1`` / ``evidence_hit_at_3``, the share of correctly flagged
        positives whose first / any of the first three evidence sentences is a gold evidence sentence
        (:func:`evidence_hits`), over ``evidence_n`` such records.
    """
    from neutrality_nlp.data import is_hard_negative

    y = np.array([int(r["flag"]) for r in records])
    s = np.asarray(scores, dtype=float)
    report = binary_metrics(y, s, threshold)
    pred = s >= threshold

    per_cat: dict[str, Any] = {}
    for code in CATEGORIES:
        idx = [i for i, r in enumerate(records) if r["flag"] == 1 and code in (r.get("categories") or [])]
        if not idx:
            continue
        entry: dict[str, Any] = {"n": len(idx), "flag_recall": round(float(np.mean(pred[idx])), 4),
                                 "fn": int(np.sum(~pred[idx]))}
        if category_probs:
            top2 = [_top_k(category_probs[i], 2) for i in idx]
            entry["in_top2"] = round(float(np.mean([code in t for t in top2])), 4)
            main = [i for i in idx if (records[i].get("categories") or [None])[0] == code]
            if main:
                entry["main_is_top1"] = round(
                    float(np.mean([_top_k(category_probs[i], 1) == [code] for i in main])), 4
                )
        per_cat[code] = entry
    report["per_category"] = per_cat

    per_neg: dict[str, Any] = {}
    for nt in NEGATIVE_TYPES:
        idx = [i for i, r in enumerate(records) if r["flag"] == 0 and r.get("negative_type") == nt]
        if idx:
            per_neg[nt] = {"n": len(idx), "fpr": round(float(np.mean(pred[idx])), 4), "fp": int(np.sum(pred[idx]))}
    report["per_negative_type"] = per_neg
    per_boundary: dict[str, Any] = {}
    for b in BOUNDARIES:
        idx = [i for i, r in enumerate(records) if r["flag"] == 0 and r.get("boundary") == b]
        if idx:
            per_boundary[b] = {"n": len(idx), "fp": int(np.sum(pred[idx]))}
    report["per_boundary_negative"] = per_boundary
    hard = [i for i, r in enumerate(records) if r["flag"] == 0 and r.get("negative_type") in HARD_NEGATIVE_TYPES]
    report["hard_negative_fpr"] = round(float(np.mean(pred[hard])), 4) if hard else None
    report["hard_negative_fp"] = int(np.sum(pred[hard])) if hard else 0
    dense = [i for i, r in enumerate(records) if is_hard_negative(r)]
    report["dense_negative_fpr"] = round(float(np.mean(pred[dense])), 4) if dense else None
    report["dense_negative_fp"] = int(np.sum(pred[dense])) if dense else 0
    report["dense_negative_n"] = len(dense)

    per_genre: dict[str, Any] = {}
    for genre in sorted({r.get("genre") for r in records if r.get("genre")}):
        idx = [i for i, r in enumerate(records) if r.get("genre") == genre]
        per_genre[genre] = binary_metrics(y[idx], s[idx], threshold)["f1"]
    report["per_genre_f1"] = per_genre

    if evidence is not None:
        report.update(evidence_hits(records, pred, evidence))
    if category_probs:
        hits = []
        for i, r in enumerate(records):
            if r["flag"] == 1 and r.get("categories"):
                hits.append(_top_k(category_probs[i], 1)[0] in r["categories"])
        report["category_top1_accuracy"] = round(float(np.mean(hits)), 4) if hits else None
    return report


def gold_spans(record: dict[str, Any]) -> list[tuple[int, int]]:
    """Character spans of a labelled record's ``evidence`` strings in its ``text`` (exact substrings)."""
    text = record["text"]
    spans = []
    for ev in record.get("evidence") or []:
        i = text.find(ev)
        if i >= 0:
            spans.append((i, i + len(ev)))
    return spans


def _same_sentence(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Two spans mark the same sentence: they overlap by at least half of the shorter one (a predicted
    sentence and a gold evidence string are cut by different hands, so exact equality is too strict)."""
    overlap = min(a[1], b[1]) - max(a[0], b[0])
    return overlap > 0 and overlap >= 0.5 * min(a[1] - a[0], b[1] - b[0])


def evidence_hits(records: Sequence[dict[str, Any]], flagged: Sequence[bool],
                  evidence: Sequence[Sequence[tuple[int, int]]]) -> dict[str, Any]:
    """How often the evidence a monitor reads first is the act: over the correctly flagged positives that
    have gold evidence, the share whose first (``evidence_hit_at_1``) or any of the first three
    (``evidence_hit_at_3``) predicted evidence sentences is a gold evidence sentence."""
    at1, at3 = [], []
    for r, f, pred in zip(records, flagged, evidence, strict=True):
        gold = gold_spans(r)
        if not (f and int(r["flag"]) == 1 and gold):
            continue
        hit = [any(_same_sentence(p, g) for g in gold) for p in list(pred)[:3]]
        at1.append(bool(hit[:1] and hit[0]))
        at3.append(any(hit))
    return {"evidence_hit_at_1": round(float(np.mean(at1)), 4) if at1 else None,
            "evidence_hit_at_3": round(float(np.mean(at3)), 4) if at3 else None,
            "evidence_n": len(at1)}


#: Report fields kept in a model card's ``evaluations`` entries (the full report stays in ``--json-out``).
CARD_FIELDS: tuple[str, ...] = ("n", "positives", "threshold", "precision", "recall", "f1", "pr_auc", "confusion",
                                "hard_negative_fp", "hard_negative_fpr", "dense_negative_fp", "dense_negative_n",
                                "evidence_hit_at_1", "evidence_hit_at_3", "per_negative_type", "per_category")


def record_in_card(model_dir: str | Path, report: dict[str, Any], data: Sequence[str | Path],
                   command: str) -> dict[str, Any]:
    """Add (or replace) an evaluation of the model in ``model_dir/model_card.json``.

    A card's ``metrics`` are measured when the model is trained; a corpus keeps growing after that, so a
    shipped model is re-measured on today's splits. Each entry names its data files with their sha256, so
    an entry says exactly which version of a split it holds; re-evaluating the same files replaces it. A
    transformer model's ``README.md`` is re-rendered from the card. Returns the entry.
    """
    import hashlib
    from datetime import datetime, timezone

    model_dir = Path(model_dir)
    card_file = model_dir / "model_card.json"
    if not card_file.is_file():
        raise FileNotFoundError(f"{model_dir} has no model_card.json")
    card = json.loads(card_file.read_text(encoding="utf-8"))
    files = [{"path": _portable(p), "sha256": hashlib.sha256(Path(p).read_bytes()).hexdigest()} for p in data]
    entry = {"data": files, "date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
             "command": command, "metrics": {k: report[k] for k in CARD_FIELDS if k in report}}
    key = [f["sha256"] for f in files]
    kept = [e for e in card.get("evaluations", []) if [f["sha256"] for f in e["data"]] != key]
    card["evaluations"] = [*kept, entry]
    card_file.write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if card.get("kind") == "transformer":
        from neutrality_nlp.modeling import render_card_markdown

        (model_dir / "README.md").write_text(render_card_markdown(card), encoding="utf-8")
    return entry


def _portable(path: str | Path) -> str:
    """``data/splits/test.jsonl`` for the project's own files (no machine-specific prefix), else as given."""
    from neutrality_nlp.data import data_dir

    try:
        return str(Path(path).resolve().relative_to(data_dir().resolve().parent))
    except ValueError:
        return str(path)


def _f1_from_pred(y: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """F1 of each row of a boolean prediction matrix against the matching rows of ``y``."""
    tp = np.sum(pred & (y == 1), axis=-1)
    fp = np.sum(pred & (y == 0), axis=-1)
    fn = np.sum(~pred & (y == 1), axis=-1)
    denom = 2 * tp + fp + fn
    return np.divide(2 * tp, denom, out=np.zeros(denom.shape, dtype=float), where=denom > 0)


def paired_bootstrap(
    y_true: Sequence[int],
    systems: dict[str, tuple[Sequence[float], float]],
    *,
    n_boot: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, Any]:
    """Bootstrap confidence intervals for F1, and for the F1 difference between systems.

    ``systems`` maps a name to ``(scores, threshold)`` on the same records. Every system is scored on
    the *same* resampled records in each round (a paired bootstrap), so the interval for a difference
    reflects only how the systems disagree, not how hard the sample happened to be. Thresholds stay
    fixed: they were chosen on dev, and the test split only measures them.

    Returns ``{"n_boot", "level", "f1": {name: {"f1", "low", "high"}}, "diff": {"a - b": {"diff",
    "low", "high", "p_a_better"}}}``, where ``p_a_better`` is the share of rounds in which ``a`` has
    the strictly higher F1.
    """
    if not systems:
        raise ValueError("paired_bootstrap needs at least one system")
    y = np.asarray(y_true, dtype=int)
    preds = {}
    for name, (scores, threshold) in systems.items():
        s = np.asarray(scores, dtype=float)
        if s.shape != y.shape:
            raise ValueError(f"{name}: {s.size} scores for {y.size} labels")
        preds[name] = s >= threshold
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, y.size, size=(n_boot, y.size))
    yb = y[idx]
    f1s = {name: _f1_from_pred(yb, pred[idx]) for name, pred in preds.items()}
    point = {name: float(_f1_from_pred(y, pred)) for name, pred in preds.items()}
    lo_q, hi_q = (1 - level) / 2, 1 - (1 - level) / 2
    out: dict[str, Any] = {"n_boot": n_boot, "level": level, "f1": {}, "diff": {}}
    for name, boot in f1s.items():
        out["f1"][name] = {"f1": round(point[name], 4), "low": round(float(np.quantile(boot, lo_q)), 4),
                           "high": round(float(np.quantile(boot, hi_q)), 4)}
    names = list(systems)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            d = f1s[a] - f1s[b]
            out["diff"][f"{a} - {b}"] = {
                "diff": round(point[a] - point[b], 4),
                "low": round(float(np.quantile(d, lo_q)), 4),
                "high": round(float(np.quantile(d, hi_q)), 4),
                "p_a_better": round(float(np.mean(d > 0)), 4),
            }
    return out


def _top_k(probs: dict[str, float], k: int) -> list[str]:
    return [c for c, _ in sorted(probs.items(), key=lambda kv: -kv[1])[:k]]


def pr_curve(y_true: Sequence[int], scores: Sequence[float]) -> dict[str, list[float]]:
    """Precision-recall curve points (for plots and model cards)."""
    from sklearn.metrics import precision_recall_curve

    p, r, t = precision_recall_curve(np.asarray(y_true, dtype=int), np.asarray(scores, dtype=float))
    return {"precision": p.tolist(), "recall": r.tolist(), "thresholds": t.tolist()}
