"""The notebooks run top to bottom (tiny model for training, the baseline for batch scoring)."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _run(name: str, tmp_path: Path) -> dict:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=900, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    return nb


def _outputs(nb: dict) -> str:
    return "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


@pytest.mark.slow
def test_train_evaluate_notebook(tmp_path, monkeypatch):
    from neutrality_nlp.data import split_path

    if not split_path("test").is_file():
        pytest.skip("corpus not built")
    monkeypatch.setenv("NB_BASE_MODEL", "tiny")
    monkeypatch.setenv("NB_OUTPUT_DIR", str(tmp_path / "nb-model"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    text = _outputs(_run("01_train_evaluate.ipynb", tmp_path))
    assert (tmp_path / "nb-model" / "model_card.json").is_file()
    assert "F1" in text and "hard-negative FPR" in text and "false-positive rate per negative type" in text
    assert "P(first better)" in text and "95% CI" in text


@pytest.mark.slow
def test_batch_scoring_notebook(tmp_path, monkeypatch):
    monkeypatch.setenv("NB_MODEL", "baseline")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    text = _outputs(_run("02_batch_scoring_error_analysis.ipynb", tmp_path))
    assert "false positives by negative type" in text
