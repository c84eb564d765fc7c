"""Draw the skill's two store icons: skill-package/assets/images/en-US_{small,large}IconUri.png.

Alexa wants a 108x108 and a 512x512 PNG (``smallIconUri``/``largeIconUri`` in skill.json). The
ASK CLI uploads what ``file://assets/images/...`` names, relative to skill-package/ (the layout
``ask smapi export-package`` writes). Both icons are drawn from one 4x supersampled master and
scaled down with a Lanczos filter, so the small one stays crisp rather than being a blurred
copy of the large one. Run it after changing the design and commit the PNGs with it:

    .venv/bin/python tools/skill_icons.py

Pillow is a development dependency (matplotlib's); the skill and ``skill check`` never import it.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "skill-package" / "assets" / "images"
SIZES = {"en-US_smallIconUri.png": 108, "en-US_largeIconUri.png": 512}
MASTER = 2048  # drawn at 4x the large icon, then scaled down

LAKE = (18, 94, 122)  # the background: a lake at dusk
PAGE = (250, 247, 240)
BAND = (226, 92, 61)  # the calendar's header band: a Florida sunset
DOT = (120, 138, 150)
TODAY = (242, 169, 0)


def draw_master() -> Image.Image:
    """A calendar page on a lake-blue square: a header band, two rings, a month of days,
    tonight circled in gold."""
    size = MASTER
    image = Image.new("RGB", (size, size), LAKE)
    draw = ImageDraw.Draw(image)
    unit = size / 16

    left, top, right, bottom = 3 * unit, 3.4 * unit, 13 * unit, 13 * unit
    radius = int(1.1 * unit)
    shadow = int(0.25 * unit)
    draw.rounded_rectangle(
        (left + shadow, top + shadow, right + shadow, bottom + shadow),
        radius=radius,
        fill=(10, 62, 82),
    )
    draw.rounded_rectangle((left, top, right, bottom), radius=radius, fill=PAGE)
    band_bottom = top + 2.6 * unit
    draw.rounded_rectangle((left, top, right, band_bottom), radius=radius, fill=BAND)
    draw.rectangle((left, band_bottom - radius, right, band_bottom), fill=BAND)

    for ring_x in (left + 2.6 * unit, right - 2.6 * unit):  # the binder rings
        draw.rounded_rectangle(
            (ring_x - 0.35 * unit, top - 0.9 * unit, ring_x + 0.35 * unit, top + 0.9 * unit),
            radius=int(0.35 * unit),
            fill=PAGE,
            outline=(10, 62, 82),
            width=int(0.12 * unit),
        )

    columns, rows = 5, 3
    grid_left, grid_top = left + 1.3 * unit, band_bottom + 1.2 * unit
    step_x = (right - left - 2.6 * unit) / (columns - 1)
    step_y = (bottom - band_bottom - 2.4 * unit) / (rows - 1)
    today = (3, 1)
    for row in range(rows):
        for column in range(columns):
            x, y = grid_left + column * step_x, grid_top + row * step_y
            dot = 0.42 * unit
            if (column, row) == today:
                ring = 0.95 * unit
                draw.ellipse((x - ring, y - ring, x + ring, y + ring), fill=TODAY)
                draw.ellipse((x - dot, y - dot, x + dot, y + dot), fill=PAGE)
            else:
                draw.ellipse((x - dot, y - dot, x + dot, y + dot), fill=DOT)
    return image


def write_icons(directory: Path = IMAGES) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    master = draw_master()
    written = []
    for name, size in SIZES.items():
        path = directory / name
        master.resize((size, size), Image.Resampling.LANCZOS).save(
            path, format="PNG", optimize=True
        )
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_icons():
        print(path.relative_to(ROOT))
