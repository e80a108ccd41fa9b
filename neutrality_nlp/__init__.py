"""neutrality_nlp: find Indonesian text showing civil servants (ASN) taking sides in elections.

Quick use::

    from neutrality_nlp import load_scorer
    scorer = load_scorer("default")
    record = scorer.score_one("Camat X ikut deklarasi paslon nomor 2 ...")
    print(record.flagged, record.score, record.category)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["__version__", "load_scorer", "ScoreRecord", "Evidence", "CATEGORIES"]

if TYPE_CHECKING:  # pragma: no cover
    from neutrality_nlp.labels import CATEGORIES
    from neutrality_nlp.records import Evidence, ScoreRecord
    from neutrality_nlp.scoring import load_scorer


def __getattr__(name: str) -> Any:
    # Lazy imports keep `neutrality-nlp --help` and `import neutrality_nlp` fast (no torch import).
    if name == "load_scorer":
        from neutrality_nlp.scoring import load_scorer

        return load_scorer
    if name in ("ScoreRecord", "Evidence"):
        from neutrality_nlp import records

        return getattr(records, name)
    if name == "CATEGORIES":
        from neutrality_nlp.labels import CATEGORIES

        return CATEGORIES
    raise AttributeError(name)
