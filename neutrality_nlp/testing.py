"""Tiny local models for tests, notebooks and smoke runs (no download, a second to build)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

#: Sentences a tiny tokenizer is trained on, beside whatever texts the caller adds.
TOKENIZER_TEXT: tuple[str, ...] = (
    "Camat hadir dalam deklarasi pasangan calon bupati nomor urut dua.",
    "Guru PNS mengunggah foto bersama calon wali kota di media sosial.",
    "Bawaslu menggelar sosialisasi netralitas ASN bagi pegawai pemerintah daerah.",
    "Kepala dinas meminta bawahan memilih calon petahana pada pilkada.",
    "Harga cabai naik di pasar induk karena cuaca buruk.",
    "KPU mendistribusikan logistik pemilu ke kecamatan dan desa.",
    "sbg pns sy dukung paslon ya gaes coblos #lanjutkan",
)


def build_tiny_bert(path: str | Path, texts: Sequence[str] = (), *, vocab_size: int = 800, hidden: int = 32,
                    layers: int = 2, seed: int = 0) -> Path:
    """Save a randomly initialised BERT with a WordPiece tokenizer trained on ``texts`` into ``path``.

    The result loads with ``AutoModel``/``AutoTokenizer`` like any hub checkpoint and trains through the same
    code path as IndoBERT or e5 (``TrainingConfig(base_model=str(path))``).
    """
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size,
                                        special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    tok.train_from_iterator([*TOKENIZER_TEXT, *TOKENIZER_TEXT, *TOKENIZER_TEXT, *texts], trainer)
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]", special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                                   sep_token="[SEP]", mask_token="[MASK]", model_max_length=512)
    fast.save_pretrained(path)
    config = BertConfig(vocab_size=tok.get_vocab_size(), hidden_size=hidden, num_hidden_layers=layers,
                        num_attention_heads=2, intermediate_size=hidden * 2, max_position_embeddings=512)
    torch.manual_seed(seed)
    BertModel(config, add_pooling_layer=False).save_pretrained(path)
    return path
