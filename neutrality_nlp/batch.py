"""Batch scoring: stream records from JSONL/CSV/Parquet, score them, write one output record per input.

Guarantees:
  * **nothing is dropped**: every input record (a malformed JSON line, a non-UTF-8 line, a missing or
    empty text, a text over the size limit, one that crashes the model) yields exactly one output record,
    in input order, with ``error`` set when it could not be scored;
  * **bounded memory**: input is read and scored window by window (``window`` records at a time);
  * **resumable**: output is flushed per window and a checkpoint (``OUTPUT.progress.json``) records how
    many records and bytes are safely written; ``resume=True`` truncates anything after the checkpoint
    and continues, so a run killed at any point (even SIGKILL mid-window) ends with no duplicates or gaps;
  * **atomic Parquet**: windows go to part files (each written to a temp name, then renamed) and are
    joined into ``OUTPUT`` at the end with an atomic rename.
"""

from __future__ import annotations

import csv
import glob
import io
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neutrality_nlp.records import RECORD_FIELDS, ScoreRecord

logger = logging.getLogger(__name__)

FORMATS = ("jsonl", "csv", "parquet")

#: Exit code of ``neutrality-nlp score`` when the run finished but some records have an ``error``.
EXIT_RECORD_ERRORS = 3


@dataclass
class InputRecord:
    """One input record: position, id, text (or ``None``), pass-through fields, read error."""

    index: int
    id: Any
    text: Any
    extra: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    #: Share of all input bytes read once this record was read (``None`` when reading stdin).
    fraction: float | None = None


def detect_format(path: str | Path) -> str:
    """``jsonl``, ``csv`` or ``parquet`` from a file name (``-`` is JSONL on stdin)."""
    name = str(path).lower()
    if name == "-" or name.endswith((".jsonl", ".json", ".ndjson", ".jsonl.gz")):
        return "jsonl"
    if name.endswith((".csv", ".tsv")):
        return "csv"
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    raise ValueError(f"cannot tell the format of {path}: use .jsonl, .csv or .parquet")


def expand_inputs(inputs: Sequence[str | Path]) -> list[str]:
    """Files from paths, directories (their .jsonl/.csv/.parquet files) and globs, in sorted order.

    An existing file is taken as it is, even when its name contains glob characters (``berita [1].jsonl``).
    """
    out: list[str] = []
    for item in inputs:
        s = str(item)
        if s == "-":
            out.append(s)
        elif Path(s).is_dir():
            files = sorted(str(p) for p in Path(s).iterdir() if p.is_file() and _known(p.name))
            if not files:
                raise FileNotFoundError(f"no .jsonl/.csv/.parquet files in directory {s}")
            out.extend(files)
        elif any(ch in s for ch in "*?[") and not Path(s).is_file():
            files = sorted(glob.glob(s))
            if not files:
                raise FileNotFoundError(f"no files match {s}")
            out.extend(files)
        elif Path(s).is_file():
            out.append(s)
        else:
            raise FileNotFoundError(f"input not found: {s}")
    return out


def _known(name: str) -> bool:
    try:
        detect_format(name)
        return True
    except ValueError:
        return False


def read_inputs(
    inputs: Sequence[str | Path],
    *,
    text_field: str = "text",
    id_field: str = "id",
    keep_fields: Sequence[str] = (),
) -> Iterator[InputRecord]:
    """Stream :class:`InputRecord` s from all inputs, numbering them across files.

    Ids come from ``id_field``; when absent they are generated as ``<file name>:<record number>``
    (1-based within the file), which is stable across runs.
    """
    index = 0
    paths = expand_inputs(inputs)
    sizes = {p: Path(p).stat().st_size for p in paths if p != "-"}
    total = sum(sizes.values()) if "-" not in paths else 0
    done_before = 0
    for path in paths:
        reader = READERS[detect_format(path)]
        stem = "stdin" if path == "-" else Path(path).name
        for n, (row, error, consumed) in enumerate(reader(path), 1):
            rec = InputRecord(index=index, id=f"{stem}:{n}", text=None, error=error,
                              fraction=min(1.0, (done_before + consumed) / total) if total else None)
            if row is not None:
                rid = row.get(id_field)
                if rid is not None and rid != "":
                    rec.id = rid
                rec.text = row.get(text_field)
                if rec.text is None and error is None:
                    rec.error = f"missing text field {text_field!r}"
                rec.extra = {k: row.get(k) for k in keep_fields}
            yield rec
            index += 1
        done_before += sizes.get(path, 0)


#: What every reader yields: (row or None, read error or None, bytes of the file consumed so far).
_Row = tuple[dict[str, Any] | None, str | None, int]


def _read_jsonl(path: str) -> Iterator[_Row]:
    fh = sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115
    consumed = 0
    try:
        for raw in fh:
            consumed += len(raw)
            if not raw.strip():
                continue
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield None, f"line is not valid UTF-8 (byte {exc.start})", consumed
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                yield None, f"invalid JSON: {exc.msg} at column {exc.colno}", consumed
                continue
            if not isinstance(obj, dict):
                yield None, f"expected a JSON object, got {type(obj).__name__}", consumed
                continue
            yield obj, None, consumed
    finally:
        if fh is not sys.stdin.buffer:
            fh.close()


def _read_csv(path: str) -> Iterator[_Row]:
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    delimiter = "\t" if path.lower().endswith(".tsv") else ","
    with open(path, "rb") as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", errors="surrogateescape", newline="")
        reader = csv.DictReader(text, delimiter=delimiter)
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield None, f"malformed CSV row: {exc}", raw.tell()
                continue
            if any(isinstance(v, str) and _has_surrogates(v) for v in row.values()):
                yield None, "row is not valid UTF-8", raw.tell()
                continue
            if None in row:  # more cells than header columns
                row.pop(None)
            yield row, None, raw.tell()


def _has_surrogates(s: str) -> bool:
    try:
        s.encode("utf-8")
        return False
    except UnicodeEncodeError:
        return True


def _read_parquet(path: str) -> Iterator[_Row]:
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    size, rows, seen = Path(path).stat().st_size, max(pf.metadata.num_rows, 1), 0
    for batch in pf.iter_batches(batch_size=1024):
        for row in batch.to_pylist():
            seen += 1
            yield row, None, size * seen // rows


#: The row reader of each input format: ``reader(path)`` yields :data:`_Row` tuples.
READERS: dict[str, Callable[[str], Iterator[_Row]]] = {"jsonl": _read_jsonl, "csv": _read_csv,
                                                       "parquet": _read_parquet}


# -- writers --------------------------------------------------------------------------------------------

def flat_value(value: Any) -> Any:
    """A nested value (dict, list) JSON-encoded for a CSV/Parquet cell; anything else unchanged."""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else value


def _flat(d: dict[str, Any]) -> dict[str, Any]:
    """Nested values JSON-encoded for CSV/Parquet columns."""
    return {k: flat_value(v) for k, v in d.items()}


class _Checkpoint:
    def __init__(self, output: Path) -> None:
        self.path = output.with_name(output.name + ".progress.json")

    def read(self) -> dict[str, Any] | None:
        if not self.path.is_file():
            return None
        return json.loads(self.path.read_text())

    def write(self, state: dict[str, Any]) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(state))
        os.replace(tmp, self.path)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


class _Writer:
    """Appends windows of output dicts; ``position()`` is what the checkpoint stores."""

    def __init__(self, output: Path, fmt: str, columns: Sequence[str]) -> None:
        self.output, self.fmt, self.columns = output, fmt, list(columns)
        self.parts = output.with_name(output.name + ".parts")
        self.fh: Any = None
        self.n_parts = 0

    def open(self, state: dict[str, Any] | None) -> None:
        if self.fmt == "parquet":
            self.parts.mkdir(parents=True, exist_ok=True)
            keep = state["parts"] if state else 0
            for p in self.parts.iterdir():  # drop parts written after the checkpoint, and temp files
                if p.suffix != ".parquet" or int(p.stem.split("-")[1]) >= keep:
                    p.unlink()
            self.n_parts = keep
            return
        mode = "r+b" if state else "wb"
        if state is None:
            self.output.parent.mkdir(parents=True, exist_ok=True)
        self.fh = open(self.output, mode)  # noqa: SIM115
        if state:
            self.fh.truncate(state["bytes"])
            self.fh.seek(state["bytes"])
        elif self.fmt == "csv":
            self.fh.write(_csv_line(self.columns))

    def write(self, rows: list[dict[str, Any]]) -> None:
        if self.fmt == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pylist([_flat(r) for r in rows], schema=_parquet_schema(self.columns, rows))
            final = self.parts / f"part-{self.n_parts:06d}.parquet"
            tmp = self.parts / f".tmp-{self.n_parts:06d}"
            pq.write_table(table, tmp)
            os.replace(tmp, final)
            self.n_parts += 1
            return
        buf = io.BytesIO()
        for r in rows:
            if self.fmt == "jsonl":
                buf.write((json.dumps(r, ensure_ascii=False, default=str) + "\n").encode("utf-8"))
            else:
                flat = _flat(r)
                buf.write(_csv_line([flat.get(c) for c in self.columns]))
        self.fh.write(buf.getvalue())
        self.fh.flush()
        os.fsync(self.fh.fileno())

    def position(self) -> dict[str, Any]:
        if self.fmt == "parquet":
            return {"parts": self.n_parts}
        return {"bytes": self.fh.tell()}

    def finish(self) -> None:
        if self.fmt == "parquet":
            import pyarrow.parquet as pq

            files = sorted(self.parts.glob("part-*.parquet"))
            tmp = self.output.with_name(self.output.name + ".tmp")
            if files:
                schema = pq.read_schema(files[0])
                with pq.ParquetWriter(tmp, schema) as w:
                    for f in files:
                        w.write_table(pq.read_table(f).cast(schema))
            else:
                import pyarrow as pa

                pq.write_table(pa.Table.from_pylist([], schema=_parquet_schema(self.columns, [])), tmp)
            os.replace(tmp, self.output)
            for f in self.parts.iterdir():
                f.unlink()
            self.parts.rmdir()
        elif self.fh is not None:
            self.fh.close()


def _csv_line(values: Sequence[Any]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(["" if v is None else v for v in values])
    return buf.getvalue().encode("utf-8", errors="replace")


def _parquet_schema(columns: Sequence[str], rows: list[dict[str, Any]]) -> Any:
    import pyarrow as pa

    fixed = {"flagged": pa.bool_(), "score": pa.float64(), "threshold": pa.float64()}
    return pa.schema([(c, fixed.get(c, pa.string())) for c in columns])


# -- the run ---------------------------------------------------------------------------------------------

@dataclass
class RunSummary:
    """What a batch run did."""

    records: int = 0
    flagged: int = 0
    errors: int = 0
    resumed_from: int = 0
    seconds: float = 0.0
    output: str = ""

    @property
    def rate(self) -> float:
        """Records per second scored in this run."""
        done = self.records - self.resumed_from
        return done / self.seconds if self.seconds > 0 else 0.0


def check_keep_fields(keep_fields: Sequence[str]) -> None:
    """Refuse kept input fields named like an output field (``categories``, ``score``…): the output's field
    would hide the input's, and a kept field must never be dropped silently."""
    clash = [k for k in keep_fields if k in RECORD_FIELDS]
    if clash:
        raise ValueError(f"--keep-fields {', '.join(clash)}: an output field has that name; rename the input "
                         f"field first (output fields: {', '.join(RECORD_FIELDS)})")


class BatchRun:
    """The output side of a batch run, shared by the local and the Ray engine: option checks, the resume
    checkpoint, the writer and the summary. Feed it output dicts window by window with :meth:`commit`; each
    commit is flushed and checkpointed before it returns."""

    def __init__(self, output: str | Path, *, fingerprint: str, keep_fields: Sequence[str] = (),
                 output_format: str | None = None, only_flagged: bool = False, resume: bool = False,
                 overwrite: bool = False) -> None:
        check_keep_fields(keep_fields)
        self.output = Path(output)
        self.fmt = output_format or detect_format(self.output)
        if self.fmt not in FORMATS:
            raise ValueError(f"unknown output format {self.fmt!r}")
        self.fingerprint, self.only_flagged = fingerprint, only_flagged
        self.checkpoint = _Checkpoint(self.output)
        state = self.checkpoint.read() if resume else None
        if state is not None and state.get("fingerprint") != fingerprint:
            raise ValueError(f"cannot resume {self.output}: it was written from other inputs or options "
                             "(remove it or use --overwrite)")
        if state is None and not overwrite and (self.output.exists() or self.checkpoint.path.exists()):
            if resume and self.output.exists() and not self.checkpoint.path.exists():
                raise FileExistsError(f"{self.output} is complete (no checkpoint to resume); use --overwrite")
            if not resume:
                raise FileExistsError(f"{self.output} exists: use --resume to continue it or --overwrite")
        columns = [*RECORD_FIELDS, *[k for k in keep_fields if k not in RECORD_FIELDS]]
        self.writer = _Writer(self.output, self.fmt, columns)
        self.writer.open(state)
        self.summary = RunSummary(output=str(self.output))
        #: Records already written by the run being resumed (skip that many input records).
        self.skip = state["records"] if state else 0
        self.summary.resumed_from = self.skip
        if state:
            self.summary.records, self.summary.flagged, self.summary.errors = (
                self.skip, state["flagged"], state["errors"])
        self._start = time.perf_counter()

    def commit(self, rows: Sequence[dict[str, Any]]) -> None:
        """Write one window of output dicts (in input order), then checkpoint it."""
        kept = [r for r in rows if r["flagged"] or not self.only_flagged]
        if kept or self.fmt != "parquet":
            self.writer.write(kept)
        self.summary.records += len(rows)
        self.summary.flagged += sum(bool(r["flagged"]) for r in rows)
        self.summary.errors += sum(r["error"] is not None for r in rows)
        self.checkpoint.write({"records": self.summary.records, "flagged": self.summary.flagged,
                               "errors": self.summary.errors, "fingerprint": self.fingerprint,
                               **self.writer.position()})

    def finish(self) -> RunSummary:
        """Close the output (the atomic rename for Parquet) and drop the checkpoint."""
        self.writer.finish()
        self.checkpoint.remove()
        self.summary.seconds = time.perf_counter() - self._start
        return self.summary


def score_file(
    scorer: Any,
    inputs: Sequence[str | Path],
    output: str | Path,
    *,
    text_field: str = "text",
    id_field: str = "id",
    keep_fields: Sequence[str] = (),
    output_format: str | None = None,
    only_flagged: bool = False,
    resume: bool = False,
    overwrite: bool = False,
    window: int = 512,
    progress: Callable[[int, int, int, float | None], None] | None = None,
) -> RunSummary:
    """Score every record of ``inputs`` into ``output`` (see the module docstring for guarantees).

    ``progress(records_done, flagged, errors, fraction)`` is called after each window; ``fraction`` is the
    share of the input bytes read so far (``None`` for stdin), for an ETA.
    """
    run = BatchRun(output, fingerprint=_fingerprint(inputs, scorer, text_field, id_field, keep_fields, only_flagged),
                   keep_fields=keep_fields, output_format=output_format, only_flagged=only_flagged, resume=resume,
                   overwrite=overwrite)
    summary = run.summary
    window_recs: list[InputRecord] = []

    def flush() -> None:
        run.commit([r.to_dict() for r in score_window(scorer, window_recs)])
        if progress:
            progress(summary.records, summary.flagged, summary.errors, window_recs[-1].fraction)

    for rec in read_inputs(inputs, text_field=text_field, id_field=id_field, keep_fields=keep_fields):
        if rec.index < run.skip:
            continue
        window_recs.append(rec)
        if len(window_recs) >= window:
            flush()
            window_recs = []
    if window_recs:
        flush()
    return run.finish()


def score_window(scorer: Any, recs: Sequence[InputRecord]) -> list[ScoreRecord]:
    """Score one window of input records (read errors pass straight through as error records)."""
    good = [r for r in recs if r.error is None]
    scored = iter(scorer.score([r.text for r in good], ids=[r.id for r in good]) if good else [])
    out = []
    for r in recs:
        if r.error is None:
            result = next(scored)
        else:
            result = ScoreRecord.failed(r.id, r.error, threshold=scorer.threshold, model=scorer.model_id)
        result.extra = dict(r.extra)
        out.append(result)
    return out


def _fingerprint(inputs: Sequence[str | Path], scorer: Any, text_field: str, id_field: str,
                 keep_fields: Sequence[str], only_flagged: bool) -> str:
    import hashlib

    # precision changes scores (bf16 by up to ~0.02, int8 more), so a resumed run must keep it
    parts = [scorer.model_id, str(getattr(scorer, "precision", "")), text_field, id_field, ",".join(keep_fields),
             str(only_flagged)]
    for p in expand_inputs(inputs):
        if p == "-":
            parts.append("stdin")
        else:
            st = Path(p).stat()
            parts.append(f"{Path(p).resolve()}:{st.st_size}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]
