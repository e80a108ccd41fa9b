"""Scale-out scoring on Ray Data.

The driver streams input records with the same reader as the local engine (so ids, read errors and
order are identical), hands them to Ray Data in chunks, and a pool of actors — each loading the model
once — scores them with ``map_batches``. Results come back in input order and go through the local
engine's writer and checkpoints, so ``--resume`` and atomic Parquet work the same way.

On a cluster: start Ray on the nodes (``ray start --head`` / ``ray start --address=HEAD:6379``), make
the model reachable from every node (a shared path, or install the package with the model on each), and
run ``neutrality-nlp score INPUT -o OUT --engine ray --ray-address auto --ray-workers N``. With GPUs, each
actor takes ``gpus_per_worker`` of a GPU.

A run never hangs: each chunk must finish within ``timeout`` seconds, else the run stops with an error
(completed chunks stay written and can be resumed).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from neutrality_nlp.batch import BatchRun, InputRecord, RunSummary, _fingerprint, read_inputs, score_window


class _ScoreActor:
    """Ray actor: loads the model once, scores batches of serialised input records."""

    def __init__(self, model: str, model_kwargs: dict[str, Any] | None = None) -> None:
        from neutrality_nlp.scoring import load_scorer

        self.scorer = load_scorer(model, **(model_kwargs or {}))

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[str]]:
        recs = []
        for payload in batch["record"]:
            d = json.loads(str(payload))
            recs.append(InputRecord(index=d["index"], id=d["id"], text=d["text"], extra=d["extra"], error=d["error"]))
        results = score_window(self.scorer, recs)
        return {"index": [r.index for r in recs], "result": [json.dumps(x.to_dict(), ensure_ascii=False,
                                                                         default=str) for x in results]}


def _init_ray(address: str | None, workers: int) -> float:
    """Connect to (or start) Ray; returns the CPUs each actor asks for."""
    import ray

    if ray.is_initialized():
        cpus = ray.cluster_resources().get("CPU", 1)
    elif address:
        ray.init(address=address, ignore_reinit_error=True, log_to_driver=False)
        cpus = ray.cluster_resources().get("CPU", 1)
    else:
        # Give Ray more logical CPUs than cores: read/transfer tasks need CPU slots beside the actors, and a
        # pool that takes every slot deadlocks (seen with 2 actors x 1 CPU on a 2-core machine).
        cpus = max(os.cpu_count() or 1, workers) + 2
        ray.init(num_cpus=cpus, include_dashboard=False, ignore_reinit_error=True, log_to_driver=False,
                 configure_logging=False)
    # Leave at least one CPU slot free for Ray Data's own tasks.
    return max(0.1, min(1.0, (cpus - 1) / max(workers, 1)))


def score_with_ray(
    model: str,
    inputs: Sequence[str | Path],
    output: str | Path,
    *,
    text_field: str = "text",
    id_field: str = "id",
    keep_fields: Sequence[str] = (),
    only_flagged: bool = False,
    output_format: str | None = None,
    address: str | None = None,
    workers: int = 2,
    gpus_per_worker: float = 0.0,
    batch_size: int = 64,
    chunk: int = 4096,
    timeout: float = 3600.0,
    resume: bool = False,
    overwrite: bool = False,
    model_kwargs: dict[str, Any] | None = None,
) -> RunSummary:
    """Score ``inputs`` into ``output`` on Ray Data; same output and guarantees as the local engine.

    ``model_kwargs`` go to :func:`~neutrality_nlp.scoring.load_scorer` in every actor (e.g. ``precision="int8"``).
    """
    import ray

    from neutrality_nlp.scoring import load_scorer, resolve_model_path

    model_path = str(resolve_model_path(model)) if model != "default" else model
    # resolves fallbacks once; gives the model id and threshold for read-error records
    probe = load_scorer(model_path, **(model_kwargs or {}))
    run = BatchRun(output, fingerprint=_fingerprint(inputs, probe, text_field, id_field, keep_fields, only_flagged),
                   keep_fields=keep_fields, output_format=output_format, only_flagged=only_flagged, resume=resume,
                   overwrite=overwrite)
    actor_cpus = _init_ray(address, workers)
    pending: list[str] = []

    def run_chunk(payloads: list[str]) -> None:
        ds = ray.data.from_items([{"record": p} for p in payloads])
        ds = ds.map_batches(_ScoreActor, fn_constructor_args=(model_path, model_kwargs), batch_size=batch_size,
                            compute=ray.data.ActorPoolStrategy(size=workers), num_cpus=actor_cpus,
                            num_gpus=gpus_per_worker or None, batch_format="numpy")
        rows = _bounded(lambda: ds.take_all(), timeout)
        rows.sort(key=lambda r: int(r["index"]))  # order is restored whatever Ray's execution order
        results = [json.loads(str(r["result"])) for r in rows]
        if len(results) != len(payloads):
            raise RuntimeError(f"Ray returned {len(results)} results for {len(payloads)} records")
        run.commit(results)

    for rec in read_inputs(inputs, text_field=text_field, id_field=id_field, keep_fields=keep_fields):
        if rec.index < run.skip:
            continue
        pending.append(json.dumps({"index": rec.index, "id": rec.id, "text": rec.text, "extra": rec.extra,
                                   "error": rec.error}, ensure_ascii=False, default=str))
        if len(pending) >= chunk:
            run_chunk(pending)
            pending = []
    if pending:
        run_chunk(pending)
    return run.finish()


def _bounded(fn: Any, timeout: float) -> Any:
    """Run ``fn`` in a thread; raise :class:`TimeoutError` if it takes longer than ``timeout`` seconds."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        raise TimeoutError(f"Ray chunk did not finish within {timeout:.0f} s")
    if "error" in box:
        raise box["error"]
    return box["value"]
