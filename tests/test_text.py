"""Cleaning of scraped text and HTML, sentence splitting with offsets, slang and stemming."""

from __future__ import annotations

import pytest

from neutrality_nlp.text import (
    clean,
    clean_text,
    looks_like_html,
    normalize_slang,
    split_sentences,
    stem_analyzer,
)


def _assert_offsets(ct, raw):
    """Every cleaned sentence maps back onto the same words of the original."""
    for s in split_sentences(ct.text):
        a, b = ct.to_original(s.start, s.end)
        assert raw[a:b].split() == s.text.split(), (s.text, raw[a:b])


def test_bima_seed_comes_out_as_clean_article(seeds):
    bima, _ = seeds
    raw = bima.read_text(encoding="utf-8")
    ct = clean(raw)
    assert "Load disqus comments" not in ct.text and "0 comments" not in ct.text
    assert not ct.text.startswith("Opini.") and "Media Dinamika Global" not in ct.text
    assert "dugaan kuat saya ada beberapa ASN ikut menghadiri pendaftaran" in ct.text
    assert ct.text.rstrip().endswith("Oleh : Ibrahim Al Bima")
    assert "  " not in ct.text and "\n\n\n" not in ct.text
    _assert_offsets(ct, raw)


def test_bekasi_seed_comes_out_as_clean_article(seeds):
    _, bekasi = seeds
    raw = bekasi.read_text(encoding="utf-8")
    ct = clean(raw)
    for chrome in ("Posting Komentar", "Lebih baru", "نموذج"):
        assert chrome not in ct.text
    assert ct.text.startswith("Pegawai Lapas Bekasi Netral pada Pilpres 2024\n\nSeiring dengan")
    assert ct.text.rstrip().endswith("di lingkungan Lapas Kelas IIA Bekasi.")
    _assert_offsets(ct, raw)


def test_baca_juga_mid_article_removes_only_that_line():
    raw = (
        "JAKARTA, KOMPAS.com - Camat Sukamaju hadir di deklarasi pasangan calon bupati nomor urut 2, Senin.\n\n"
        "Baca juga: Harga Beras Naik Jelang Ramadan\n"
        "ADVERTISEMENT\n"
        "SCROLL TO CONTINUE WITH CONTENT\n\n"
        "Bawaslu akan memanggil camat tersebut pekan depan. (ant/frd)\n"
        "Editor : Rina Marlina\n"
        "Ikuti berita terkini dari kami di Google News\n"
    )
    text = clean_text(raw)
    assert text == (
        "Camat Sukamaju hadir di deklarasi pasangan calon bupati nomor urut 2, Senin.\n\n"
        "Bawaslu akan memanggil camat tersebut pekan depan."
    )


@pytest.mark.parametrize(
    "line,expected",
    [
        ("REPUBLIKA.CO.ID, JAKARTA -- Bawaslu memanggil lurah itu untuk dimintai keterangan hari ini.",
         "Bawaslu memanggil lurah itu untuk dimintai keterangan hari ini."),
        ("Dompu (Warta Timur) - Seorang guru PNS mengunggah foto bersama calon bupati di Facebook.",
         "Seorang guru PNS mengunggah foto bersama calon bupati di Facebook."),
        ("MATARAM, Suara Rinjani — Panwascam menemukan spanduk calon di kantor desa pada Senin pagi.",
         "Panwascam menemukan spanduk calon di kantor desa pada Senin pagi."),
        # a title-case headline with a dash is not a dateline
        ("Bawaslu Panggil Camat - Berita Daerah", "Bawaslu Panggil Camat - Berita Daerah"),
        ("Kepala dinas - yang juga ketua panitia - hadir di acara itu bersama warga desa.",
         "Kepala dinas - yang juga ketua panitia - hadir di acara itu bersama warga desa."),
    ],
)
def test_datelines(line, expected):
    assert clean_text(line) == expected


def test_signoffs_and_comment_widgets():
    raw = "Camat itu sudah diperiksa Bawaslu. (Z-11)\n\nPosting Komentar\n\nLebih baru Lebih lama\n0 comments"
    assert clean_text(raw) == "Camat itu sudah diperiksa Bawaslu."
    # a parenthesised acronym at the end of a paragraph is content, not a sign-off
    assert clean_text("Laporan diteruskan ke Komisi Aparatur Sipil Negara (KASN)").endswith("(KASN)")


def test_unicode_and_whitespace_normalisation_keep_offsets():
    raw = "Ｃａｍａｔ\u00a0\u00a0hadir\u200b di\tdeklarasi.\r\n\r\n\r\n\r\nIa   berpose dua jari."
    ct = clean(raw)
    assert ct.text == "Camat hadir di deklarasi.\n\nIa berpose dua jari."
    assert len(ct.offsets) == len(ct.text)
    first, second = split_sentences(ct.text)
    assert ct.to_original(first.start, first.end) == (0, raw.index(".") + 1)
    a, b = ct.to_original(second.start, second.end)
    assert raw[a:b] == "Ia   berpose dua jari."


def test_html_is_extracted_with_a_real_library():
    html = (
        "<html><head><title>x</title></head><body><nav>Beranda | Politik | Daerah</nav><article>"
        "<h1>Camat Ikut Deklarasi</h1><p>BIMA, Lensa - Camat Woha hadir dalam deklarasi pasangan calon bupati "
        "nomor urut 2 di lapangan kecamatan, Minggu.</p><p>Baca juga: Harga beras naik</p><p>Bawaslu akan "
        "memanggil camat tersebut untuk klarifikasi pekan depan dan memeriksa dua saksi.</p></article>"
        "<footer>Copyright 2024 Lensa</footer></body></html>"
    )
    assert looks_like_html(html) and not looks_like_html("Camat <b>hadir</b> di acara.")
    ct = clean(html)
    assert ct.html
    assert "Camat Woha hadir dalam deklarasi" in ct.text
    assert "Beranda" not in ct.text and "Baca juga" not in ct.text and "Copyright" not in ct.text
    sent = next(s for s in split_sentences(ct.text) if "Woha" in s.text)
    a, b = ct.to_original(sent.start, sent.end)
    assert html[a:b] == sent.text


def test_sentence_splitting_indonesian():
    text = ('Camat H. Yusuf, S.Pd. hadir di Kab. Bima pada 12 Jan. 2024. Ia berkata "ikut!" lalu pergi. '
            "Jumlahnya 1.596 orang.\nsy dukung paslon 2 #coblos02")
    sents = split_sentences(text)
    assert [s.text for s in sents] == [
        "Camat H. Yusuf, S.Pd. hadir di Kab. Bima pada 12 Jan. 2024.",
        'Ia berkata "ikut!" lalu pergi.',
        "Jumlahnya 1.596 orang.",
        "sy dukung paslon 2 #coblos02",
    ]
    assert all(text[s.start:s.end] == s.text for s in sents)


def test_run_on_sentences_are_cut_at_clauses():
    text = ", ".join(["ASN harus netral dalam setiap tahapan pemilu di daerah"] * 20) + "."
    sents = split_sentences(text, max_chars=200)
    assert len(sents) > 1 and all(len(s.text) <= 200 for s in sents)
    assert all(text[s.start:s.end] == s.text for s in sents)


def test_slang_normalisation():
    assert normalize_slang("sbg pns sy gk bs dtg, ibu2 yg ngajak bangeeet") == (
        "sebagai pns saya tidak bisa datang, ibu-ibu yang mengajak banget")
    assert normalize_slang("#yg @gak") == "#yg @gak"  # hashtags and mentions untouched


def test_stem_analyzer_keeps_negation():
    tokens = stem_analyzer("Para pegawai-pegawai tidak menghadiri pendaftaran calon yang dicoblos")
    assert tokens == ["pegawai", "tidak", "hadir", "daftar", "calon", "coblos"]
