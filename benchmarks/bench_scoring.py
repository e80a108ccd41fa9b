"""Throughput and peak memory: our scorer vs ``transformers.pipeline("text-classification")``, and the baseline.

One command runs every measurement, each in its own subprocess (so peak RSS is per engine), checks that
the engines give the same document scores, and prints a Markdown table (``--markdown-out`` appends it to a
file)::

    .venv/bin/python benchmarks/bench_scoring.py --model default --long 200 --short 1000

Texts are real: full-length Kompasiana opinion blogs from ``../shared/corpora/reneje__id-stance-political-blogs``
(long) and Pilpres 2024 tweets from ``../shared/corpora/luthfilkhairi__ABSA-Transformer-Pemilu2024`` (short).
Both engines cover the whole text: the pipeline is fed the very windows our scorer builds (window text with the
model's prefix), and a document's score is the maximum over its windows in both.

Engines:
  * ``ours``      — ``TransformerScorer.predict(texts, evidence=False)``: bulk fast tokenisation, windows of all
                    documents sorted by length and batched by a token budget, ``torch.inference_mode``;
  * ``ours-bf16`` — the same under bf16 autocast (CPUs with AVX-512 BF16 or AMX, GPUs);
  * ``ours-int8`` — the same with CPU int8 dynamic quantisation;
  * ``pipeline``  — ``transformers.pipeline("text-classification")`` on the same model and windows, at its
                    default batch size (1) and at ``--pipeline-batch``;
  * ``baseline``  — the TF-IDF baseline's full ``score()`` (cleaning, categories and evidence included).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def load_texts(kind: str, n: int) -> list[str]:
    """``n`` real texts: ``long`` (Kompasiana blogs, cleaned) or ``short`` (Pilpres 2024 tweets)."""
    sys.path.insert(0, str(REPO))
    from neutrality_nlp.corpora import corpora_dir, long_articles, pemilu2024_tweets
    from neutrality_nlp.text import clean_text

    if not corpora_dir().is_dir():
        raise SystemExit(f"{corpora_dir()} is absent: the benchmark needs the shared corpora")
    if kind == "long":
        texts = [clean_text(t) for t in long_articles()]
    else:
        seen: set[str] = set()
        texts = []
        for r in pemilu2024_tweets(corpora_dir()):
            if r["text"] not in seen:
                seen.add(r["text"])
                texts.append(clean_text(r["text"]))
    texts = [t for t in texts if t.strip()]
    reps = -(-n // len(texts))
    return (texts * reps)[:n]


def _run_engine(engine: str, model: str, kind: str, n: int, pipeline_batch: int, out: str) -> None:
    """Child process: time one engine on one text set, write scores and figures to ``out``."""
    import torch
    import transformers

    from neutrality_nlp.scoring import load_scorer

    transformers.logging.set_verbosity_error()
    texts = load_texts(kind, n)
    threads = int(os.environ.get("NEUTRALITY_NLP_THREADS") or os.cpu_count() or 1)
    torch.set_num_threads(threads)
    result: dict = {"engine": engine, "kind": kind, "n": len(texts), "threads": threads}
    if engine == "baseline":
        scorer = load_scorer("baseline")
        scorer.score(texts[:20])  # warm-up (stemmer cache, imports)
        t0 = time.perf_counter()
        records = scorer.score(texts)
        result["seconds"] = time.perf_counter() - t0
        scores = [r.score for r in records]
        result["tokens"] = None
    else:
        precision = engine.split("-")[1] if engine.startswith("ours-") else "fp32"
        scorer = load_scorer(model, precision=precision)
        windows = scorer.windower(texts)
        result["windows"] = len(windows)
        result["tokens"] = sum(len(w.input_ids) for w in windows)
        if engine.startswith("ours"):
            scorer.predict(texts[:8], evidence=False)  # warm-up
            t0 = time.perf_counter()
            preds = scorer.predict(texts, evidence=False)
            result["seconds"] = time.perf_counter() - t0
            scores = [p.score for p in preds]
        else:
            from transformers import pipeline

            batch = 1 if engine == "pipeline" else pipeline_batch
            pipe = pipeline("text-classification", model=scorer.as_sequence_classifier(), tokenizer=scorer.tokenizer,
                            device=0 if torch.cuda.is_available() else -1)
            inputs = [scorer.prefix + texts[w.doc][w.start:w.end] for w in windows]
            kwargs = {"truncation": True, "max_length": scorer.max_length, "batch_size": batch}
            pipe(inputs[:8], **kwargs)  # warm-up
            t0 = time.perf_counter()
            outs = pipe(inputs, **kwargs)
            result["seconds"] = time.perf_counter() - t0
            doc_scores = np.zeros(len(texts))
            for w, o in zip(windows, outs, strict=True):
                doc_scores[w.doc] = max(doc_scores[w.doc], o["score"])
            scores = doc_scores.tolist()
            result["batch_size"] = batch
    result["scores"] = scores
    result["threshold"] = scorer.threshold
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["device"] = "cuda" if torch.cuda.is_available() else "cpu"
    Path(out).write_text(json.dumps(result))


def measure(engine: str, model: str, kind: str, n: int, pipeline_batch: int) -> dict:
    """Run one engine in a fresh interpreter and return its figures."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as fh:
        out = fh.name
    cmd = [sys.executable, __file__, "--child", engine, "--model", model, "--kind", kind, "--n", str(n),
           "--pipeline-batch", str(pipeline_batch), "--out", out]
    subprocess.run(cmd, check=True, cwd=REPO)
    result = json.loads(Path(out).read_text())
    os.unlink(out)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="default", help="transformer model name or path")
    ap.add_argument("--long", type=int, default=200, help="number of long articles")
    ap.add_argument("--short", type=int, default=1000, help="number of short posts")
    ap.add_argument("--pipeline-batch", type=int, default=16, help="batch size of the batched pipeline run")
    ap.add_argument("--engines", default="ours,ours-bf16,ours-int8,pipeline,pipeline-batched,baseline")
    ap.add_argument("--markdown-out", type=Path, help="append the Markdown table to this file")
    ap.add_argument("--json-out", type=Path, help="write all figures as JSON")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--kind", help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _run_engine(args.child, args.model, args.kind, args.n, args.pipeline_batch, args.out)
        return

    engines = [e for e in args.engines.split(",") if e]
    rows = []
    for kind, n in (("long", args.long), ("short", args.short)):
        if not n:
            continue
        results = {e: measure(e, args.model, kind, n, args.pipeline_batch) for e in engines}
        ref = results.get("ours")
        for e, r in results.items():
            r["articles_per_s"] = r["n"] / r["seconds"]
            r["tokens_per_s"] = r["tokens"] / r["seconds"] if r.get("tokens") else None
            if ref is not None and e != "baseline":
                a, b = np.array(r["scores"]), np.array(ref["scores"])
                r["max_abs_score_diff_vs_ours"] = float(np.max(np.abs(a - b)))
                r["mean_abs_score_diff_vs_ours"] = float(np.mean(np.abs(a - b)))
                r["verdict_agreement_vs_ours"] = float(np.mean((a >= r["threshold"]) == (b >= ref["threshold"])))
                r["speedup_of_ours"] = r["seconds"] / ref["seconds"]
            rows.append(r)
            print(f"{kind:5s} {e:17s} {r['articles_per_s']:9.1f} texts/s  peak {r['peak_rss_mb']:7.0f} MB", flush=True)

    import platform

    machine = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} logical CPUs, "
               f"torch threads {rows[0]['threads']}, device {rows[0]['device']}")
    lines = [f"Machine: {machine}. Command: `{' '.join(['python', 'benchmarks/bench_scoring.py', *sys.argv[1:]])}`",
             "", "| texts | engine | n | windows | texts/s | tokens/s | peak RSS MB | ours is × faster | "
             "max / mean \\|Δscore\\| vs ours | same verdict |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        label = r["engine"] + (f" (batch {r['batch_size']})" if "batch_size" in r else "")
        tps = f"{r['tokens_per_s']:.0f}" if r.get("tokens_per_s") else "-"
        speed = f"{r['speedup_of_ours']:.2f}" if "speedup_of_ours" in r and r["engine"] != "ours" else "-"
        other = "max_abs_score_diff_vs_ours" in r and r["engine"] != "ours"
        diff = f"{r['max_abs_score_diff_vs_ours']:.1e} / {r['mean_abs_score_diff_vs_ours']:.1e}" if other else "-"
        same = f"{r['verdict_agreement_vs_ours']:.1%}" if other else "-"
        lines.append(f"| {r['kind']} | {label} | {r['n']} | {r.get('windows', '-')} | {r['articles_per_s']:.1f} | "
                     f"{tps} | {r['peak_rss_mb']:.0f} | {speed} | {diff} | {same} |")
    table = "\n".join(lines) + "\n"
    print(table)
    if args.markdown_out:
        with args.markdown_out.open("a", encoding="utf-8") as fh:
            fh.write(table + "\n")
    if args.json_out:
        args.json_out.write_text(json.dumps([{k: v for k, v in r.items() if k != "scores"} for r in rows], indent=2))


if __name__ == "__main__":
    main()
