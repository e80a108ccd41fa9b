"""Does scoring shorter windows at inference time help a model trained on 256-token windows?

Scores the dev and test splits with the model's own windows and with shorter ones (max over all windows of a
text), chooses each variant's threshold on dev, and reports test figures. Model 0.1.0 found the Bima allegation
only in 24–48-token units, so this measures what such units cost elsewhere (README, Results)::

    .venv/bin/python benchmarks/short_windows.py --model default --lengths 64,48
"""

from __future__ import annotations

import argparse

import numpy as np


def doc_scores(scorer, texts: list[str], length: int | None) -> np.ndarray:
    """Max window score per text, windows of ``length`` tokens (``None``: the model's own)."""
    from neutrality_nlp.modeling import Windower, best_windows

    windower = scorer.windower if length is None else Windower(scorer.tokenizer, length, length // 2, scorer.prefix)
    windows = windower(texts)
    flag, _ = scorer.forward_windows([w.input_ids for w in windows])
    best = best_windows(windows, flag)
    return np.array([flag[best[d]] for d in range(len(texts))])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="default")
    ap.add_argument("--lengths", default="64,48", help="shorter window lengths in tokens, comma-separated")
    ap.add_argument("--precision", default="auto")
    args = ap.parse_args()

    from neutrality_nlp.data import load_split
    from neutrality_nlp.evaluation import binary_metrics, choose_threshold
    from neutrality_nlp.scoring import load_scorer
    from neutrality_nlp.text import clean

    scorer = load_scorer(args.model, precision=args.precision)
    splits = {s: load_split(s) for s in ("dev", "test")}
    texts = {s: [clean(r["text"]).text for r in rs] for s, rs in splits.items()}
    labels = {s: [r["flag"] for r in rs] for s, rs in splits.items()}
    base = {s: doc_scores(scorer, texts[s], None) for s in splits}
    print(f"{'windows':<14} {'threshold':>9} {'P':>6} {'R':>6} {'F1':>6} {'FP':>4} {'FN':>4}")
    variants = [("own", base)]
    for length in (int(x) for x in args.lengths.split(",")):
        short = {s: np.maximum(base[s], doc_scores(scorer, texts[s], length)) for s in splits}
        variants.append((f"own+{length}", short))
    for name, scores in variants:
        t = choose_threshold(labels["dev"], scores["dev"])
        m = binary_metrics(labels["test"], scores["test"], t)
        c = m["confusion"]
        print(f"{name:<14} {t:>9.3f} {m['precision']:>6.3f} {m['recall']:>6.3f} {m['f1']:>6.3f} "
              f"{c['fp']:>4} {c['fn']:>4}")


if __name__ == "__main__":
    main()
