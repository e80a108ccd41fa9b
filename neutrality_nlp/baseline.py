"""Classical baseline: Sastrawi-stemmed word n-grams + character n-grams, TF-IDF, linear models.

A scikit-learn :class:`~sklearn.pipeline.Pipeline` (features → class-weighted logistic regression) for
the flag, and a one-vs-rest logistic regression on the same features for the categories. The decision
threshold is chosen on the dev split and stored with the model. Saved with ``skops`` (no pickle); loading
accepts only an allow-list of types.
"""

from __future__ import annotations

import json
import platform
import zipfile
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from neutrality_nlp.labels import CATEGORIES
from neutrality_nlp.scoring import Prediction, Scorer

MODEL_FILE = "baseline.skops"
CARD_FILE = "model_card.json"

#: Module prefixes whose types a saved baseline may contain.
_TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.", "builtins.", "neutrality_nlp.", "collections.")


def word_analyzer(text: str) -> list[str]:
    """Slang-normalised, Sastrawi-stemmed word unigrams and bigrams, stopwords removed.

    A top-level function (not a lambda) so the fitted pipeline can be saved with skops.
    """
    from neutrality_nlp.text import normalize_slang, stem_analyzer

    tokens = stem_analyzer(normalize_slang(text))
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)]


def char_preprocessor(text: str) -> str:
    """Lower-cased, slang-normalised text for the character n-gram vectorizer."""
    from neutrality_nlp.text import normalize_slang

    return normalize_slang(text).lower()


def build_pipeline(c: float = 4.0, seed: int = 0) -> Any:
    """The unfitted flag pipeline (TF-IDF word + char features → logistic regression)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline

    features = FeatureUnion(
        [
            ("word", TfidfVectorizer(analyzer=word_analyzer, min_df=2, sublinear_tf=True, max_features=150_000)),
            (
                "char",
                TfidfVectorizer(
                    analyzer="char_wb",
                    preprocessor=char_preprocessor,
                    ngram_range=(3, 5),
                    min_df=2,
                    sublinear_tf=True,
                    max_features=200_000,
                ),
            ),
        ]
    )
    clf = LogisticRegression(C=c, class_weight="balanced", max_iter=3000, random_state=seed)
    return Pipeline([("features", features), ("clf", clf)])


class BaselineModel(Scorer):
    """TF-IDF + logistic-regression scorer with an optional category head.

    Example::

        model = BaselineModel().fit(train_texts, train_flags, train_categories)
        model.calibrate_threshold(dev_texts, dev_flags)
        model.save("models/baseline")
        BaselineModel.load("models/baseline").score_one("…")
    """

    name = "baseline"

    def __init__(self, c: float = 4.0, seed: int = 0, version: str = "0.1.0") -> None:
        self.c = c
        self.seed = seed
        self.version = version
        self.threshold = 0.5
        #: ``flagged``: evidence sentences for flagged texts only (fast); ``all``: for every text.
        self.evidence = "flagged"
        self.pipeline: Any = None
        self.category_clf: Any = None
        self.card: dict[str, Any] = {}

    # -- training ------------------------------------------------------------------------------------
    def fit(
        self,
        texts: Sequence[str],
        flags: Sequence[int],
        categories: Sequence[Sequence[str]] | None = None,
    ) -> BaselineModel:
        """Fit the flag pipeline and, when ``categories`` are given, the category head on positives."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.multiclass import OneVsRestClassifier

        texts = list(texts)
        y = np.asarray(flags, dtype=int)
        self.pipeline = build_pipeline(self.c, self.seed).fit(texts, y)
        for vectorizer in self._vectorizers():
            # the terms pruned by min_df/max_features: only for introspection, and most of the saved size
            if hasattr(vectorizer, "stop_words_"):
                del vectorizer.stop_words_
        self.category_clf = None
        if categories is not None:
            pos = [i for i in range(len(texts)) if y[i] == 1 and categories[i]]
            if pos:
                x = self.pipeline[:-1].transform([texts[i] for i in pos])
                targets = np.array([[int(c in categories[i]) for c in CATEGORIES] for i in pos])
                keep = targets.sum(axis=0) > 0  # a category absent from training stays at probability 0
                base = LogisticRegression(C=self.c, class_weight="balanced", max_iter=3000)
                clf = OneVsRestClassifier(base).fit(x, targets[:, keep])
                self.category_clf = {"clf": clf, "codes": [c for c, k in zip(CATEGORIES, keep, strict=True) if k]}
        return self

    def calibrate_threshold(self, texts: Sequence[str], flags: Sequence[int]) -> float:
        """Choose and store the F1-optimal threshold on a dev split."""
        from neutrality_nlp.evaluation import choose_threshold

        self.threshold = choose_threshold(flags, self.predict_proba(texts))
        return self.threshold

    # -- inference -----------------------------------------------------------------------------------
    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Flag probability per (cleaned) text."""
        self._require_fitted()
        return self.pipeline.predict_proba(list(texts))[:, 1]

    def predict_categories(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """Category probabilities per text (empty dicts without a category head)."""
        self._require_fitted()
        if not self.category_clf:
            return [{} for _ in texts]
        x = self.pipeline[:-1].transform(list(texts))
        probs = self.category_clf["clf"].predict_proba(x)
        codes = self.category_clf["codes"]
        return [{c: float(p) for c, p in zip(codes, row, strict=True)} for row in np.atleast_2d(probs)]

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        """Document probability and categories; sentence scores (the evidence) for the flagged texts, or for
        every text when :attr:`evidence` is ``"all"``. Scoring sentences costs as much as scoring the text
        again, and most texts of a batch are not flagged."""
        from neutrality_nlp.text import split_sentences

        texts = list(texts)
        x = self.pipeline[:-1].transform(texts)
        doc_scores = self.pipeline[-1].predict_proba(x)[:, 1]
        cats: list[dict[str, float]] = [{} for _ in texts]
        if self.category_clf:
            probs = np.atleast_2d(self.category_clf["clf"].predict_proba(x))
            codes = self.category_clf["codes"]
            cats = [{c: float(p) for c, p in zip(codes, row, strict=True)} for row in probs]
        want = [i for i, s in enumerate(doc_scores) if self.evidence == "all" or s >= self.threshold]
        sentences = {i: split_sentences(texts[i]) for i in want}
        flat = [s.text for i in want for s in sentences[i]]
        sent_scores = self.pipeline.predict_proba(flat)[:, 1] if flat else np.zeros(0)
        out, k = [], 0
        for i in range(len(texts)):
            scored = []
            for s in sentences.get(i, []):
                scored.append((s.start, s.end, float(sent_scores[k])))
                k += 1
            out.append(Prediction(score=float(doc_scores[i]), categories=cats[i], sentences=scored))
        return out

    def _vectorizers(self) -> list[Any]:
        return [v for _, v in self.pipeline.named_steps["features"].transformer_list]

    def _require_fitted(self) -> None:
        if self.pipeline is None:
            raise RuntimeError("BaselineModel is not fitted: call fit() or BaselineModel.load()")

    # -- persistence ---------------------------------------------------------------------------------
    def save(self, path: str | Path, card: dict[str, Any] | None = None) -> Path:
        """Write ``baseline.skops`` and ``model_card.json`` into folder ``path``."""
        import sklearn
        import skops.io as sio

        self._require_fitted()
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        vectorizers = self._vectorizers()
        # Vocabularies go in as numpy string arrays (term i = column i): skops stores a 100k-entry dict
        # object by object, which makes files ~10x larger and loading ~50x slower.
        vocabularies = [np.array(sorted(v.vocabulary_, key=v.vocabulary_.__getitem__), dtype=str) for v in vectorizers]
        kept = [v.vocabulary_ for v in vectorizers]
        state = {
            "pipeline": self.pipeline,
            "category_clf": self.category_clf,
            "vocabularies": vocabularies,
            "threshold": float(self.threshold),
            "version": self.version,
            "c": float(self.c),
            "seed": int(self.seed),
        }
        tmp = path / (MODEL_FILE + ".tmp")
        try:
            for v in vectorizers:
                v.vocabulary_ = {}
            sio.dump(state, tmp, compression=zipfile.ZIP_DEFLATED)
        finally:
            for v, vocab in zip(vectorizers, kept, strict=True):
                v.vocabulary_ = vocab
        tmp.replace(path / MODEL_FILE)
        self.card = {
            "name": self.name,
            "version": self.version,
            "kind": "baseline",
            "threshold": float(self.threshold),
            "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "categories": list(self.category_clf["codes"]) if self.category_clf else [],
            "features": "Sastrawi-stemmed word 1-2-grams + char_wb 3-5-grams, TF-IDF (sublinear)",
            "classifier": f"LogisticRegression(C={self.c}, class_weight='balanced')",
            "software": {"scikit-learn": sklearn.__version__, "python": platform.python_version()},
            **(card or {}),
        }
        (path / CARD_FILE).write_text(json.dumps(self.card, indent=2, ensure_ascii=False) + "\n")
        return path

    @classmethod
    def load(cls, path: str | Path) -> BaselineModel:
        """Load a saved baseline, refusing any type outside the allow-list (no arbitrary code)."""
        import skops.io as sio

        path = Path(path)
        file = path / MODEL_FILE if path.is_dir() else path
        untrusted = sio.get_untrusted_types(file=file)
        bad = [t for t in untrusted if not t.startswith(_TRUSTED_PREFIXES)]
        if bad:
            raise ValueError(f"refusing to load {file}: it contains untrusted types {bad}")
        state = sio.load(file, trusted=untrusted)
        model = cls(c=state["c"], seed=state["seed"], version=state["version"])
        model.pipeline = state["pipeline"]
        for vectorizer, terms in zip(model._vectorizers(), state.get("vocabularies") or [], strict=False):
            vectorizer.vocabulary_ = {str(t): i for i, t in enumerate(terms.tolist())}
        model.category_clf = state["category_clf"]
        model.threshold = float(state["threshold"])
        card_file = file.parent / CARD_FILE
        if card_file.is_file():
            model.card = json.loads(card_file.read_text())
        model.saved_path = file.parent
        return model
