"""The pass's images, drawn once per container with Pillow: the icon (lock screen, notifications, mail)
and the logo (top left of the pass), each at 1x, 2x and 3x as Apple's sizes say (icon 29 pt, logo
up to 160 x 50 pt). A white cross: on the brand colour for the icon, on nothing for the logo, which
lies on the pass's own background."""

from __future__ import annotations

import io
from functools import cache


@cache
def pass_images(brand_colour: str) -> dict[str, bytes]:
    """File name -> PNG bytes of every image a pass carries."""
    images: dict[str, bytes] = {}
    for scale, suffix in ((1, ""), (2, "@2x"), (3, "@3x")):
        images[f"icon{suffix}.png"] = _cross(29 * scale, 29 * scale, background=brand_colour)
        images[f"logo{suffix}.png"] = _cross(50 * scale, 50 * scale, background=None)
    return images


def _cross(width: int, height: int, *, background: str | None) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (width, height), background or (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    side = min(width, height)
    arm, bar = side * 0.62, side * 0.2
    cx, cy = width / 2, height / 2
    draw.rectangle((cx - bar / 2, cy - arm / 2, cx + bar / 2, cy + arm / 2), fill=(255, 255, 255, 255))
    draw.rectangle((cx - arm / 2, cy - bar / 2, cx + arm / 2, cy + bar / 2), fill=(255, 255, 255, 255))
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()
