"""Make the course's two pictures: MAU's photo and Leonardo the fox.

Run from anywhere: ``python assets/make_assets.py``. Both files are committed, so a learner never
needs to run this; it documents where they come from and rebuilds them (byte for byte with the
same Pillow and libjpeg versions).

- ``assets/mau.jpg``: MAU, the course's cat. The photo is "chelsea" from scikit-image's data
  module (CC0, see ``CREDITS.md``), saved as JPEG at quality 92.
- ``assets/leonardo.png``: Leonardo, the course's fox, a flat icon drawn from geometric shapes:
  256×256 RGBA with a transparent background, drawn at 4× and scaled down for smooth edges.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter

HERE = Path(__file__).resolve().parent
MAU_FILE = HERE / "mau.jpg"
FOX_FILE = HERE / "leonardo.png"

SIZE = 256  # side of the icon, in pixels
SCALE = 4  # drawn this many times larger, then scaled down (anti-aliasing)

ORANGE = (240, 122, 38, 255)
ORANGE_DARK = (214, 96, 26, 255)
CREAM = (255, 248, 240, 255)
INNER_EAR = (255, 214, 186, 255)
DARK = (58, 40, 40, 255)
OUTLINE = (74, 44, 30, 255)


def make_mau(path: Path = MAU_FILE) -> None:
    """Save scikit-image's "chelsea" (451×300, CC0) as MAU's photo."""
    from skimage import data

    Image.fromarray(data.chelsea()).save(path, "JPEG", quality=92)


# -- drawing helpers: all coordinates are given on the 256×256 icon ---------------------------


def _smooth(points: list[tuple[float, float]], rounds: int = 4) -> list[tuple[float, float]]:
    """Round a closed polygon's corners by Chaikin corner cutting."""
    for _ in range(rounds):
        out = []
        for i, (x0, y0) in enumerate(points):
            x1, y1 = points[(i + 1) % len(points)]
            # Replace each edge by two points at 1/4 and 3/4 of its length.
            out += [(0.75 * x0 + 0.25 * x1, 0.75 * y0 + 0.25 * y1),
                    (0.25 * x0 + 0.75 * x1, 0.25 * y0 + 0.75 * y1)]
        points = out
    return points


def _mirror(left: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """A shape symmetric about x = 128 from its left half (listed top to bottom)."""
    return left + [(SIZE - x, y) for x, y in reversed(left)]


def _mask(points: list[tuple[float, float]], rounds: int = 4) -> Image.Image:
    """A filled, smoothed polygon as an L mask at drawing scale."""
    m = Image.new("L", (SIZE * SCALE, SIZE * SCALE), 0)
    pts = [(x * SCALE, y * SCALE) for x, y in _smooth(points, rounds)]
    ImageDraw.Draw(m).polygon(pts, fill=255)
    return m


def _ellipse_mask(cx: float, cy: float, rx: float, ry: float) -> Image.Image:
    m = Image.new("L", (SIZE * SCALE, SIZE * SCALE), 0)
    box = [(cx - rx) * SCALE, (cy - ry) * SCALE, (cx + rx) * SCALE, (cy + ry) * SCALE]
    ImageDraw.Draw(m).ellipse(box, fill=255)
    return m


def _paint(canvas: Image.Image, colour: tuple[int, int, int, int], mask: Image.Image) -> None:
    canvas.paste(Image.new("RGBA", canvas.size, colour), (0, 0), mask)


def _flip(mask: Image.Image) -> Image.Image:
    return mask.transpose(Image.Transpose.FLIP_LEFT_RIGHT)


def make_leonardo(path: Path = FOX_FILE) -> Image.Image:
    """Draw Leonardo the fox's head and save it as a 256×256 RGBA PNG."""
    big = (SIZE * SCALE, SIZE * SCALE)
    fox = Image.new("RGBA", big, (0, 0, 0, 0))

    # 1. Shapes, as masks. Ears: tall triangles leaning outwards, with rounded tips.
    ear_l = _mask([(28, 132), (38, 12), (38, 12), (124, 80)], rounds=3)
    inner_l = _mask([(46, 114), (47, 38), (47, 38), (104, 84)], rounds=3)
    tip_l = ImageChops.multiply(ear_l, _mask([(0, 0), (120, 0), (120, 36), (0, 52)], rounds=0))
    ears = ImageChops.lighter(ear_l, _flip(ear_l))

    # Head: a broad forehead, cheek tufts pointing out and down, and a narrow muzzle.
    head = _mask(
        _mirror([(128, 64), (80, 70), (48, 96), (30, 128), (8, 172), (8, 172), (52, 184), (94, 212),
                 (122, 230)]),
        rounds=3,
    )

    # White cheeks: a mask shaped like a heart, clipped to the head, leaving an orange
    # stripe down the forehead to the nose.
    cheeks = _mask(
        _mirror([(128, 172), (104, 150), (70, 146), (30, 144), (-10, 160), (20, 212), (96, 238), (126, 250)]),
        rounds=3,
    )
    cheeks = ImageChops.multiply(cheeks, head)

    # 2. A dark outline around the whole silhouette, so the white cheeks stand out on a white page.
    silhouette = ImageChops.lighter(ears, head)
    outline = silhouette
    for _ in range(3 * SCALE // 2):
        outline = outline.filter(ImageFilter.MaxFilter(3))
    _paint(fox, OUTLINE, outline)

    # 3. Ears, then the head over their base.
    _paint(fox, ORANGE_DARK, ears)
    _paint(fox, INNER_EAR, ImageChops.lighter(inner_l, _flip(inner_l)))
    _paint(fox, DARK, ImageChops.lighter(tip_l, _flip(tip_l)))
    _paint(fox, ORANGE, head)
    _paint(fox, CREAM, cheeks)

    # 4. Eyes with a highlight, a nose and a small smile.
    for cx in (96, SIZE - 96):
        _paint(fox, DARK, _ellipse_mask(cx, 150, 11, 14))
        _paint(fox, CREAM, _ellipse_mask(cx + 4, 144, 4, 4.5))
    _paint(fox, DARK, _mask(_mirror([(128, 200), (112, 201), (118, 214), (128, 219)]), rounds=4))
    _paint(fox, CREAM, _ellipse_mask(123, 204, 3.5, 2.2))
    draw = ImageDraw.Draw(fox)
    w = int(2.2 * SCALE)
    for x0 in (114, 128):
        draw.arc([x0 * SCALE, 212 * SCALE, (x0 + 14) * SCALE, 226 * SCALE], 20, 160, fill=DARK, width=w)

    # 5. Scale down, and centre the drawing on the canvas.
    small = fox.resize((SIZE, SIZE), Image.Resampling.LANCZOS)
    left, top, right, bottom = small.getbbox()
    icon = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    icon.paste(small, ((SIZE - right - left) // 2, (SIZE - bottom - top) // 2))
    icon.save(path, optimize=True)
    return icon


if __name__ == "__main__":
    make_mau()
    make_leonardo()
    print(f"wrote {MAU_FILE} and {FOX_FILE}")
