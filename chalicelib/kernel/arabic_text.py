"""Arabic text made drawable without libraqm/libfribidi: shaped and in visual order.

Lambda's python3.11 image has no fribidi, so Pillow's raqm layout cannot shape
Arabic there. Instead `arabic-reshaper` swaps each letter for its joined
presentation form and `python-bidi` reorders the line into the left-to-right
order in which Pillow's basic layout draws glyphs. Presentation forms only help
if the font maps them, so the reshaper is configured from the font's own cmap,
and `missing_glyphs` lets callers prove nothing would be drawn as a box.
"""

from __future__ import annotations

import struct
import unicodedata
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path

# Ligatures the reshaper turns on by default (lam-alef and "الله"); every other
# ligature stays off even if the font has it, because a sans-serif card should not
# switch to calligraphic Naskh letter pairs mid-name.
_WANTED_LIGATURES = (
    "ARABIC LIGATURE ALLAH",
    "ARABIC LIGATURE LAM WITH ALEF",
    "ARABIC LIGATURE LAM WITH ALEF WITH HAMZA ABOVE",
    "ARABIC LIGATURE LAM WITH ALEF WITH HAMZA BELOW",
    "ARABIC LIGATURE LAM WITH ALEF WITH MADDA ABOVE",
)


def has_arabic(text: str) -> bool:
    """True when the text holds a letter of the Arabic script (which needs shaping)."""
    return any(_is_arabic_codepoint(ord(ch)) for ch in text)


def _is_arabic_codepoint(cp: int) -> bool:
    return (
        0x0600 <= cp <= 0x06FF
        or 0x0750 <= cp <= 0x077F
        or 0x08A0 <= cp <= 0x08FF
        or 0xFB50 <= cp <= 0xFDFF
        or 0xFE70 <= cp <= 0xFEFF
    )


@lru_cache(maxsize=16)
def font_codepoints(font_path: str | Path) -> frozenset[int]:
    """Every codepoint the TrueType font maps to a real glyph (read from its cmap)."""
    return _cmap_codepoints(Path(font_path).read_bytes())


def missing_glyphs(text: str, codepoints: frozenset[int]) -> list[str]:
    """The characters of `text` the font has no glyph for (those would draw as boxes)."""
    seen: dict[str, None] = {}
    for ch in text:
        # Format characters (ZWJ, bidi marks) are stripped before drawing, never drawn.
        if ord(ch) not in codepoints and unicodedata.category(ch) != "Cf":
            seen.setdefault(ch, None)
    return list(seen)


def reshaper_config_for(codepoints: frozenset[int]) -> dict[str, bool]:
    """A reshaper configuration that only uses forms the font can draw."""
    from arabic_reshaper.letters import ISOLATED, LETTERS_ARABIC
    from arabic_reshaper.ligatures import LIGATURES

    config: dict[str, bool] = {
        # Harakat need mark positioning (GPOS), which basic layout does not do: they
        # would land on the wrong letter, so names are drawn without them.
        "delete_harakat": True,
        "support_ligatures": True,
    }
    has_isolated = all(
        ord(forms[ISOLATED]) in codepoints for forms in LETTERS_ARABIC.values() if forms[ISOLATED]
    )
    # A font without isolated presentation forms still has the base letters.
    config["use_unshaped_instead_of_isolated"] = not has_isolated
    for name, (_match, forms) in LIGATURES:
        drawn = [form for form in forms if form]
        config[name] = name in _WANTED_LIGATURES and all(ord(f) in codepoints for f in drawn)
    return config


@lru_cache(maxsize=16)
def _reshaper_for(codepoints: frozenset[int]) -> object:
    from arabic_reshaper import ArabicReshaper

    return ArabicReshaper(configuration=reshaper_config_for(codepoints))


def shape_arabic(text: str, codepoints: frozenset[int]) -> str:
    """Joined presentation forms of `text`, still in logical (reading) order."""
    # arabic_reshaper is untyped: its reshape returns str.
    return str(_reshaper_for(codepoints).reshape(text))  # type: ignore[attr-defined]


@lru_cache(maxsize=4096)
def to_visual(text: str, codepoints: frozenset[int]) -> str:
    """The line as basic layout must draw it: shaped, reordered left to right, no marks.

    Memoised: a card draws the same labels every time and measures a line at several
    sizes, and the reshaper re-reads its configuration on every call. The bound keeps
    a long-lived process from growing with every name it has drawn.
    """
    # NFC first: names typed as letter + combining mark (e + U+0301, alef + U+0654)
    # become the precomposed letters the fonts and the reshaper know.
    text = unicodedata.normalize("NFC", text)
    if not has_arabic(text):
        return _strip_format_chars(text)
    from bidi import get_display

    # base_dir "R": a line with any Arabic is an Arabic line, so digits and Latin
    # words in it sit where an Arabic reader expects them.
    visual = get_display(shape_arabic(text, codepoints), base_dir="R")
    return _strip_format_chars(visual)


def _strip_format_chars(text: str) -> str:
    # ZWJ/ZWNJ/LRM/RLM have done their work in shaping and reordering; basic
    # layout would draw them as zero-width boxes or .notdef.
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def split_by_font(text: str, fonts: Mapping[str, frozenset[int]], order: Iterable[str]) -> list[
    tuple[str, str]
]:
    """Cut a visual-order line into runs, each drawn with the first font in `order` having it."""
    preference = list(order)
    runs: list[tuple[str, str]] = []
    for ch in text:
        name = next((n for n in preference if ord(ch) in fonts[n]), preference[0])
        if runs and runs[-1][0] == name:
            runs[-1] = (name, runs[-1][1] + ch)
        else:
            runs.append((name, ch))
    return runs


def _cmap_codepoints(data: bytes) -> frozenset[int]:
    """Codepoints of a TrueType/OpenType font's best Unicode cmap subtable (format 4 or 12)."""
    num_tables = struct.unpack_from(">H", data, 4)[0]
    cmap_offset = None
    for i in range(num_tables):
        tag, _checksum, offset, _length = struct.unpack_from(">4sIII", data, 12 + 16 * i)
        if tag == b"cmap":
            cmap_offset = offset
            break
    if cmap_offset is None:
        raise ValueError("font has no cmap table")
    count = struct.unpack_from(">H", data, cmap_offset + 2)[0]
    subtables: dict[int, int] = {}  # format -> absolute offset, Unicode encodings only
    for i in range(count):
        platform, encoding, offset = struct.unpack_from(">HHI", data, cmap_offset + 4 + 8 * i)
        if platform == 0 or (platform == 3 and encoding in (1, 10)):
            fmt = struct.unpack_from(">H", data, cmap_offset + offset)[0]
            subtables.setdefault(fmt, cmap_offset + offset)
    # Format 12 covers all planes; format 4 only the BMP, which is enough for the card.
    if 12 in subtables:
        return _cmap_format12(data, subtables[12])
    if 4 in subtables:
        return _cmap_format4(data, subtables[4])
    raise ValueError("font has no Unicode cmap of format 4 or 12")


def _cmap_format4(data: bytes, base: int) -> frozenset[int]:
    seg_count = struct.unpack_from(">H", data, base + 6)[0] // 2
    ends_at = base + 14
    starts_at = ends_at + 2 * seg_count + 2  # + reservedPad
    deltas_at = starts_at + 2 * seg_count
    range_offsets_at = deltas_at + 2 * seg_count
    found: set[int] = set()
    for seg in range(seg_count):
        end = struct.unpack_from(">H", data, ends_at + 2 * seg)[0]
        start = struct.unpack_from(">H", data, starts_at + 2 * seg)[0]
        delta = struct.unpack_from(">h", data, deltas_at + 2 * seg)[0]
        range_offset_pos = range_offsets_at + 2 * seg
        range_offset = struct.unpack_from(">H", data, range_offset_pos)[0]
        for cp in range(start, end + 1):
            if cp == 0xFFFF:
                continue
            if range_offset == 0:
                glyph = (cp + delta) & 0xFFFF
            else:
                # idRangeOffset is relative to its own position in the table (spec).
                at = range_offset_pos + range_offset + 2 * (cp - start)
                glyph = struct.unpack_from(">H", data, at)[0]
                if glyph:
                    glyph = (glyph + delta) & 0xFFFF
            if glyph:
                found.add(cp)
    return frozenset(found)


def _cmap_format12(data: bytes, base: int) -> frozenset[int]:
    groups = struct.unpack_from(">I", data, base + 12)[0]
    found: set[int] = set()
    for i in range(groups):
        start, end, first_glyph = struct.unpack_from(">III", data, base + 16 + 12 * i)
        for offset, cp in enumerate(range(start, end + 1)):
            if first_glyph + offset:
                found.add(cp)
    return frozenset(found)
