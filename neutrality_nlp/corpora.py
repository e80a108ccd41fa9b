"""Adapters for the public Indonesian corpora in ``../shared/corpora`` (never copied into the repo).

Two uses:
  * :func:`extra_negatives` — flag = 0 records from the corpora whose licence allows training
    (everyday text, political talk and partisan tweets with no civil servant), marked by ``source``;
    added to the *training* split only, and only when the folder is present;
  * :func:`probe_texts` — texts from sets with no stated licence, for false-positive measurements only.
"""

from __future__ import annotations

import ast
import csv
import os
import random
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from neutrality_nlp.data import ASN_TERMS


def shared_dir() -> Path:
    """``$NEUTRALITY_NLP_SHARED``, else ``../shared`` next to the repository."""
    env = os.environ.get("NEUTRALITY_NLP_SHARED")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared"


def corpora_dir() -> Path:
    """The folder of public corpora."""
    return shared_dir() / "corpora"


def _csv_rows(path: Path, encoding: str = "utf-8", delimiter: str = ",") -> Iterator[dict[str, str]]:
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    with path.open(encoding=encoding, errors="replace", newline="") as fh:
        yield from csv.DictReader(fh, delimiter=delimiter)


def _neg(source: str, n: int, text: str, *, genre: str, negative_type: str, partisan: int = 0,
         election: str | None = None) -> dict[str, Any]:
    return {
        "id": f"{source}-{n:05d}", "text": text.strip(), "flag": 0, "categories": [], "evidence": [],
        "partisan": partisan, "genre": genre, "actor": "other", "negative_type": negative_type,
        "boundary": None, "election": election, "region": None, "source": f"corpus:{source}",
    }


def smsa(root: Path) -> Iterator[dict[str, Any]]:
    """IndoNLU SmSA (Apache-2.0): everyday reviews and comments."""
    path = root / "IndoNLP__indonlu/dataset/smsa_doc-sentiment-prosa/train_preprocess.tsv"
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh):
            text = line.rsplit("\t", 1)[0]
            yield _neg("smsa", n, text, genre="social", negative_type="lainnya")


def nusax(root: Path) -> Iterator[dict[str, Any]]:
    """NusaX-Senti Indonesian (CC BY-SA 4.0)."""
    for n, row in enumerate(_csv_rows(root / "IndoNLP__nusax/datasets/sentiment/indonesian/train.csv")):
        yield _neg("nusax", n, row["text"], genre="social", negative_type="lainnya")


def stance_blogs(root: Path) -> Iterator[dict[str, Any]]:
    """Kompasiana political opinion blogs (CC BY-NC-SA 4.0): partisan opinion, no civil servant."""
    path = root / "reneje__id-stance-political-blogs/dataset_stance_2_label_2018_building_by_rini.csv"
    for n, row in enumerate(_csv_rows(path, encoding="utf-8-sig", delimiter=";")):
        body = blog_body(row.get("Isi Artikel") or "")
        title = (row.get("Judul Artikel") or "").strip()
        if body:
            stance = (row.get("stance final") or "").strip().lower()
            yield _neg("stance_blogs", n, f"{title}\n\n{body}", genre="opinion", negative_type="politik_umum",
                       partisan=int(stance in ("for", "against", "againts")))


def blog_body(raw: str) -> str:
    """The blog's body, stored as a Python-style list of paragraphs, joined with blank lines."""
    try:
        parts = ast.literal_eval(raw)
        if isinstance(parts, list):
            return "\n\n".join(str(p).strip() for p in parts if str(p).strip())
    except (ValueError, SyntaxError):
        pass
    return raw.strip()


def hatespeech_tweets(root: Path) -> Iterator[dict[str, Any]]:
    """Multi-label hate-speech tweets (CC BY-NC-SA 4.0; latin-1)."""
    path = root / "okkyibrohim__id-multilabel-hatespeech/re_dataset.csv"
    for n, row in enumerate(_csv_rows(path, encoding="latin-1")):
        text = row["Tweet"]
        political = any(w in text.lower() for w in ("jokowi", "prabowo", "pilpres", "pemilu", "capres",
                                                     "pilkada", "partai", "presiden", "ahok", "anies"))
        yield _neg("hatespeech", n, text, genre="social",
                   negative_type="politik_umum" if political else "lainnya", partisan=int(political))


def pemilu2024_tweets(root: Path) -> Iterator[dict[str, Any]]:
    """Raw Pilpres 2024 tweets from the ABSA project (MIT; latin-1, tab-separated)."""
    path = (root / "luthfilkhairi__ABSA-Transformer-Pemilu2024/crawling_zaki/data/data_mentah/"
                   "crawling_4_25_desember/dataset_politik_10000.csv")
    for n, row in enumerate(_csv_rows(path, encoding="latin-1", delimiter="\t")):
        text = row.get("full_text") or ""
        if len(text) > 20:
            yield _neg("pemilu2024_tweets", n, text, genre="social", negative_type="politik_umum",
                       election="pemilu2024")


#: Training-licensed adapters and how many records each contributes by default.
TRAINING_SOURCES = {
    "smsa": (smsa, 300),
    "nusax": (nusax, 150),
    "stance_blogs": (stance_blogs, 60),
    "hatespeech": (hatespeech_tweets, 300),
    "pemilu2024_tweets": (pemilu2024_tweets, 400),
}


def extra_negatives(per_source: dict[str, int] | None = None, seed: int = 0,
                    root: Path | None = None) -> list[dict[str, Any]]:
    """Sampled flag = 0 records from the training-licensed corpora (empty when they are absent).

    Texts that mention a civil servant (``ASN_TERMS``) are left out: a weak ``flag = 0`` label is only
    safe where no civil servant appears. ``per_source`` overrides the default count of any corpus in
    :data:`TRAINING_SOURCES`; another name is an error (a typo would otherwise keep the default silently).
    """
    unknown = sorted(set(per_source or {}) - set(TRAINING_SOURCES))
    if unknown:
        raise ValueError(f"unknown corpus {', '.join(unknown)} (known: {', '.join(TRAINING_SOURCES)})")
    root = root or corpora_dir()
    if not root.is_dir():
        return []
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    for name, (adapter, default_n) in TRAINING_SOURCES.items():
        n = (per_source or {}).get(name, default_n)
        try:
            pool = [r for r in adapter(root) if r["text"] and not ASN_TERMS.search(r["text"])]
        except FileNotFoundError:
            continue
        seen: set[str] = set()
        unique = [r for r in pool if not (r["text"] in seen or seen.add(r["text"]))]
        out.extend(rng.sample(unique, min(n, len(unique))))
    return out


def probe_texts(name: str, root: Path | None = None, limit: int | None = None) -> list[str]:
    """Evaluation-only texts (no stated licence): ``satria_unlabelled`` (1,000 Pilpres 2024 tweets, the
    project's reserved false-positive probe), ``pilpres2019`` tweets, ``detik_headlines``."""
    root = root or corpora_dir()
    if name == "satria_unlabelled":
        rows = _csv_rows(root / "Nbil-byte__SatriaData2024/data/dataset_unlabeled_penyisihan_bdc_2024.csv",
                         delimiter=";")
        texts = [r.get("Text") or "" for r in rows]
    elif name == "pilpres2019":
        texts = []
        with (root / "MHisyamAvilaS17__pilpres2019-tweets/tweet.csv").open(encoding="utf-8") as fh:
            for line in list(csv.reader(fh))[1:]:
                inner = next(csv.reader([line[0]])) if line else []
                if len(inner) >= 3:
                    t = inner[2]
                    for enc in ("cp1252", "latin-1"):  # undo double-encoded UTF-8
                        try:
                            t = t.encode(enc).decode("utf-8")
                            break
                        except (UnicodeEncodeError, UnicodeDecodeError):
                            continue
                    texts.append(t)
    elif name == "detik_headlines":
        detik = root / "septindwikurnia__Klasifikasi-Kategori-Berita-Detik"
        rows = _csv_rows(detik / "data/raw/berita_detik_5_kategori.csv")
        texts = [next((v for k, v in r.items() if k and "judul" in k.lower()), "") or "" for r in rows]
    else:
        raise ValueError(f"unknown probe {name!r}")
    texts = [t for t in texts if t and t.strip()]
    return texts[:limit] if limit else texts


def long_articles(root: Path | None = None, limit: int | None = None) -> list[str]:
    """Full-length Kompasiana opinion articles (for throughput benchmarks)."""
    root = root or corpora_dir()
    texts = [r["text"] for r in stance_blogs(root)]
    return texts[:limit] if limit else texts
