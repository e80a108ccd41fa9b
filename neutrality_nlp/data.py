"""Labelled data: schema, validation, loading (JSONL/CSV → records or ``datasets.Dataset``), splits.

A *record* is a plain dict with the fields of ``data/SCHEMA.md``. The project's corpus lives in
``data/raw/*.jsonl`` (written records) and ``data/splits/{train,dev,test}.jsonl`` (built by
``neutrality-nlp data build``: validated, near-duplicates grouped, augmented, split). The held-out sets
(``data/heldout/*.jsonl``, ``data/heldout_long/*.jsonl``) were written later, for evaluation only: each lands in its
own split file (``data/splits/heldout.jsonl``, ``heldout_long.jsonl``), and a build fails if one of their records is
a near-duplicate of a corpus record.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from neutrality_nlp.labels import ACTORS, BOUNDARIES, CATEGORIES, ELECTIONS, GENRES, NEGATIVE_TYPES

#: The held-out split: records written after the models were chosen, never used to train, tune or choose.
HELDOUT = "heldout"
#: Every held-out set (folder ``data/<name>/``, split ``data/splits/<name>.jsonl``): ``heldout_long`` holds
#: article-length texts (150-600 words), which ``heldout`` turned out to lack.
HELDOUT_SETS: tuple[str, ...] = (HELDOUT, "heldout_long")
#: Splits assigned by hashing the near-duplicate group (``data/raw``).
HASHED_SPLITS: tuple[str, ...] = ("train", "dev", "test")
SPLITS: tuple[str, ...] = (*HASHED_SPLITS, *HELDOUT_SETS)
#: Fraction of groups per hashed split.
SPLIT_FRACTIONS: dict[str, float] = {"train": 0.70, "dev": 0.15, "test": 0.15}


class DataError(ValueError):
    """A malformed record; the message names the file, line and field."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 field: str | None = None) -> None:
        where = ", ".join(p for p in (path, f"line {line}" if line else None,
                                      f"field {field!r}" if field else None) if p)
        super().__init__(f"{where}: {message}" if where else message)
        self.path, self.line, self.field = path, line, field


def data_dir() -> Path:
    """The repository's ``data/`` folder."""
    return Path(__file__).resolve().parents[1] / "data"


# -- schema -----------------------------------------------------------------------------------------

def validate_record(rec: Any, *, strict: bool = True) -> list[tuple[str, str]]:
    """Problems with one record as ``(field, message)`` pairs; empty when the record is valid.

    ``strict`` checks the full corpus schema (codebook fields); otherwise only ``text`` and ``flag``
    are required, which is what a user's own training file needs.
    """
    if not isinstance(rec, dict):
        return [("", f"expected a JSON object, got {type(rec).__name__}")]
    problems: list[tuple[str, str]] = []
    text = rec.get("text")
    if not isinstance(text, str) or not text.strip():
        problems.append(("text", "missing or empty"))
    flag = rec.get("flag")
    if flag not in (0, 1) or isinstance(flag, bool):
        problems.append(("flag", f"expected 0 or 1, got {flag!r}"))
    cats = rec.get("categories", [])
    if cats is None:
        cats = []
    if not isinstance(cats, list) or any(c not in CATEGORIES for c in cats):
        problems.append(("categories", f"expected a list of {', '.join(CATEGORIES)}; got {cats!r}"))
    elif flag == 0 and cats:
        problems.append(("categories", "must be empty when flag = 0"))
    if not strict:
        return problems
    if flag == 1 and not cats:
        problems.append(("categories", "flag = 1 needs at least one category"))
    if not isinstance(rec.get("id"), str) or not rec.get("id"):
        problems.append(("id", "missing"))
    for name, allowed in (("genre", GENRES), ("actor", ACTORS)):
        if rec.get(name) not in allowed:
            problems.append((name, f"expected one of {', '.join(allowed)}; got {rec.get(name)!r}"))
    if rec.get("partisan") not in (0, 1):
        problems.append(("partisan", f"expected 0 or 1, got {rec.get('partisan')!r}"))
    nt = rec.get("negative_type")
    if flag == 0 and nt not in NEGATIVE_TYPES:
        problems.append(("negative_type", f"flag = 0 needs one of {', '.join(NEGATIVE_TYPES)}; got {nt!r}"))
    if flag == 1 and nt is not None:
        problems.append(("negative_type", "must be null when flag = 1"))
    if rec.get("boundary") not in (None, *BOUNDARIES):
        problems.append(("boundary", f"expected null or one of {', '.join(BOUNDARIES)}"))
    if rec.get("election") not in (None, *ELECTIONS):
        problems.append(("election", f"expected null or one of {', '.join(ELECTIONS)}"))
    evidence = rec.get("evidence", [])
    if not isinstance(evidence, list) or any(not isinstance(e, str) for e in evidence):
        problems.append(("evidence", "expected a list of strings"))
    elif isinstance(text, str):
        for e in evidence:
            if e not in text:
                problems.append(("evidence", f"not a substring of text: {e[:60]!r}"))
        if flag == 1 and not evidence:
            problems.append(("evidence", "flag = 1 needs at least one evidence sentence"))
    return problems


# -- reading ----------------------------------------------------------------------------------------

def _coerce_csv(row: dict[str, str]) -> dict[str, Any]:
    """CSV cells are strings: turn flag/partisan into ints and list fields from JSON or ``a|b``."""
    out: dict[str, Any] = dict(row)
    for key in ("flag", "partisan"):
        v = out.get(key)
        if isinstance(v, str) and v.strip() in ("0", "1"):
            out[key] = int(v.strip())
    for key in ("categories", "evidence"):
        v = out.get(key)
        if isinstance(v, str):
            v = v.strip()
            if v.startswith("["):
                with contextlib.suppress(json.JSONDecodeError):
                    out[key] = json.loads(v)
            else:
                out[key] = [x for x in v.split("|") if x] if v else []
    for key in ("negative_type", "boundary", "election", "region"):
        if out.get(key) == "":
            out[key] = None
    return out


def iter_records(path: str | Path, *, strict: bool = False, text_field: str = "text",
                 label_field: str = "flag") -> Iterator[dict[str, Any]]:
    """Read labelled records from JSONL or CSV, raising :class:`DataError` at the first bad record.

    ``text_field``/``label_field`` rename a user's columns to ``text``/``flag``.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".json", ".ndjson"):
        with path.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise DataError(f"invalid JSON ({exc.msg})", path=str(path), line=lineno) from None
                yield _checked(_rename(rec, text_field, label_field), path, lineno, strict)
    elif suffix in (".csv", ".tsv"):
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh, delimiter="\t" if suffix == ".tsv" else ",")
            for row in reader:
                rec = _coerce_csv(_rename(row, text_field, label_field))
                yield _checked(rec, path, reader.line_num, strict)
    else:
        raise DataError(f"unsupported file type {suffix!r} (use .jsonl or .csv)", path=str(path))


def _rename(rec: Any, text_field: str, label_field: str) -> Any:
    if isinstance(rec, dict):
        if text_field != "text" and text_field in rec:
            rec["text"] = rec.pop(text_field)
        if label_field != "flag" and label_field in rec:
            rec["flag"] = rec.pop(label_field)
        if isinstance(rec.get("flag"), str) and rec["flag"].strip() in ("0", "1"):
            rec["flag"] = int(rec["flag"])
    return rec


def _checked(rec: Any, path: Path, lineno: int, strict: bool) -> dict[str, Any]:
    problems = validate_record(rec, strict=strict)
    if problems:
        field, message = problems[0]
        raise DataError(message, path=str(path), line=lineno, field=field or None)
    return rec


def load_records(paths: str | Path | Iterable[str | Path], *, strict: bool = False,
                 text_field: str = "text", label_field: str = "flag") -> list[dict[str, Any]]:
    """All records of one or more JSONL/CSV files (see :func:`iter_records`)."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    out: list[dict[str, Any]] = []
    for p in paths:
        out.extend(iter_records(p, strict=strict, text_field=text_field, label_field=label_field))
    return out


def validate_files(paths: Sequence[str | Path]) -> list[str]:
    """Every problem in the given corpus files (not just the first), as printable lines."""
    errors: list[str] = []
    seen: dict[str, str] = {}
    for p in paths:
        with Path(p).open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as exc:
                    errors.append(f"{p}, line {lineno}: invalid JSON ({exc.msg})")
                    continue
                for field, msg in validate_record(rec, strict=True):
                    errors.append(f"{p}, line {lineno}, field {field!r}: {msg}")
                rid = rec.get("id") if isinstance(rec, dict) else None
                if isinstance(rid, str):
                    if rid in seen:
                        errors.append(f"{p}, line {lineno}, field 'id': duplicate of {seen[rid]}")
                    seen[rid] = f"{p}:{lineno}"
    return errors


def raw_files(root: Path | None = None) -> list[Path]:
    """The written-record files of the corpus (``data/raw/*.jsonl``)."""
    return sorted(((root or data_dir()) / "raw").glob("*.jsonl"))


def heldout_files(root: Path | None = None, name: str | None = None) -> list[Path]:
    """The record files of one held-out set (``data/<name>/*.jsonl``), or of all of them; evaluation only."""
    if name is not None and name not in HELDOUT_SETS:
        raise ValueError(f"unknown held-out set {name!r}; expected one of {HELDOUT_SETS}")
    return [f for n in ([name] if name else HELDOUT_SETS) for f in sorted(((root or data_dir()) / n).glob("*.jsonl"))]


def split_path(split: str, root: Path | None = None) -> Path:
    """Path of a built split file."""
    return (root or data_dir()) / "splits" / f"{split}.jsonl"


def load_split(split: str, root: Path | None = None) -> list[dict[str, Any]]:
    """One built split of the project corpus."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
    return load_records(split_path(split, root), strict=True)


def to_dataset(records: Sequence[dict[str, Any]]) -> Any:
    """Records → ``datasets.Dataset`` with ``text``, ``flag``, multi-hot ``category_labels``,
    ``partisan`` and the string metadata columns."""
    from datasets import Dataset

    cols: dict[str, list[Any]] = {k: [] for k in (
        "id", "text", "flag", "category_labels", "partisan", "genre", "negative_type", "source")}
    for i, r in enumerate(records):
        cats = r.get("categories") or []
        cols["id"].append(str(r.get("id", i)))
        cols["text"].append(r["text"])
        cols["flag"].append(int(r["flag"]))
        cols["category_labels"].append([float(c in cats) for c in CATEGORIES])
        cols["partisan"].append(int(r.get("partisan") or 0))
        cols["genre"].append(r.get("genre") or "")
        cols["negative_type"].append(r.get("negative_type") or "")
        cols["source"].append(r.get("source") or "written")
    return Dataset.from_dict(cols)


# -- vocabulary-based descriptors ---------------------------------------------------------------------

_ASN_WORDS = (
    r"asn|pns|pppk|aparatur sipil|pegawai negeri|camat|sekcam|lurah|sekda|kepala dinas|kadis|kabid|"
    r"kepala bidang|guru|dosen|bidan|perawat|penyuluh|satpol|pejabat|eselon|birokra\w*|kepegawaian|"
    r"bkn|kasn|bkd|bkpsdm|pemkab|pemkot|pemprov|dinas"
)
ASN_TERMS = re.compile(rf"\b({_ASN_WORDS})\b", re.I)
ELECTION_TERMS = re.compile(
    r"\b(pemilu|pilkada|pilpres|pileg|kampanye|paslon|pasangan calon|capres|cawapres|caleg|calon|"
    r"bawaslu|panwas\w*|kpu|partai|netral\w*|coblos\w*|deklarasi|pencoblosan|tim sukses|timses)\b",
    re.I,
)


#: Who can breach neutrality in the codebook's sense: ``ASN_TERMS`` plus the other actors it names
#: (village heads, TNI/Polri) and the job words evidence sentences use ("staf kelurahan", "pegawai
#: berinisial JL", "kepala KUA"). An evidence sentence that matches names its actor and can stand alone.
ACTOR_TERMS = re.compile(
    rf"\b({_ASN_WORDS}|pegawai|staf|kelurahan|kecamatan|distrik|kepala sekolah|kepsek|puskesmas|"
    r"sekretaris|kabag|kasubag|kasi|plt|penjabat|aparat\w*|abdi negara|nakes|tenaga kesehatan|korpri|"
    r"inspektorat|kua|kepala desa|kades|perangkat desa|sekdes|babinsa|bhabinkamtibmas|tni|polri|polisi|"
    r"kapolsek|danramil|koramil|wali kelas)\b",
    re.I,
)


def is_hard_negative(rec: dict[str, Any]) -> bool:
    """A flag = 0 record dense with ASN and election vocabulary (≥ 2 hits of each)."""
    if rec.get("flag") != 0:
        return False
    text = rec.get("text", "")
    return len(ASN_TERMS.findall(text)) >= 2 and len(ELECTION_TERMS.findall(text)) >= 2


def word_count(text: str) -> int:
    """Number of whitespace-separated words."""
    return len(text.split())


# -- near-duplicates and splits -----------------------------------------------------------------------

def near_duplicate_pairs(texts: Sequence[str], threshold: float = 0.6) -> list[tuple[int, int, float]]:
    """Index pairs whose character 4-gram TF-IDF cosine similarity is ≥ ``threshold``."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    if len(texts) < 2:
        return []
    x = TfidfVectorizer(analyzer="char_wb", ngram_range=(4, 4), lowercase=True).fit_transform(texts)
    sim = (x @ x.T).tocoo()
    return [(int(i), int(j), float(v)) for i, j, v in zip(sim.row, sim.col, sim.data, strict=True)
            if i < j and v >= threshold]


def cross_similarity(a: Sequence[str], b: Sequence[str]) -> Any:
    """Max character 4-gram TF-IDF cosine of each text of ``a`` against all of ``b`` (numpy array)."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(4, 4), lowercase=True).fit(list(a) + list(b))
    sim = vec.transform(a) @ vec.transform(b).T
    return np.asarray(sim.max(axis=1).todense()).ravel()


def assign_groups(records: list[dict[str, Any]], threshold: float = 0.6) -> None:
    """Set ``group`` on each record so near-duplicates (and augmentations) share a group (union-find)."""
    parent = list(range(len(records)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j, _ in near_duplicate_pairs([r["text"] for r in records], threshold):
        parent[find(i)] = find(j)
    for i, r in enumerate(records):
        r["group"] = records[find(i)]["id"]


def split_of(group: str, seed: str = "neutrality-v1") -> str:
    """Stable split for a group id (hash-based, independent of record order)."""
    h = int(hashlib.sha256(f"{seed}:{group}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    acc = 0.0
    for split in HASHED_SPLITS:
        acc += SPLIT_FRACTIONS[split]
        if h < acc:
            return split
    return HASHED_SPLITS[-1]


def corpus_stats(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Counts for the dataset card and the corpus checks."""
    flags = Counter(r["flag"] for r in records)
    negatives = [r for r in records if r["flag"] == 0]
    cats = Counter(c for r in records if r["flag"] == 1 for c in r.get("categories") or [])
    main_cats = Counter((r.get("categories") or [None])[0] for r in records if r["flag"] == 1)
    return {
        "records": len(records),
        "flag": {str(k): v for k, v in sorted(flags.items())},
        "positive_share": round(flags[1] / len(records), 4) if records else 0.0,
        "categories": {c: cats.get(c, 0) for c in CATEGORIES},
        "main_category": {c: main_cats.get(c, 0) for c in CATEGORIES},
        "negative_type": dict(Counter(r.get("negative_type") for r in negatives).most_common()),
        "hard_negative_share": round(sum(map(is_hard_negative, negatives)) / len(negatives), 4)
        if negatives else 0.0,
        "genre": dict(Counter(r.get("genre") for r in records).most_common()),
        "actor": dict(Counter(r.get("actor") for r in records).most_common()),
        "election": dict(Counter(str(r.get("election")) for r in records).most_common()),
        "boundary": dict(Counter(r.get("boundary") for r in records if r.get("boundary")).most_common()),
        "source": dict(Counter(r.get("source", "written") for r in records).most_common()),
        "long_600_words": sum(word_count(r["text"]) >= 600 for r in records),
        "split": dict(Counter(r.get("split") for r in records if r.get("split")).most_common()),
    }


def write_jsonl(records: Iterable[dict[str, Any]], path: Path) -> None:
    """Write records as JSONL (UTF-8, atomic)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    tmp.replace(path)


# -- building the corpus ------------------------------------------------------------------------------

#: Composition targets of the project corpus (checked by ``neutrality-nlp data validate``).
MIN_WRITTEN_RECORDS = 2000
MIN_POSITIVE_SHARE = 0.40
MIN_HARD_NEGATIVE_SHARE = 0.35
MIN_PER_CATEGORY = 15
#: Near-duplicate threshold (char 4-gram TF-IDF cosine) used for grouping and the leakage check.
NEAR_DUPLICATE = 0.6

#: Real regency/city names used to swap regions in augmented copies.
SWAP_REGIONS: tuple[str, ...] = (
    "Bima", "Dompu", "Sumbawa", "Lombok Timur", "Ende", "Sikka", "Kupang", "Alor", "Belu", "Manggarai",
    "Gowa", "Bone", "Wajo", "Luwu", "Polewali Mandar", "Minahasa", "Bolaang Mongondow", "Banggai", "Poso",
    "Donggala", "Kolaka", "Konawe", "Muna", "Buton", "Halmahera Utara", "Maluku Tengah", "Seram Bagian Barat",
    "Jayawijaya", "Mimika", "Merauke", "Nabire", "Sorong", "Manokwari", "Fakfak", "Kapuas", "Kotawaringin Timur",
    "Ketapang", "Sambas", "Sintang", "Kutai Kartanegara", "Berau", "Paser", "Banjar", "Tapin", "Hulu Sungai Tengah",
    "Aceh Besar", "Pidie", "Bireuen", "Aceh Utara", "Langkat", "Deli Serdang", "Simalungun", "Tapanuli Utara",
    "Nias Selatan", "Agam", "Pasaman", "Solok", "Kampar", "Bengkalis", "Indragiri Hilir", "Muaro Jambi", "Kerinci",
    "Ogan Komering Ilir", "Musi Banyuasin", "Lahat", "Rejang Lebong", "Lampung Selatan", "Tulang Bawang",
    "Bangka", "Belitung", "Karimun", "Natuna", "Bogor", "Garut", "Cianjur", "Tasikmalaya", "Indramayu", "Brebes",
    "Banyumas", "Grobogan", "Wonogiri", "Klaten", "Jember", "Banyuwangi", "Lamongan", "Sumenep", "Pamekasan",
    "Gunungkidul", "Pandeglang", "Lebak", "Serang", "Buleleng", "Karangasem", "Tabanan",
)

_NOMOR_URUT = re.compile(r"\b(nomor urut|no\.? urut|paslon|nomor)\s+(0?)([1-5])\b", re.I)


def augment(rec: dict[str, Any], rng: Any) -> dict[str, Any] | None:
    """A controlled variant of ``rec``: region and ballot-number swaps, recorded in ``augmentation``.

    Returns ``None`` when nothing in the text can be swapped.
    """
    text = rec["text"]
    evidence = list(rec.get("evidence") or [])
    changes: list[str] = []
    region = (rec.get("region") or "").split(",")[0]
    place = re.sub(r"^(Kabupaten|Kab\.|Kota|Provinsi)\s+", "", region).strip()
    if place and len(place) > 2 and place in text:
        new = rng.choice([r for r in SWAP_REGIONS if r != place and r not in text])
        text = text.replace(place, new)
        evidence = [e.replace(place, new) for e in evidence]
        changes.append(f"region:{place}->{new}")
    m = _NOMOR_URUT.search(text)
    if m:
        old = m.group(3)
        new_n = rng.choice([n for n in "12345" if n != old])

        def swap(s: str) -> str:
            return _NOMOR_URUT.sub(lambda x: x.group(0)[:-1] + new_n if x.group(3) == old else x.group(0), s)

        text, evidence = swap(text), [swap(e) for e in evidence]
        changes.append(f"nomor_urut:{old}->{new_n}")
    if not changes or any(e not in text for e in evidence):
        return None
    out = dict(rec, text=text, evidence=evidence, id=f"{rec['id']}-aug1",
               augmentation=";".join(changes), augmented_from=rec["id"])
    if changes[0].startswith("region:"):
        out["region"] = (rec.get("region") or "").replace(place, changes[0].split("->")[1])
    return out


def _load_written(files: Sequence[Path]) -> list[dict[str, Any]]:
    records = [r for f in files for r in load_records(f, strict=True)]
    for r in records:
        r.setdefault("source", "written")
    return sorted(records, key=lambda r: r["id"])


def heldout_leaks(heldout: Sequence[dict[str, Any]], corpus: Sequence[dict[str, Any]],
                  threshold: float = NEAR_DUPLICATE) -> list[str]:
    """Held-out records that are near-duplicates of a corpus record (char 4-gram cosine ≥ ``threshold``)."""
    if not heldout or not corpus:
        return []
    sims = cross_similarity([r["text"] for r in heldout], [r["text"] for r in corpus])
    return [f"{r['id']} (cosine {s:.2f})" for r, s in zip(heldout, sims, strict=True) if s >= threshold]


def build_corpus(root: Path | None = None, *, augment_share: float = 0.3, seed: int = 13) -> dict[str, Any]:
    """Build ``data/splits/*.jsonl`` and ``data/README.md`` from ``data/raw`` and the held-out folders.

    Steps: validate; group near-duplicates (char 4-gram cosine ≥ :data:`NEAR_DUPLICATE`) so they land in
    one split; assign splits by hashing the group; augment a share of *train* records (variants keep the
    original's group); put every record of a held-out folder (:data:`HELDOUT_SETS`) in that set's split
    (grouped among themselves, never augmented, and refused if one is a near-duplicate of a corpus record, so
    the corpus splits do not depend on the held-out sets); write splits and the generated dataset card.
    Deterministic.
    """
    import random

    root = root or data_dir()
    files = raw_files(root)
    errors = validate_files([*files, *heldout_files(root)])
    if errors:
        raise DataError(f"{len(errors)} invalid records, first: {errors[0]}")
    records = _load_written(files)
    held = {name: _load_written(heldout_files(root, name)) for name in HELDOUT_SETS}
    leaks = [x for recs in held.values() for x in heldout_leaks(recs, records)]
    if leaks:
        raise DataError(f"{len(leaks)} held-out record(s) are near-duplicates of corpus records; rewrite or "
                        f"remove them: {', '.join(leaks)}")
    assign_groups(records, NEAR_DUPLICATE)
    for r in records:
        r["split"] = split_of(r["group"])
    for name, recs in held.items():
        assign_groups(recs, NEAR_DUPLICATE)
        for r in recs:
            r["split"] = name
    rng = random.Random(seed)
    augmented = []
    for r in records:
        if r["split"] == "train" and rng.random() < augment_share:
            a = augment(r, rng)
            if a is not None:
                augmented.append(a)
    heldout = [r for recs in held.values() for r in recs]
    everything = records + augmented + heldout
    for split in SPLITS:
        write_jsonl([r for r in everything if r["split"] == split], split_path(split, root))
    stats = corpus_stats(everything)
    stats["written"] = corpus_stats(records + heldout)
    write_dataset_card(everything, root / "README.md")
    return stats


def corpus_checks(root: Path | None = None) -> list[str]:
    """Composition and consistency problems of the built corpus (empty when all targets are met)."""
    root = root or data_dir()
    problems: list[str] = []
    raw = [r for f in [*raw_files(root), *heldout_files(root)] for r in load_records(f, strict=True)]
    if not all(split_path(s, root).is_file() for s in SPLITS):
        return ["splits are missing: run `neutrality-nlp data build`"]
    splits = {s: load_split(s, root) for s in SPLITS}
    built = [r for s in SPLITS for r in splits[s]]
    written = [r for r in built if not r.get("augmented_from")]
    raw_ids, built_ids = Counter(r["id"] for r in raw), Counter(r["id"] for r in written)
    if raw_ids != built_ids:
        problems.append("splits are out of date with data/raw and data/heldout: run `neutrality-nlp data build`")
    stats = corpus_stats([r for r in written if r.get("split") not in HELDOUT_SETS])
    if stats["records"] < MIN_WRITTEN_RECORDS:
        problems.append(f"corpus has {stats['records']} written records; target ≥ {MIN_WRITTEN_RECORDS}")
    if stats["positive_share"] < MIN_POSITIVE_SHARE:
        problems.append(f"flag = 1 share {stats['positive_share']:.2%} < {MIN_POSITIVE_SHARE:.0%}")
    if stats["hard_negative_share"] < MIN_HARD_NEGATIVE_SHARE:
        problems.append(f"hard-negative share {stats['hard_negative_share']:.2%} < {MIN_HARD_NEGATIVE_SHARE:.0%}")
    for code, n in stats["categories"].items():
        if n < MIN_PER_CATEGORY:
            problems.append(f"category {code} has {n} records; target ≥ {MIN_PER_CATEGORY}")
    for s in SPLITS:
        if any(r.get("split") != s for r in splits[s]):
            problems.append(f"{s}.jsonl holds records of another split")
    return problems


def write_dataset_card(records: Sequence[dict[str, Any]], path: Path) -> None:
    """Generate ``data/README.md`` (every number in it is computed here, none typed)."""
    written = [r for r in records if not r.get("augmented_from")]
    by_split = {s: [r for r in records if r.get("split") == s] for s in SPLITS}
    w = corpus_stats(written)

    def table(title: str, key: str, rows: Sequence[str] | None = None) -> str:
        per = {s: corpus_stats(by_split[s])[key] if by_split[s] else {} for s in SPLITS}
        names = list(rows) if rows else sorted({k for s in SPLITS for k in per[s]}, key=str)
        lines = [f"### {title}", "", "| value | " + " | ".join(SPLITS) + " | all |", "|---" * (len(SPLITS) + 2) + "|"]
        for name in names:
            cells = [per[s].get(name, 0) for s in SPLITS]
            lines.append(f"| {name} | " + " | ".join(map(str, cells)) + f" | {sum(cells)} |")
        return "\n".join(lines) + "\n"

    hard = sum(is_hard_negative(r) for r in written if r["flag"] == 0)
    negs = sum(r["flag"] == 0 for r in written)
    text = f"""# Dataset card: neutrality_nlp ASN-partisanship corpus

*Generated by `neutrality-nlp data build` from `data/raw/*.jsonl` and `data/heldout/*.jsonl`; do not edit by hand.*

Project-written Indonesian texts (news reports, opinion pieces, social posts) labelled with the codebook in
[`CODEBOOK.md`](CODEBOOK.md). All people are fictional; no text is copied from a real article. Schema:
[`SCHEMA.md`](SCHEMA.md). Licence: CC BY 4.0 (the project's own writing).

## Summary

- written records: **{w['records']}** (+ {len(records) - len(written)} augmented variants in train)
- flag = 1: **{w['flag'].get('1', 0)}** ({w['positive_share']:.1%}); flag = 0: **{negs}**
- hard negatives (flag = 0, ≥ 2 ASN terms and ≥ 2 election terms): **{hard}**
  ({hard / max(negs, 1):.1%} of negatives)
- texts of 600+ words: **{w['long_600_words']}**
- splits (train/dev/test by near-duplicate group, char 4-gram cosine ≥ {NEAR_DUPLICATE}): """ + ", ".join(
        f"{s} {len(by_split[s])}" for s in SPLITS) + ("" if not any(by_split[h] for h in HELDOUT_SETS) else f"""

The held-out splits are `data/heldout/*.jsonl` (**heldout**) and `data/heldout_long/*.jsonl` (**heldout_long**,
article-length texts of 150–600 words): records written on 2026-12-02, after every shipped model was trained and
chosen, by writers who did not see the corpus files (how, and what each may be used for: their `PROTOCOL.md`).
They are for evaluation only (never train, threshold or model choice) and hold no near-duplicate
(cosine ≥ {NEAR_DUPLICATE}) of a train/dev/test record: the build refuses one.""") + """

Extra training negatives from the licensed public corpora in `../shared/corpora` are *not* part of these files:
they are sampled at training time by `neutrality_nlp.corpora.extra_negatives` (source `corpus:<name>`).

## Counts per split

""" + "\n".join([
        table("flag", "flag", ["0", "1"]),
        table("categories (multi-label, flag = 1)", "categories"),
        table("main category (first listed)", "main_category"),
        table("negative type (flag = 0)", "negative_type"),
        table("genre", "genre"),
        table("actor", "actor"),
        table("election", "election"),
        table("boundary cases", "boundary"),
        table("source", "source"),
    ])
    path.write_text(text, encoding="utf-8")
