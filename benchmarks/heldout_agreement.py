"""Agreement between the held-out set's writers and a blind second annotator (flag only).

The second annotator saw each held-out text (id and text only, never the writer's labels) and decided ``flag``
with ``data/CODEBOOK.md``; the answers are in ``data/heldout/second/*.jsonl`` (``{"id": …, "flag": 0|1}``).
Prints raw agreement, Cohen's kappa, the 2×2 table, agreement per batch and the disagreeing ids, and can write the
records both agree on (with the writer's labels) for a secondary evaluation::

    .venv/bin/python benchmarks/heldout_agreement.py --agreed-out /tmp/heldout-agreed.jsonl
    .venv/bin/neutrality-nlp compare /tmp/heldout-agreed.jsonl -m default -m baseline
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def load_second(root: Path) -> dict[str, int]:
    """Second-annotator flags by record id (an id answered twice is an error)."""
    second: dict[str, int] = {}
    for path in sorted((root / "second").glob("*.jsonl")):
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            row = json.loads(line)
            if row["id"] in second or row["flag"] not in (0, 1):
                raise SystemExit(f"{path}:{lineno}: duplicate id or flag not 0/1: {line}")
            second[row["id"]] = row["flag"]
    return second


def main() -> None:
    from sklearn.metrics import cohen_kappa_score

    from neutrality_nlp.data import data_dir, heldout_files, load_records, write_jsonl

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agreed-out", type=Path, help="write the records both annotators agree on (JSONL)")
    args = ap.parse_args()
    root = data_dir() / "heldout"
    records = [r for f in heldout_files(name="heldout") for r in load_records(f, strict=True)]
    second = load_second(root)
    missing = [r["id"] for r in records if r["id"] not in second]
    both = [r for r in records if r["id"] in second]
    if not both:
        raise SystemExit("no second annotations found in data/heldout/second/")
    a, b = [r["flag"] for r in both], [second[r["id"]] for r in both]
    table = Counter(zip(a, b, strict=True))
    agree = sum(x == y for x, y in zip(a, b, strict=True))
    print(f"records {len(records)}, second-annotated {len(both)}, not annotated {len(missing)}")
    print(f"agreement {agree}/{len(both)} = {agree / len(both):.3f}; Cohen's kappa {cohen_kappa_score(a, b):.3f}")
    print("writer \\ second:  0      1")
    for w in (0, 1):
        print(f"          {w}     {table[(w, 0)]:5d}  {table[(w, 1)]:5d}")
    for batch in sorted({r["id"].split("-")[0] for r in both}):
        rows = [r for r in both if r["id"].startswith(batch + "-")]
        ok = sum(r["flag"] == second[r["id"]] for r in rows)
        print(f"  {batch}: {ok}/{len(rows)}")
    differ = [f"{r['id']}: {r['flag']}→{second[r['id']]}" for r in both if r["flag"] != second[r["id"]]]
    print("disagreements (id: writer → second):", ", ".join(differ) or "none")
    if args.agreed_out:
        agreed = [r for r in both if r["flag"] == second[r["id"]]]
        write_jsonl(agreed, args.agreed_out)
        print(f"wrote {len(agreed)} agreed records to {args.agreed_out}")


if __name__ == "__main__":
    main()
