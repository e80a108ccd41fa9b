"""Shared fixtures: paths to shared data, the mini corpus, and a tiny randomly initialised BERT."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SEEDS = SHARED / "seeds"
BIMA = SEEDS / "000_60a2c232dcd765da.txt"
BEKASI = SEEDS / "003_fa3f6c0fb6ed7587.txt"
MINI = Path(__file__).parent / "fixtures" / "mini_corpus.jsonl"

@pytest.fixture(scope="session")
def seeds() -> tuple[Path, Path]:
    """The two seed documents (skips when ../shared is absent)."""
    if not (BIMA.is_file() and BEKASI.is_file()):
        pytest.skip("../shared/seeds not present")
    return BIMA, BEKASI


@pytest.fixture(scope="session")
def mini_records() -> list[dict]:
    """20 labelled records written for the tests."""
    return [json.loads(line) for line in MINI.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised 2-layer BERT with a WordPiece tokenizer trained here, saved as a folder."""
    from neutrality_nlp.testing import build_tiny_bert

    mini = [json.loads(x)["text"] for x in MINI.read_text(encoding="utf-8").splitlines() if x.strip()]
    return build_tiny_bert(tmp_path_factory.mktemp("tiny_bert"), mini)
