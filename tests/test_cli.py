"""The neutrality-nlp command line, with the shipped models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from neutrality_nlp.cli import app

runner = CliRunner()
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _json(output: str) -> dict:
    return json.loads(output[output.index("{"):])


def test_check_seeds_with_default_model(seeds):
    bima, bekasi = seeds
    r = runner.invoke(app, ["check", "--file", str(bekasi), "--json"])
    assert r.exit_code == 0, r.output
    rec = _json(r.stdout)
    assert rec["model"].startswith("neutrality-e5@"), "the shipped default model should load"
    assert rec["flagged"] is False and rec["error"] is None and rec["category"] is None
    r = runner.invoke(app, ["check", "--file", str(bima), "--json"])
    assert r.exit_code == 0, r.output
    rec = _json(r.stdout)
    top2 = sorted(rec["categories"], key=rec["categories"].get, reverse=True)[:2]
    assert "hadir_deklarasi" in top2  # the category head reads the registration the text alleges
    raw = bima.read_text(encoding="utf-8")
    assert rec["evidence"]
    for ev in rec["evidence"]:
        assert raw[ev["start"]:ev["end"]].split() == ev["text"].split()


def test_default_model_flags_bima_seed(seeds):
    # One hedged, unpunctuated allegation in a 600-word essay about the rules (model 0.1.0 missed it).
    bima, _ = seeds
    rec = _json(runner.invoke(app, ["check", "--file", str(bima), "--json"]).stdout)
    assert rec["flagged"] is True
    assert any("menghadiri pendaftaran" in ev["text"] for ev in rec["evidence"])


def test_check_bekasi_with_baseline(seeds):
    # The baseline (bag of words) does not flag the Bekasi socialisation report; it also misses the Bima
    # allegation, a single sentence in a long essay about the rules (see README, "Results").
    _, bekasi = seeds
    r = runner.invoke(app, ["check", "--file", str(bekasi), "--json", "--model", "baseline"])
    assert r.exit_code == 0
    rec = _json(r.stdout)
    assert rec["flagged"] is False and rec["model"].startswith("baseline@") and rec["error"] is None


def test_check_human_output_in_both_languages():
    article = str(EXAMPLES / "artikel_pilkada.txt")
    r = runner.invoke(app, ["check", "--file", article])
    assert r.exit_code == 0 and "TERINDIKASI" in r.stdout and "Kalimat bukti" in r.stdout
    assert "hadir di deklarasi/pendaftaran calon" in r.stdout
    r = runner.invoke(app, ["check", "--file", article, "--lang", "en"])
    assert "FLAGGED" in r.stdout and "Evidence" in r.stdout and "attending a declaration" in r.stdout
    r = runner.invoke(app, ["check", "--file", str(EXAMPLES / "sosialisasi.txt"), "--lang", "en"])
    assert r.exit_code == 0 and "Not flagged" in r.stdout


def test_check_text_argument_and_stdin():
    r = runner.invoke(app, ["check", "Harga cabai di pasar naik lagi minggu ini.", "--json", "--model", "baseline"])
    assert r.exit_code == 0 and _json(r.stdout)["flagged"] is False
    r = runner.invoke(app, ["check", "--file", "-", "--json", "--model", "baseline"],
                      input="Camat ikut deklarasi pasangan calon bupati nomor urut 2 dan berorasi.")
    assert r.exit_code == 0 and "score" in _json(r.stdout)


def test_check_unreadable_input_is_a_clear_error(tmp_path):
    r = runner.invoke(app, ["check", "--file", str(tmp_path / "missing.txt")])
    assert r.exit_code != 0 and "cannot read" in r.output
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\xfe\xfa rusak")
    r = runner.invoke(app, ["check", "--file", str(bad), "--model", "baseline"])
    assert r.exit_code != 0 and "UTF-8" in r.output
    r = runner.invoke(app, ["check"])
    assert r.exit_code != 0 and "nothing to check" in r.output
    r = runner.invoke(app, ["check", "x", "--model", "nope"])
    assert r.exit_code != 0 and "no model" in r.output


def test_score_command_seeds_and_exit_codes(seeds, tmp_path):
    bima, bekasi = seeds
    src = tmp_path / "in.jsonl"
    with src.open("w", encoding="utf-8") as fh:
        fh.write(json.dumps({"id": "bima", "text": bima.read_text(encoding="utf-8")}, ensure_ascii=False) + "\n")
        fh.write(json.dumps({"id": "bekasi", "text": bekasi.read_text(encoding="utf-8")}, ensure_ascii=False) + "\n")
    out = tmp_path / "out.jsonl"
    r = runner.invoke(app, ["score", str(src), "--output", str(out)])
    assert r.exit_code == 0, r.output
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert [x["id"] for x in rows] == ["bima", "bekasi"]
    assert rows[0]["flagged"] is True and rows[0]["category"] == "hadir_deklarasi" and rows[1]["flagged"] is False
    for row, seed in zip(rows, seeds, strict=True):  # score and check give the same record
        rec = _json(runner.invoke(app, ["check", "--file", str(seed), "--json"]).stdout)
        assert {k: row[k] for k in ("flagged", "category", "model")} == {k: rec[k] for k in ("flagged", "category",
                                                                                          "model")}
        assert row["score"] == pytest.approx(rec["score"], abs=1e-4)
        assert row["evidence"] and row["error"] is None
    with src.open("a") as fh:
        fh.write("{broken\n")
    r = runner.invoke(app, ["score", str(src), "--output", str(out), "--model", "baseline", "--overwrite"])
    assert r.exit_code == 3 and "1 errors" in r.output
    r = runner.invoke(app, ["score", str(tmp_path / "nope.jsonl"), "--output", str(out)])
    assert r.exit_code == 2 and "not found" in r.output
    r = runner.invoke(app, ["score", str(src), "--output", str(out), "--overwrite", "--precision", "int4"])
    assert r.exit_code == 2 and "--precision must be one of" in r.output


def test_evaluate_writes_json(tmp_path, mini_records):
    from tests.conftest import MINI

    out = tmp_path / "report.json"
    r = runner.invoke(app, ["evaluate", str(MINI), "--model", "baseline", "--json-out", str(out)])
    assert r.exit_code == 0, r.output
    report = json.loads(out.read_text())
    assert report["n"] == len(mini_records)
    assert {"precision", "recall", "f1", "pr_auc", "confusion", "per_category", "per_negative_type"} <= set(report)
    assert "per_boundary_negative" in report
    # evidence offsets map back into the raw text: the shipped baseline points at the gold act
    assert report["evidence_n"] > 0 and report["evidence_hit_at_3"] >= 0.8
    assert sum(v["fp"] for v in report["per_negative_type"].values()) <= report["confusion"]["fp"]
    for v in report["per_category"].values():
        assert v["fn"] == round(v["n"] * (1 - v["flag_recall"]))
    assert "confusion" in r.stdout


def test_train_baseline_writes_its_version(tmp_path, mini_records):
    from neutrality_nlp.scoring import load_scorer
    from tests.conftest import MINI

    out = tmp_path / "bl"
    r = runner.invoke(app, ["train", "--kind", "baseline", "--train", str(MINI), "--dev", str(MINI),
                            "--no-extra-corpora", "--output", str(out), "--model-version", "9.9.1"])
    assert r.exit_code == 0, r.output
    card = json.loads((out / "model_card.json").read_text())
    assert card["version"] == "9.9.1" and "--model-version 9.9.1" in card["command"]
    scorer = load_scorer(str(out))
    assert scorer.model_id.endswith("@9.9.1")  # output records and batch-resume fingerprints carry it
    assert scorer.score([mini_records[0]["text"]])[0].model.endswith("@9.9.1")


def test_compare_pairs_two_models_on_the_same_records(tmp_path, mini_records):
    from tests.conftest import MINI

    other = tmp_path / "bl"
    r = runner.invoke(app, ["train", "--kind", "baseline", "--train", str(MINI), "--dev", str(MINI),
                            "--no-extra-corpora", "--output", str(other), "--model-version", "9.9.2"])
    assert r.exit_code == 0, r.output
    out = tmp_path / "cmp.json"
    r = runner.invoke(app, ["compare", str(MINI), "-m", "baseline", "-m", str(other), "--bootstrap", "200",
                            "--json-out", str(out)])
    assert r.exit_code == 0, r.output
    payload = json.loads(out.read_text())
    names = list(payload["reports"])
    assert len(names) == 2 and names[1].endswith("@9.9.2")
    for name in names:
        ci = payload["bootstrap"]["f1"][name]
        assert ci["f1"] == payload["reports"][name]["f1"] and ci["low"] <= ci["f1"] <= ci["high"]
        assert payload["reports"][name]["n"] == len(mini_records)
    diff = payload["bootstrap"]["diff"][f"{names[0]} - {names[1]}"]
    assert diff["low"] <= diff["diff"] <= diff["high"] and 0.0 <= diff["p_a_better"] <= 1.0
    assert "paired bootstrap" in r.stdout
    r = runner.invoke(app, ["compare", str(MINI), "-m", "baseline"])
    assert r.exit_code == 2 and "two different" in r.output


def test_train_warns_on_a_config_saved_before_keys_existed(tmp_path):
    import yaml

    from neutrality_nlp.training_args import TrainingConfig

    old = {k: v for k, v in TrainingConfig().to_dict().items() if k not in ("buried_evidence", "buried_actor_only")}
    path = tmp_path / "training_config.yaml"
    path.write_text(yaml.safe_dump(old))
    # conflicting version flags stop the run before any training, after the config check
    r = runner.invoke(app, ["train", str(path), "--set", "version=1.0.0", "--model-version", "2.0.0"])
    assert r.exit_code == 2 and "disagree" in r.output
    assert "--set buried_evidence=0 --set buried_actor_only=false" in " ".join(r.output.split())
    r = runner.invoke(app, ["train", str(path), "--set", "buried_evidence=0", "--set", "buried_actor_only=false",
                            "--set", "version=1.0.0", "--model-version", "2.0.0"])
    assert r.exit_code == 2 and "saved before" not in r.output


def test_evaluate_save_to_card_records_each_data_version_once(tmp_path, mini_records):
    import hashlib

    from tests.conftest import MINI

    model = tmp_path / "bl"
    r = runner.invoke(app, ["train", "--kind", "baseline", "--train", str(MINI), "--dev", str(MINI),
                            "--no-extra-corpora", "--output", str(model)])
    assert r.exit_code == 0, r.output
    report = tmp_path / "r.json"
    for _ in range(2):  # the same data twice: one entry
        r = runner.invoke(app, ["evaluate", str(MINI), "--model", str(model), "--save-to-card",
                                "--json-out", str(report)])
        assert r.exit_code == 0, r.output
    card = json.loads((model / "model_card.json").read_text())
    (entry,) = card["evaluations"]
    assert entry["data"][0]["sha256"] == hashlib.sha256(MINI.read_bytes()).hexdigest()
    assert entry["metrics"]["f1"] == json.loads(report.read_text())["f1"]
    assert entry["metrics"]["n"] == len(mini_records) and "--model" in entry["command"]
    fewer = tmp_path / "fewer.jsonl"
    fewer.write_text("".join(MINI.read_text(encoding="utf-8").splitlines(keepends=True)[:-1]), encoding="utf-8")
    r = runner.invoke(app, ["evaluate", str(fewer), "--model", str(model), "--save-to-card"])
    assert r.exit_code == 0, r.output
    card = json.loads((model / "model_card.json").read_text())
    assert [e["metrics"]["n"] for e in card["evaluations"]] == [len(mini_records), len(mini_records) - 1]


def test_evaluate_reports_malformed_data(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "a", "flag": 1}\n{"text": "b", "flag": "ya"}\n')
    r = runner.invoke(app, ["evaluate", str(bad), "--model", "baseline"])
    assert r.exit_code != 0 and "line 2" in r.output and "flag" in r.output


def test_info_lists_models():
    r = runner.invoke(app, ["info"])
    assert r.exit_code == 0 and "baseline" in r.stdout and "models folder" in r.stdout


def test_data_validate_passes_on_corpus():
    r = runner.invoke(app, ["data", "validate"])
    assert r.exit_code == 0, r.output


def test_score_refuses_a_kept_field_named_like_an_output_field(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a", "text": "Camat hadir.", "score": 3}) + "\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["score", str(src), "-o", str(tmp_path / "out.jsonl"), "-m", "baseline",
                                   "--keep-fields", "url,score"])
    assert res.exit_code == 2
    assert "--keep-fields score: an output field has that name" in res.output
    assert not (tmp_path / "out.jsonl").exists()
