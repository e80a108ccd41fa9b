"""Post-hoc diagnostics on scored labelled records (exploratory: they look at the labels they report on).

Input: ``neutrality-nlp score`` outputs of the same labelled file, one per model, with the gold label kept
(``--keep-fields flag``). For each model: F1 at its stored threshold, and the best F1 any threshold would reach on
these records (an oracle: it says whether a model's *ranking* or its *threshold* is the problem, and is no
estimate of anything). For each pair of models: F1 when a text is flagged by either model, and by both, at the
stored thresholds. With ``--data`` (the labelled file that was scored): F1 and recall per text-length band.
Nothing here may choose a shipped model or threshold on a split it then reports::

    neutrality-nlp score data/splits/heldout.jsonl -m default  -o d.jsonl --keep-fields flag
    neutrality-nlp score data/splits/heldout.jsonl -m baseline -o b.jsonl --keep-fields flag
    python benchmarks/score_diagnostics.py d.jsonl b.jsonl --data data/splits/heldout.jsonl
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> None:
    import numpy as np
    from sklearn.metrics import f1_score, precision_recall_curve

    from neutrality_nlp.review import read_scored

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scored", nargs="+", type=Path, help="score outputs of the same labelled records")
    ap.add_argument("--data", type=Path, help="the labelled file that was scored (for the length bands)")
    args = ap.parse_args()
    runs: dict[str, dict[str, tuple[int, float, bool]]] = {}
    for path in args.scored:
        rows, model = {}, "?"
        for rec in read_scored([path]):
            model = rec.model or model
            if rec.error or rec.score is None:
                raise SystemExit(f"{path}: record {rec.id} was not scored ({rec.error})")
            gold = rec.extra.get("flag")
            if gold not in (0, 1, "0", "1"):
                raise SystemExit(f"{path}: record {rec.id} has no gold 'flag' (score with --keep-fields flag)")
            rows[str(rec.id)] = (int(gold), float(rec.score), bool(rec.flagged))
        runs[f"{path.name} ({model})"] = rows
    ids = sorted(set.intersection(*(set(r) for r in runs.values())))
    if not ids:
        raise SystemExit("the files share no record ids")
    y = np.array([next(iter(runs.values()))[i][0] for i in ids])
    print(f"{len(ids)} records, {int(y.sum())} positive")
    flagged = {}
    for name, rows in runs.items():
        scores = np.array([rows[i][1] for i in ids])
        flagged[name] = np.array([rows[i][2] for i in ids])
        p, r, _ = precision_recall_curve(y, scores)
        best = float(np.max(2 * p * r / np.maximum(p + r, 1e-12)))
        print(f"{name}: F1 at stored threshold {f1_score(y, flagged[name]):.4f}; "
              f"best F1 over thresholds (oracle) {best:.4f}")
    for a, b in itertools.combinations(flagged, 2):
        either, both = flagged[a] | flagged[b], flagged[a] & flagged[b]
        print(f"{a} OR {b}: F1 {f1_score(y, either):.4f} (FP {int((either & (y == 0)).sum())}, "
              f"FN {int((~either & (y == 1)).sum())}); AND: F1 {f1_score(y, both):.4f} "
              f"(FP {int((both & (y == 0)).sum())}, FN {int((~both & (y == 1)).sum())})")
    if args.data:
        by_length(args.data, ids, y, flagged)


#: Text-length bands (words) for the breakdown.
BANDS = ((0, 60), (60, 120), (120, 250), (250, 600), (600, None))


def by_length(data: Path, ids: list[str], y: Any, flagged: dict[str, Any]) -> None:
    """F1 and recall per length band of the scored records."""
    import numpy as np
    from sklearn.metrics import f1_score, recall_score

    from neutrality_nlp.data import load_records, word_count

    words = {str(r.get("id")): word_count(r["text"]) for r in load_records(data)}
    n = np.array([words[i] for i in ids])
    for lo, hi in BANDS:
        sel = (n >= lo) & ((n < hi) if hi else True)
        if not sel.any():
            continue
        cells = [f"{name.split(' (')[-1].rstrip(')')} F1 {f1_score(y[sel], f[sel], zero_division=0):.3f} "
                 f"R {recall_score(y[sel], f[sel], zero_division=0):.3f}" for name, f in flagged.items()]
        print(f"words {lo}–{hi or '…'}: {int(sel.sum())} records, {int(y[sel].sum())} positive · " + " · ".join(cells))


if __name__ == "__main__":
    main()
