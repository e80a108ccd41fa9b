"""Training entry points: the TF-IDF baseline and transformer models.

Both read the same labelled records (the project corpus by default), choose the decision threshold on
the dev split, measure the test split, and save a model folder with a generated model card.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from neutrality_nlp.data import load_records, load_split
from neutrality_nlp.evaluation import evaluate

logger = logging.getLogger(__name__)


def load_training_data(
    train_file: str | Path | None = None,
    dev_file: str | Path | None = None,
    test_file: str | Path | None = None,
    *,
    extra_corpora: bool = True,
    extra_corpora_sizes: dict[str, int] | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Train/dev/test records: the given files, else the project corpus splits.

    With ``extra_corpora`` the licensed ``../shared`` corpora add flag = 0 records to *train* only, as many
    per corpus as ``extra_corpora_sizes`` says (default: ``corpora.TRAINING_SOURCES``).
    """
    train = load_records(train_file) if train_file else load_split("train")
    dev = load_records(dev_file) if dev_file else load_split("dev")
    test = load_records(test_file) if test_file else (load_split("test") if not train_file else [])
    if extra_corpora:
        from neutrality_nlp.corpora import extra_negatives

        extra = extra_negatives(extra_corpora_sizes)
        logger.info("extra corpus negatives: %d", len(extra))
        train = train + extra
    return train, dev, test


def data_summary(train: list[dict[str, Any]], dev: list[dict[str, Any]], test: list[dict[str, Any]]) -> dict:
    """Counts recorded in model cards."""
    from collections import Counter

    def counts(rs: list[dict[str, Any]]) -> dict[str, Any]:
        return {"records": len(rs), "positives": sum(r["flag"] for r in rs),
                "sources": dict(Counter(r.get("source", "written") for r in rs))}

    return {"train": counts(train), "dev": counts(dev), "test": counts(test)}


def train_baseline(
    output: str | Path | None = None,
    train_file: str | Path | None = None,
    dev_file: str | Path | None = None,
    test_file: str | Path | None = None,
    *,
    extra_corpora: bool = True,
    c: float = 4.0,
    seed: int = 0,
    version: str | None = None,
) -> tuple[Path, dict[str, Any]]:
    """Train, calibrate, evaluate and save the baseline as ``baseline@version`` (``None``: the model class's
    default version); returns ``(folder, card)``."""
    from neutrality_nlp.baseline import BaselineModel
    from neutrality_nlp.scoring import models_dir

    train, dev, test = load_training_data(train_file, dev_file, test_file, extra_corpora=extra_corpora)
    model = BaselineModel(c=c, seed=seed)
    if version:
        model.version = version
    model.fit(_clean_all(train), [r["flag"] for r in train], [r.get("categories") or [] for r in train])
    model.calibrate_threshold(_clean_all(dev), [r["flag"] for r in dev])
    metrics: dict[str, Any] = {"dev": _eval(model, dev)}
    if test:
        metrics["test"] = _eval(model, test)
    card = {
        "training_data": {
            "train": str(train_file or "data/splits/train.jsonl"),
            "dev": str(dev_file or "data/splits/dev.jsonl"),
            "test": str(test_file or "data/splits/test.jsonl") if test else None,
            "extra_corpora": extra_corpora,
            "counts": data_summary(train, dev, test),
        },
        "metrics": metrics,
        "command": f"neutrality-nlp train --kind baseline --model-version {model.version}"
                   + (f" --output {output}" if output else ""),
    }
    path = model.save(output or models_dir() / "baseline", card)
    return path, model.card


def _clean_all(records: list[dict[str, Any]]) -> list[str]:
    from neutrality_nlp.text import clean_text

    return [clean_text(r["text"]) for r in records]


def _eval(scorer: Any, records: list[dict[str, Any]]) -> dict[str, Any]:
    results = scorer.score([r["text"] for r in records], ids=[r.get("id") for r in records])
    scores = [r.score if r.score is not None else 0.0 for r in results]
    cats = [r.categories for r in results]
    return evaluate(records, scores, scorer.threshold, cats if any(cats) else None)


def train_transformer(config: Any) -> tuple[Path, dict[str, Any]]:
    """Fine-tune a transformer from a :class:`~neutrality_nlp.training_args.TrainingConfig`."""
    from neutrality_nlp.modeling import fit_transformer

    train, dev, test = load_training_data(config.train_file, config.dev_file, config.test_file,
                                          extra_corpora=config.extra_corpora,
                                          extra_corpora_sizes=config.extra_corpora_sizes)
    if config.max_train_records:
        train = train[: config.max_train_records]
    scorer = fit_transformer(config, train, dev)
    metrics: dict[str, Any] = {"dev": _eval(scorer, dev)}
    if test:
        metrics["test"] = _eval(scorer, test)
    card = scorer.write_card(config, metrics=metrics, counts=data_summary(train, dev, test))
    if config.push_to_hub:
        scorer.push_to_hub(config.push_to_hub)
    logger.info("metrics: %s", json.dumps(metrics.get("test", metrics["dev"]))[:500])
    return Path(config.output_dir), card
