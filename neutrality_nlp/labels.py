"""Label vocabulary shared by the codebook, the corpus, the models and the output contract.

See ``data/CODEBOOK.md`` for the definitions.
"""

from __future__ import annotations

#: Violation categories (flag = 1), following PP 94/2021 Pasal 5 huruf n, UU 7/2017 Pasal 280/282/283
#: and the 2022 joint guideline (SKB). Order is fixed: it is the order of the category head's outputs.
CATEGORIES: tuple[str, ...] = (
    "kegiatan_keberpihakan",
    "media_sosial",
    "hadir_deklarasi",
    "foto_simbol",
    "peserta_kampanye",
    "fasilitas_negara",
    "mobilisasi",
    "tim_sukses",
    "keputusan_menguntungkan",
    "lainnya",
)

#: Human-readable names of the categories, Indonesian and English.
CATEGORY_NAMES: dict[str, dict[str, str]] = {
    "kegiatan_keberpihakan": {"id": "kegiatan yang berpihak", "en": "partisan activity"},
    "media_sosial": {"id": "keberpihakan di media sosial", "en": "social-media partisanship"},
    "hadir_deklarasi": {
        "id": "hadir di deklarasi/pendaftaran calon",
        "en": "attending a declaration/registration",
    },
    "foto_simbol": {"id": "foto bersama calon / simbol / gestur jari", "en": "photos, symbols, gestures"},
    "peserta_kampanye": {"id": "ikut kampanye / atribut / APK", "en": "campaign participation"},
    "fasilitas_negara": {"id": "penggunaan fasilitas negara", "en": "use of state facilities"},
    "mobilisasi": {"id": "mobilisasi bawahan/warga", "en": "mobilising subordinates or citizens"},
    "tim_sukses": {"id": "tim sukses / anggota partai / nyaleg", "en": "campaign team or party role"},
    "keputusan_menguntungkan": {
        "id": "keputusan yang menguntungkan calon",
        "en": "decisions favouring a candidate",
    },
    "lainnya": {"id": "lainnya", "en": "other"},
}

NEGATIVE_TYPES: tuple[str, ...] = ("sosialisasi", "regulasi", "politik_umum", "asn_umum", "lainnya")
GENRES: tuple[str, ...] = ("news", "opinion", "social")
ACTORS: tuple[str, ...] = ("asn", "kades", "tni_polri", "other")
BOUNDARIES: tuple[str, ...] = (
    "hadir_pasif",
    "dugaan_tidak_terbukti",
    "statistik_agregat",
    "bukan_asn",
    "honorer",
    "pasangan_calon",
)
ELECTIONS: tuple[str, ...] = ("pemilu2019", "pemilu2024", "pilkada2018", "pilkada2020", "pilkada2024")
