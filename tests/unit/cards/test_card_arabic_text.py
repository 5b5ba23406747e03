"""Arabic shaped and ordered for Pillow's basic layout, with glyphs the shipped font has."""

from __future__ import annotations

import unicodedata

from chalicelib.cards.render import FONT_DIR, FONT_FILES
from chalicelib.kernel import arabic_text

ARABIC_FONT = FONT_DIR / FONT_FILES["arabic_bold"]
ALLAH_LIGATURE = "\ufdf2"


def _codepoints() -> frozenset[int]:
    return arabic_text.font_codepoints(ARABIC_FONT)


def _is_presentation_form(ch: str) -> bool:
    return "\ufb50" <= ch <= "\ufdff" or "\ufe70" <= ch <= "\ufeff"


def test_letters_become_their_joined_presentation_forms():
    shaped = arabic_text.shape_arabic("محمد", _codepoints())
    # meem initial, hah medial, meem medial, dal final: one joined word, no isolated letters.
    assert shaped == "\ufee3\ufea4\ufee4\ufeaa"
    assert [unicodedata.name(ch).split()[-2] for ch in shaped] == [
        "INITIAL", "MEDIAL", "MEDIAL", "FINAL",
    ]


def test_no_base_arabic_letter_is_left_unshaped_in_a_name():
    shaped = arabic_text.shape_arabic("فاطمة عبدالرحمن الصباح", _codepoints())
    letters = [ch for ch in shaped if not ch.isspace()]
    assert letters and all(_is_presentation_form(ch) for ch in letters)


def test_the_visual_line_is_reversed_for_left_to_right_drawing():
    visual = arabic_text.to_visual("محمد", _codepoints())
    assert visual == "\ufeaa\ufee4\ufea4\ufee3"


def test_digits_in_an_arabic_line_keep_their_own_order():
    visual = arabic_text.to_visual("خدمة العملاء: 19097", _codepoints())
    assert "19097" in visual
    assert visual.startswith("19097")  # the number ends the line, i.e. sits on the left


def test_the_shipped_font_draws_allah_as_its_ligature():
    shaped = arabic_text.shape_arabic("عبد الله", _codepoints())
    assert ALLAH_LIGATURE in shaped
    assert ord(ALLAH_LIGATURE) in _codepoints()


def test_a_font_without_the_allah_ligature_gets_the_letters_instead_of_a_box():
    without = _codepoints() - {ord(ALLAH_LIGATURE)}
    config = arabic_text.reshaper_config_for(without)
    assert config["ARABIC LIGATURE ALLAH"] is False
    shaped = arabic_text.shape_arabic("عبد الله", without)
    assert ALLAH_LIGATURE not in shaped
    assert arabic_text.missing_glyphs(shaped, without) == []


def test_only_the_lam_alef_and_allah_ligatures_are_ever_used():
    config = arabic_text.reshaper_config_for(_codepoints())
    on = sorted(name for name, value in config.items() if name.startswith("ARABIC LIG") and value)
    assert on == [
        "ARABIC LIGATURE ALLAH",
        "ARABIC LIGATURE LAM WITH ALEF",
        "ARABIC LIGATURE LAM WITH ALEF WITH HAMZA ABOVE",
        "ARABIC LIGATURE LAM WITH ALEF WITH HAMZA BELOW",
        "ARABIC LIGATURE LAM WITH ALEF WITH MADDA ABOVE",
    ]


def test_diacritics_and_direction_marks_are_dropped_before_drawing():
    visual = arabic_text.to_visual("\u200fمُحَمَّد\u200d", _codepoints())
    assert visual == "\ufeaa\ufee4\ufea4\ufee3"


def test_the_font_has_a_glyph_for_every_shaped_character_of_common_names():
    names = ["عبدالله", "فاطمة", "آمنة", "لؤلؤة", "إبراهيم", "لأن", "ليلى", "يوسف", "شيماء", "غدير"]
    for name in names:
        visual = arabic_text.to_visual(name, _codepoints())
        assert arabic_text.missing_glyphs(visual, _codepoints()) == [], name


def test_a_character_no_font_has_is_reported():
    assert arabic_text.missing_glyphs("Li 李", _codepoints()) == ["L", "i", "李"]


def test_the_cmap_reader_sees_what_each_shipped_font_covers():
    latin = arabic_text.font_codepoints(FONT_DIR / FONT_FILES["latin"])
    assert {ord(c) for c in "AZaz09éñ…"} <= latin
    assert ord("م") not in latin
    assert {0xFEFB, 0xFDF2, ord("٠"), ord("0")} <= _codepoints()


def test_runs_switch_font_only_where_the_first_font_lacks_a_glyph():
    fonts = {"ar": _codepoints(), "lat": arabic_text.font_codepoints(FONT_DIR / FONT_FILES["latin"])}
    runs = arabic_text.split_by_font("Ali \ufeea\ufee0\ufecb", fonts, ["lat", "ar"])
    assert runs == [("lat", "Ali "), ("ar", "\ufeea\ufee0\ufecb")]


def test_decomposed_letters_are_composed_before_drawing():
    assert arabic_text.to_visual("Jose\u0301", _codepoints()) == "José"
    # alef + hamza above (two codepoints) shapes as the single letter أ.
    assert arabic_text.to_visual("\u0627\u0654", _codepoints()) == "\ufe83"
