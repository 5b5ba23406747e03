"""Every field is drawn whole, nothing overlaps or leaves the card, and a card not in force says so.

The longest values are the ones the rules let in: names of NAME_MAX characters (HR file and
residence applications alike), a policy number as long as POLICY_NO allows, the longest
residence category, and employer, plan and network names as long as the group policy rules allow (TEXT_MAX)
in both languages.
"""

from __future__ import annotations

import dataclasses
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image, ImageChops, ImageDraw, ImageOps

from chalicelib.cards import render as card_render
from chalicelib.cards.card import CardContent, GroupCover, ResidenceCover
from chalicelib.cards.insured import CardStatus
from chalicelib.cards.provider_page import qr_texts_in_image
from chalicelib.cards.render import layout
from chalicelib.cards.shc import sign_card
from chalicelib.enrolment.policies import POLICY_NO, TEXT_MAX, check_policy
from chalicelib.enrolment.rules import NAME_MAX
from chalicelib.errors import Text, ValidationFailed
from chalicelib.platform.signing_keys import derive_es256_key
from chalicelib.premiums.rules import CATEGORIES
from chalicelib.premiums.rules import NAME_MAX_LENGTH as RESIDENCE_NAME_MAX

ROOT = Path(__file__).resolve().parents[3]
DEMO_PLAN = json.loads((ROOT / "examples" / "policies" / "GP-ACME-2026.json").read_text(encoding="utf-8"))["plans"]
DEMO_NETWORK = Text(DEMO_PLAN["GOLD"]["network_en"], DEMO_PLAN["GOLD"]["network_ar"])

POLICY_MAX = 40
LONGEST_CATEGORY = max((c.label for c in CATEGORIES), key=lambda label: len(label.en) + len(label.ar))


def _exactly(words: str, length: int) -> str:
    """The words repeated and cut to `length` characters, not ending on a space."""
    text = ((words + " ") * (length // len(words) + 2))[:length]
    return text[:-1] + words[0] if text.endswith(" ") else text


def _name(length: int) -> Text:
    return Text(
        _exactly("Abdulrahman Mohammed Abdullah Al-Sabah Al-Rashidi Al-Mutairi", length),
        _exactly("عبدالرحمن محمد عبدالله الصباح الرشيدي المطيري العجمي", length),
    )


LONGEST_POLICY = ("GP-KUWAIT-NATIONAL-PETROLEUM-2026-GRP-" + "0" * POLICY_MAX)[:POLICY_MAX]


def _policy_text(field: str, en: str, ar: str) -> Text:
    return Text(_exactly(en, TEXT_MAX[f"{field}_en"]), _exactly(ar, TEXT_MAX[f"{field}_ar"]))


LONGEST_EMPLOYER = _policy_text("employer", "Kuwait National Petroleum Company K.S.C. Downstream Refining Division",
                                "شركة البترول الوطنية الكويتية ش.م.ك قطاع التكرير والصناعات التحويلية")
LONGEST_PLAN = _policy_text("name", "Platinum International Comprehensive Family Plan",
                            "البرنامج البلاتيني الدولي الشامل للعائلة")
LONGEST_NETWORK = _policy_text("network", "Network A: all hospitals and clinics in Kuwait and the GCC",
                               "الشبكة أ: جميع المستشفيات والعيادات في الكويت ودول مجلس التعاون")


@pytest.fixture(scope="module")
def longest_group(group_card) -> CardContent:
    return group_card(
        name=_name(NAME_MAX),
        cover=GroupCover(LONGEST_POLICY, LONGEST_EMPLOYER),
        plan=LONGEST_PLAN,
        network=LONGEST_NETWORK,
    )


@pytest.fixture(scope="module")
def longest_residence(residence_card) -> CardContent:
    return residence_card(
        name=_name(RESIDENCE_NAME_MAX),
        cover=ResidenceCover(LONGEST_CATEGORY, LONGEST_POLICY),
        member_id="R-290051201234",
        plan=Text("Residence", "إقامة"),
        network=Text("Ministry of Health facilities", "مرافق وزارة الصحة"),
    )


@pytest.fixture(scope="module")
def sign():
    """The QR text of a card drawn now: a SMART Health Card, the biggest symbol a card carries."""
    key = derive_es256_key("card-secret-" + "x" * 52)
    return lambda card: sign_card(card, datetime(2026, 3, 1, 9, 30, tzinfo=UTC), key, "https://api.insure.example.com")


def _values(card: CardContent) -> dict[str, str]:
    """Each field the card prints, as the layout names its lines."""
    values = {
        "name.en": card.name.en, "name.ar": card.name.ar, "member_id": card.member_id,
        "date_of_birth": layout.day(card.date_of_birth), "policy": card.cover.policy_number or "—",
        "valid_from": layout.day(card.valid_from), "valid_to": layout.day(card.valid_to),
    }
    bilingual = {"plan": card.plan, "network": card.network}
    if isinstance(card.cover, GroupCover):
        bilingual["employer"] = card.cover.employer
    else:
        bilingual["category"] = card.cover.category
    for field, text in bilingual.items():
        values[f"{field}.en"], values[f"{field}.ar"] = text.en, text.ar
    return values


def _drawn(lines: tuple[layout.Line, ...], field: str) -> str:
    """A field's lines put back together: a space between lines, none where a word was cut."""
    text = ""
    for line in (line for line in lines if line.field == field):
        text += line.logical + ("" if line.continues else " ")
    return text.strip()


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _ink(line: layout.Line, width: int, height: int) -> Image.Image:
    """The line alone, drawn by Pillow's ImageDraw (not the card's own paste path): white on black."""
    mask = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(mask)
    x = line.left
    for role, chunk, chunk_width in line.runs:
        draw.text((x, line.baseline), chunk, font=layout.font(role, line.size), fill=255, anchor="ls")
        x += chunk_width
    return mask


def _glyphs_touch(a: layout.Line, b: layout.Line, width: int, height: int) -> bool:
    """Whether two lines put ink on the same pixel (their boxes may overlap where there is no ink:
    an Arabic descender under one line, a shadda over the next, side by side)."""
    both = ImageChops.multiply(_ink(a, width, height), _ink(b, width, height))
    return both.point(lambda v: 255 if v >= 32 else 0).getbbox() is not None


def test_the_longest_values_by_the_rules_are_as_long_as_the_rules_allow():
    # If a rule's limit moves, this file's longest card moves with it (or fails here).
    assert len(_name(NAME_MAX).en) == NAME_MAX and len(_name(NAME_MAX).ar) == NAME_MAX
    assert POLICY_NO.fullmatch(LONGEST_POLICY) and not POLICY_NO.fullmatch(LONGEST_POLICY + "0")
    plan = {"name_en": LONGEST_PLAN.en, "name_ar": LONGEST_PLAN.ar,
            "network_en": LONGEST_NETWORK.en, "network_ar": LONGEST_NETWORK.ar}
    policy = {"policy_no": LONGEST_POLICY, "employer_en": LONGEST_EMPLOYER.en, "employer_ar": LONGEST_EMPLOYER.ar,
              "plans": {"GOLD": plan}}
    assert check_policy(policy)["plans"]["GOLD"] == plan  # taken whole by the policy rules
    with pytest.raises(ValidationFailed):
        check_policy({**policy, "employer_en": LONGEST_EMPLOYER.en + "x"})


@pytest.mark.parametrize("kind", ["longest_group", "longest_residence", "group_card", "residence_card"])
def test_every_field_is_drawn_whole_in_both_languages(request, kind, sign):
    card = request.getfixturevalue(kind)
    card = card() if callable(card) else card
    lines = card_render.drawn_lines(card, sign(card))
    assert not any("…" in line.logical for line in lines)
    for field, value in _values(card).items():
        assert _drawn(lines, field) == " ".join(value.split()), field


def test_the_demo_policys_network_is_drawn_whole_on_one_line_per_language(group_card, sign):
    # The line receptionists check, cut on every card before ("Network A: all…").
    card = group_card(network=DEMO_NETWORK)
    lines = card_render.drawn_lines(card, sign(card))
    assert [line.logical for line in lines if line.field.startswith("network.")] == [DEMO_NETWORK.en, DEMO_NETWORK.ar]


@pytest.mark.parametrize("kind", ["longest_group", "longest_residence"])
def test_the_longest_card_by_the_rules_still_fits_the_id_card_at_a_legible_size(request, kind, sign):
    card = request.getfixturevalue(kind)
    drawn = card_render.card_layout(card, sign(card))
    assert (drawn.width, drawn.height) == (1012, 638)
    fields = [line for line in drawn.lines if not line.field.startswith(("insurer", "subtitle", "id_note"))]
    assert min(line.size for line in fields if line.field.startswith("label.")) >= layout.MIN_LABEL_SIZE
    assert min(line.size for line in fields if not line.field.startswith("label.")) >= layout.MIN_VALUE_SIZE
    with Image.open(io.BytesIO(card_render.render_png(card, sign(card)))) as image:
        assert image.size == (1012, 638)


@pytest.mark.parametrize("kind", ["longest_group", "longest_residence", "group_card", "residence_card", "beyond"])
def test_no_text_overlaps_other_text_the_qr_or_a_band_edge_and_none_leaves_the_card(request, kind, sign, group_card):
    if kind == "beyond":
        # Past what fits at the smallest legible size: the card grows, nothing is cut.
        card = group_card(name=_name(NAME_MAX), cover=GroupCover(LONGEST_POLICY, Text("Employer " * 12, "جهة " * 20)),
                          network=Text("Network " * 14, "الشبكة " * 14))
    else:
        card = request.getfixturevalue(kind)
        card = card() if callable(card) else card
    drawn = card_render.card_layout(card, sign(card))
    inks = [(line.field, layout.ink_box(line)) for line in drawn.lines]
    qr = drawn.qr
    symbol = (qr.left, qr.top, qr.left + qr.side, qr.top + qr.side)
    for i, (field, ink) in enumerate(inks):
        assert ink[0] >= 0 and ink[2] <= drawn.width and ink[1] >= 0 and ink[3] <= drawn.height, field
        assert not _overlap(ink, symbol), field
        for j, (other_field, other) in enumerate(inks[i + 1 :], start=i + 1):
            if _overlap(ink, other):
                touch = _glyphs_touch(drawn.lines[i], drawn.lines[j], drawn.width, drawn.height)
                assert not touch, (field, other_field)
        for box in drawn.boxes:
            inside = box.left <= ink[0] and ink[2] <= box.right and box.top <= ink[1] and ink[3] <= box.bottom
            assert inside or not _overlap(ink, (box.left, box.top, box.right, box.bottom)), (field, box)
    if kind == "beyond":
        assert drawn.height > 638 and _drawn(drawn.lines, "network.en") == " ".join(card.network.en.split())


def test_the_png_shows_the_network_lines_ink_from_its_first_letter_to_its_last(group_card, sign):
    card = group_card(network=DEMO_NETWORK)
    qr_text = sign(card)
    drawn = card_render.card_layout(card, qr_text)
    with Image.open(io.BytesIO(card_render.render_png(card, qr_text))) as image:
        # Left of the QR's box: the fields' column.
        column = ImageOps.invert(image.convert("L").crop((0, 0, drawn.qr.left - 10, drawn.height)))
    for line in (line for line in drawn.lines if line.field.startswith("network.")):
        # Where Pillow's ImageDraw puts the whole line's ink, and where the card has ink in its band.
        expected = _ink(line, drawn.qr.left - 10, drawn.height).point(lambda v: 255 if v >= 96 else 0).getbbox()
        assert expected is not None
        band = column.crop((0, expected[1], column.width, expected[3])).point(lambda v: 255 if v >= 96 else 0)
        found = band.getbbox()
        assert found is not None, line.field
        assert found[0] == pytest.approx(expected[0], abs=1), line.field
        assert found[2] == pytest.approx(expected[2], abs=1), line.field


def test_a_name_known_only_in_arabic_is_drawn_once_from_the_right(residence_card, sign):
    card = residence_card(name=Text("", "عبدالله محمد عبدالرحمن الرشيدي"))
    lines = card_render.drawn_lines(card, sign(card))
    names = [line for line in lines if line.field.startswith("name.")]
    assert [line.field for line in names] == ["name.ar"]
    assert names[0].left + names[0].width == pytest.approx(1012 - layout.MARGIN)


@dataclasses.dataclass(frozen=True)
class _CardWithStatus(CardContent):
    # CardContent carries no status yet; the renderer reads one when it does.
    status: object = "active"


def _with_status(card: CardContent, status: object) -> CardContent:
    return _CardWithStatus(**{f.name: getattr(card, f.name) for f in dataclasses.fields(card)}, status=status)


@pytest.mark.parametrize(("status", "words"), [("cancelled", ("CANCELLED", "ملغاة")),
                                               (CardStatus.TERMINATED, ("TERMINATED", "تم إنهاء التغطية")),
                                               ("expired", ("EXPIRED", "منتهية الصلاحية"))])
def test_a_card_not_in_force_says_so_in_a_red_band_with_its_real_dates(residence_card, sign, status, words):
    card = _with_status(residence_card(), status)
    qr_text = sign(card)
    lines = card_render.drawn_lines(card, qr_text)
    assert [line.logical for line in lines if line.field.startswith("status.")] == list(words)
    assert _drawn(lines, "valid_from") == "01/01/2026" and _drawn(lines, "valid_to") == "31/12/2026"
    with Image.open(io.BytesIO(card_render.render_png(card, qr_text))) as image:
        assert image.getpixel((8, 140)) == layout.STATUS_BG


def test_an_active_card_has_no_status_band(residence_card, sign):
    card = _with_status(residence_card(), "active")
    qr_text = sign(card)
    assert not [line for line in card_render.drawn_lines(card, qr_text) if line.field.startswith("status.")]
    with Image.open(io.BytesIO(card_render.render_png(card, qr_text))) as image:
        assert image.getpixel((8, 140)) == (255, 255, 255)


@pytest.mark.parametrize("kind", ["longest_group", "longest_residence", "group_card", "residence_card",
                                  "longest_expired"])
def test_the_qr_has_modules_of_3_px_and_more_and_touches_no_band(request, kind, sign):
    if kind == "longest_expired":
        card = _with_status(request.getfixturevalue("longest_group"), "expired")  # the red band too
    else:
        card = request.getfixturevalue(kind)
        card = card() if callable(card) else card
    drawn = card_render.card_layout(card, sign(card))
    qr = drawn.qr
    assert qr.module >= 3
    # The longest card under a red band grows taller (by 52 px), as the layout allows; the others fit.
    assert (drawn.width, drawn.height) == (1012, 638) or kind == "longest_expired"
    assert qr.side == (len(qr.rows) + 8) * qr.module and qr.left + qr.side <= drawn.width
    for box in drawn.boxes:
        assert not _overlap((qr.left, qr.top, qr.left + qr.side, qr.top + qr.side),
                            (box.left, box.top, box.right, box.bottom)), box


def _decoded(image: Image.Image) -> list[str]:
    return [b.text for b in zxingcpp.read_barcodes(image) if b.format == zxingcpp.BarcodeFormat.QRCode]


@pytest.mark.parametrize("kind", ["longest_group", "group_card"])
def test_the_smart_health_card_reads_off_the_png_at_full_and_at_half_size(request, kind, sign):
    card = request.getfixturevalue(kind)
    card = card() if callable(card) else card
    qr_text = sign(card)
    with Image.open(io.BytesIO(card_render.render_png(card, qr_text))) as image:
        assert _decoded(image) == [qr_text]
        # A screenshot shown at half size on another screen: 1.5 px a module. Lanczos-smoothed, zxing-cpp's
        # default (local-average) binarizer reads it.
        assert _decoded(image.resize((image.width // 2, image.height // 2), Image.Resampling.LANCZOS)) == [qr_text]
        # Halved by any common scaler, the providers' page reads it: a bilinear, Hamming or bicubic filter
        # greys the modules' edges and the local binarizer misses most cards, so the page then tries zxing's
        # global-histogram binarizer, which reads every one.
        for scaler in Image.Resampling:
            half = image.resize((image.width // 2, image.height // 2), scaler)
            screenshot = io.BytesIO()
            half.save(screenshot, "PNG")
            assert qr_texts_in_image(screenshot.getvalue()) == [qr_text], scaler
