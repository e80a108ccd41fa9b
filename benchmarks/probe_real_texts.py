"""False-positive probe on real public Indonesian election texts (evaluation only, never used for training).

None of these sets is about civil servants taking sides — they are election tweets, partisan opinion blogs about
national politicians, and news headlines — so every flag is a candidate false positive to read. The script prints
the flag rate per set and model and the flagged texts (for manual review), and can write them as JSON::

    .venv/bin/python benchmarks/probe_real_texts.py --models default,baseline --json-out probe.json

Sets (``../shared/corpora``): ``satria_unlabelled`` (1,000 Pilpres 2024 tweets, the project's reserved probe),
``pilpres2019`` (1,815 tweets), ``detik_headlines`` (2,500 news headlines), ``stance_blogs`` (Kompasiana opinion
blogs; a licensed training source, so only the blogs *not* sampled for training are probed).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def probe_sets(limit: int | None) -> dict[str, list[str]]:
    """The probe texts per set (empty when ../shared/corpora is absent)."""
    from neutrality_nlp.corpora import corpora_dir, extra_negatives, probe_texts, stance_blogs

    root = corpora_dir()
    if not root.is_dir():
        return {}
    sets = {name: probe_texts(name, limit=limit) for name in ("satria_unlabelled", "pilpres2019", "detik_headlines")}
    # the exact draw training makes (same default sample sizes and seed)
    used = {r["text"] for r in extra_negatives() if r["source"] == "corpus:stance_blogs"}
    blogs = [r["text"] for r in stance_blogs(root) if r["text"] not in used]
    sets["stance_blogs_unused"] = blogs[:limit] if limit else blogs
    return sets


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="default,baseline")
    ap.add_argument("--limit", type=int, default=None, help="at most this many texts per set")
    ap.add_argument("--show", type=int, default=5, help="flagged texts to print per set and model")
    ap.add_argument("--json-out", type=Path)
    args = ap.parse_args()

    from neutrality_nlp.scoring import load_scorer

    sets = probe_sets(args.limit)
    if not sets:
        raise SystemExit("../shared/corpora is absent: nothing to probe")
    report: dict = {}
    lines = ["| set | texts | " + " | ".join(f"{m} flagged" for m in args.models.split(",")) + " |",
             "|---|---|" + "---|" * len(args.models.split(","))]
    rows: dict[str, list[str]] = {name: [] for name in sets}
    for model in args.models.split(","):
        scorer = load_scorer(model)
        for name, texts in sets.items():
            recs = scorer.score(texts)
            flagged = [(i, r) for i, r in enumerate(recs) if r.flagged]
            report.setdefault(name, {})[scorer.model_id] = {
                "n": len(texts), "flagged": len(flagged), "rate": round(len(flagged) / max(len(texts), 1), 4),
                "examples": [{"index": i, "score": r.score, "category": r.category,
                              "evidence": r.evidence[0].text if r.evidence else None,
                              "text": texts[i][:500]} for i, r in flagged],
            }
            rows[name].append(f"{len(flagged)} ({len(flagged) / max(len(texts), 1):.1%})")
            print(f"{scorer.model_id:24s} {name:20s} {len(flagged):4d} / {len(texts)} flagged", flush=True)
            for i, r in flagged[: args.show]:
                ev = r.evidence[0].text if r.evidence else texts[i]
                print(f"    [{r.score:.2f} {r.category}] {ev[:200]!r}")
    for name, cells in rows.items():
        lines.append(f"| {name} | {len(sets[name])} | " + " | ".join(cells) + " |")
    print("\n".join(lines))
    if args.json_out:
        args.json_out.write_text(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
