"""Small scorers for batch tests (importable by subprocesses started from the repo root)."""

from __future__ import annotations

import time

from neutrality_nlp.scoring import Prediction, Scorer


class KeywordScorer(Scorer):
    """0.9 for texts mentioning 'deklarasi' (0.1 otherwise); raises on 'BOOM'; optional delay per call."""

    name = "keyword"
    version = "1"
    threshold = 0.5

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay

    def predict(self, texts):
        time.sleep(self.delay)
        out = []
        for t in texts:
            if "BOOM" in t:
                raise RuntimeError("model exploded")
            s = 0.9 if "deklarasi" in t else 0.1
            out.append(Prediction(score=s, categories={"hadir_deklarasi": s}, sentences=[(0, len(t), s)]))
        return out
