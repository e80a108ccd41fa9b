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

#: Sentences (written for the tests) the tiny tokenizer is trained on.
TOKENIZER_TEXT = [
    "Camat hadir dalam deklarasi pasangan calon bupati nomor urut dua.",
    "Guru PNS mengunggah foto bersama calon wali kota di media sosial.",
    "Bawaslu menggelar sosialisasi netralitas ASN bagi pegawai pemerintah daerah.",
    "Kepala dinas meminta bawahan memilih calon petahana pada pilkada.",
    "Harga cabai naik di pasar induk karena cuaca buruk.",
    "KPU mendistribusikan logistik pemilu ke kecamatan dan desa.",
    "sbg pns sy dukung paslon ya gaes coblos #lanjutkan",
]


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
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    path = tmp_path_factory.mktemp("tiny_bert")
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(vocab_size=800, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    mini = [json.loads(x)["text"] for x in MINI.read_text(encoding="utf-8").splitlines()]
    tok.train_from_iterator(TOKENIZER_TEXT * 3 + mini, trainer)
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]", special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                                   sep_token="[SEP]", mask_token="[MASK]", model_max_length=512)
    fast.save_pretrained(path)
    config = BertConfig(vocab_size=tok.get_vocab_size(), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=512)
    import torch

    torch.manual_seed(0)
    BertModel(config).save_pretrained(path)
    return path
