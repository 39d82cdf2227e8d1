"""Draw the installable app's icons (a house with a check mark) as PNGs in audit/static/icons/.

Run it again only when the icon changes: `.venv/bin/python scripts/make_icons.py`. The PNGs are committed, so
nothing is drawn when the app runs.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

FOLDER = Path(__file__).resolve().parent.parent / "audit" / "static" / "icons"
BACKGROUND = (31, 78, 95)  # the manifest's theme colour, #1f4e5f
HOUSE = (255, 255, 255)
CHECK = (46, 160, 90)


def draw(size: int, padding: float) -> Image.Image:
    """The icon at `size` pixels; `padding` is the share of each side left empty (maskable icons need 10 %)."""
    scale = 4  # drawn larger and scaled down, for smooth edges
    side = size * scale
    image = Image.new("RGB", (side, side), BACKGROUND)
    pen = ImageDraw.Draw(image)
    inner = side * (1 - 2 * padding)

    def at(x: float, y: float) -> tuple[float, float]:
        return side * padding + x * inner, side * padding + y * inner

    pen.polygon([at(0.5, 0.12), at(0.9, 0.46), at(0.1, 0.46)], fill=HOUSE)  # roof
    pen.rectangle([at(0.2, 0.44), at(0.8, 0.88)], fill=HOUSE)  # walls
    pen.line([at(0.32, 0.66), at(0.46, 0.79), at(0.7, 0.54)], fill=CHECK, width=int(inner * 0.07), joint="curve")
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    FOLDER.mkdir(parents=True, exist_ok=True)
    for name, size, padding in (
        ("icon-192.png", 192, 0.06),
        ("icon-512.png", 512, 0.06),
        ("maskable-512.png", 512, 0.16),
    ):
        draw(size, padding).save(FOLDER / name, "PNG", optimize=True)
        print(FOLDER / name)


if __name__ == "__main__":
    main()
