"""The Ray Data engine gives exactly the local engine's output (local two-worker Ray, tiny model)."""

from __future__ import annotations

import json

import pytest

from neutrality_nlp.batch import score_file
from neutrality_nlp.scoring import load_scorer

ray = pytest.importorskip("ray")


@pytest.mark.slow
def test_ray_engine_matches_local(tmp_path, mini_records):
    from neutrality_nlp.ray_engine import score_with_ray

    src = tmp_path / "in.jsonl"
    lines = [json.dumps({"id": r["id"], "text": r["text"], "src": "mini"}, ensure_ascii=False) for r in mini_records]
    lines.insert(3, "{broken json")
    lines.insert(7, json.dumps({"id": "empty", "text": ""}))
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    local = tmp_path / "local.jsonl"
    score_file(load_scorer("baseline"), [src], local, keep_fields=["src"])
    distributed = tmp_path / "ray.jsonl"
    try:
        summary = score_with_ray("baseline", [src], distributed, keep_fields=["src"], workers=2, batch_size=4,
                                 chunk=8, timeout=300)
    finally:
        ray.shutdown()
    assert summary.records == len(lines)
    assert distributed.read_text() == local.read_text()
