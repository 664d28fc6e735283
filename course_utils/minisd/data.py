"""Procedurally drawn, captioned cat pictures: the training data of the embedded model.

Every picture is drawn from a small set of *attributes* (fur colour, coat pattern, background
colour, eye colour, pose, size, position and one of four styles) and every caption is written from
those attributes with templates and synonyms, so the course always knows what a picture *should*
show. That is what lets chapter 3 and 7 measure prompt adherence without any model.

Taught in: chapter 3 (what a caption data set looks like) and in the model card of the embedded
model. The generator is deterministic: the same seed gives the same pictures and captions.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

SIZE = 64  # pixels of a finished picture (square)
_SS = 2  # supersampling factor: shapes are drawn at 128x128 and downsampled, for smooth edges

# --- the attribute vocabulary -------------------------------------------------------------------
FUR_COLOURS: dict[str, tuple[int, int, int]] = {
    "black": (34, 32, 36),
    "white": (242, 240, 236),
    "grey": (128, 130, 138),
    "ginger": (226, 124, 38),
    "brown": (112, 70, 40),
    "cream": (232, 206, 150),
}
PATTERNS = ("solid", "tabby")
BACKGROUNDS: dict[str, tuple[int, int, int]] = {
    "blue": (62, 110, 210),
    "green": (64, 162, 78),
    "red": (206, 52, 52),
    "yellow": (240, 204, 48),
    "pink": (238, 136, 184),
    "purple": (128, 72, 176),
}
EYE_COLOURS: dict[str, tuple[int, int, int]] = {
    "green": (80, 190, 70),
    "yellow": (236, 206, 40),
    "blue": (70, 150, 235),
    "amber": (214, 134, 30),
}
STYLES = ("photo", "cartoon", "manga", "pixel")
POSES = ("sitting", "lying")  # full-body poses, drawn at random
# A close-up portrait: the cat's face fills the frame, with its chest below. Never drawn at random (the
# full-body data set stays as it was); `make_portraits` draws them for the U-Net's second stage.
PORTRAIT = "face"

# In manga style the fur has no hue: it shows as a tone of ink (solid, screentone or blank paper).
MANGA_TONE = {"black": "dark", "brown": "dark", "grey": "mid", "ginger": "mid", "white": "light",
              "cream": "light"}
_MANGA_INK_LEVEL = {"black": 0.0, "brown": 0.25, "grey": 0.5, "ginger": 0.62, "white": 1.0,
                    "cream": 0.9}

# Pairs never shown together in training, to measure whether the model composes what it learnt.
HELD_OUT: tuple[tuple[str, str], ...] = (
    ("fur:ginger", "style:pixel"),
    ("fur:grey", "style:cartoon"),
    ("fur:black", "bg:yellow"),
    ("fur:white", "bg:purple"),
    ("fur:cream", "bg:green"),
)

# --- captions -----------------------------------------------------------------------------------
_FUR_WORDS = {"black": ["black"], "white": ["white"], "grey": ["grey", "gray"],
              "ginger": ["ginger", "orange"], "brown": ["brown", "chocolate"], "cream": ["cream"]}
_CAT_WORDS = ["cat", "cat", "kitty", "kitten"]
_BG_WORDS = ["background", "background", "backdrop"]
_STYLE_WORDS = {
    "photo": ["photo", "photograph", "realistic photo"],
    "cartoon": ["cartoon", "flat cartoon", "cartoon drawing"],
    "manga": ["manga", "manga drawing", "black and white manga"],
    "pixel": ["16-bit pixel art", "pixel art", "retro 16-bit sprite"],
}
_PATTERN_WORDS = {"solid": [""], "tabby": ["tabby", "striped"]}


@dataclass(frozen=True)
class CatSpec:
    """Everything needed to draw one picture; the caption is written from it."""

    fur: str
    pattern: str
    background: str
    eyes: str
    style: str
    pose: str  # one of POSES, or PORTRAIT for a close-up of the face
    size: float  # 0.75 .. 1.05, relative body size (a close-up's head: 0.8 .. 1.8)
    cx: float  # horizontal centre, as a fraction of the width
    cy: float  # vertical centre
    facing: int  # +1 right, -1 left

    def as_dict(self) -> dict:
        return asdict(self)

    def attributes(self) -> set[str]:
        return {f"fur:{self.fur}", f"bg:{self.background}", f"style:{self.style}"}


def is_held_out(spec: CatSpec) -> bool:
    """True when the spec combines a pair listed in `HELD_OUT`."""
    attrs = spec.attributes()
    return any(a in attrs and b in attrs for a, b in HELD_OUT)


def random_spec(rng: np.random.Generator, held_out: bool | None = False, **fixed) -> CatSpec:
    """Draw a random `CatSpec`; keyword arguments fix attributes (e.g. ``style="manga"``).

    ``held_out=False`` only returns training combinations, ``True`` only held-out ones and
    ``None`` either.
    """
    for _ in range(1000):
        spec = CatSpec(
            fur=fixed.get("fur") or str(rng.choice(list(FUR_COLOURS))),
            pattern=fixed.get("pattern") or str(rng.choice(PATTERNS)),
            background=fixed.get("background") or str(rng.choice(list(BACKGROUNDS))),
            eyes=fixed.get("eyes") or str(rng.choice(list(EYE_COLOURS))),
            style=fixed.get("style") or str(rng.choice(STYLES)),
            pose=fixed.get("pose") or str(rng.choice(POSES, p=[0.7, 0.3])),
            size=float(fixed.get("size") or rng.uniform(0.75, 1.05)),
            cx=float(fixed.get("cx") or rng.uniform(0.38, 0.62)),
            cy=float(fixed.get("cy") or rng.uniform(0.45, 0.58)),
            facing=int(fixed.get("facing") or rng.choice([-1, 1])),
        )
        if held_out is None or is_held_out(spec) == held_out:
            return spec
    raise ValueError(f"no {'held-out' if held_out else 'training'} combination matches {fixed}")


def caption(spec: CatSpec, rng: np.random.Generator, drop_p: float = 0.0, fur_drop_p: float = 0.0) -> str:
    """Write a caption for `spec` from templates with synonyms and varied word order.

    With probability `drop_p` each of pattern, background and style is left out, so the model
    also learns what "a cat" alone means; with probability `fur_drop_p` the fur colour is too
    (no random number is drawn for it when `fur_drop_p` is 0, so older recipes give the same captions).
    """
    pick = lambda words: str(rng.choice(words))  # noqa: E731
    fur = pick(_FUR_WORDS[spec.fur])
    if fur_drop_p > 0 and rng.random() < fur_drop_p:
        fur = ""
    pat = pick(_PATTERN_WORDS[spec.pattern]) if rng.random() >= drop_p else ""
    cat = pick(_CAT_WORDS)
    style = pick(_STYLE_WORDS[spec.style]) if rng.random() >= drop_p else ""
    bg = f"{spec.background} {pick(_BG_WORDS)}" if rng.random() >= drop_p else ""
    noun = " ".join(w for w in (pat, fur, cat) if w)
    article = "an" if noun[0] in "aeiou" else "a"
    subject = f"{article} {noun}"
    if spec.pose == PORTRAIT:  # a close-up always says so: it is what the picture is of
        subject = f"a close-up of {subject}" if rng.random() < 0.5 else f"{subject}'s face"
    templates = [
        lambda: subject + (f" in {style} style" if style else "") + (f" on a {bg}" if bg else ""),
        lambda: (f"{style} of {subject}" if style else subject) + (f", {bg}" if bg else ""),
        lambda: subject + (f", {bg}" if bg else "") + (f", {style}" if style else ""),
        lambda: (f"{bg}, " if bg else "") + subject + (f", {style}" if style else ""),
    ]
    return templates[int(rng.integers(len(templates)))]()


def prompt_for(fur: str, background: str, style: str, pattern: str = "solid", close_up: bool = False) -> str:
    """The canonical prompt for a set of attributes, as the course's evaluation writes it."""
    noun = f"{'tabby ' if pattern == 'tabby' else ''}{fur} cat"
    style_word = {"photo": "photo", "cartoon": "cartoon", "manga": "manga",
                  "pixel": "16-bit pixel art"}[style]
    subject = f"a close-up of a {noun}" if close_up else f"a {noun}"
    return f"{subject} in {style_word} style on a {background} background"


# --- drawing ------------------------------------------------------------------------------------
def shade(rgb, f: float) -> tuple[int, int, int]:
    """Scale a colour towards black (f < 1) or white (f > 1)."""
    if f <= 1:
        return tuple(int(c * f) for c in rgb)
    return tuple(int(c + (255 - c) * (f - 1)) for c in rgb)


def _cat_shapes(spec: CatSpec, s: float):
    """Geometry of the cat at canvas scale `s` (pixels of the drawing canvas per unit)."""
    W = SIZE * s
    k = spec.size * W
    cx, cy, f = spec.cx * W, spec.cy * W, spec.facing
    shapes = {}
    if spec.pose == PORTRAIT:  # the head fills the frame; the chest runs off the bottom edge
        hr = 0.36 * k
        hx, hy = cx, cy
        body = (hx - 1.25 * hr, hy + 0.45 * hr, hx + 1.25 * hr, hy + 3.4 * hr)
        tail = []
    elif spec.pose == "sitting":
        bw, bh = 0.42 * k, 0.46 * k
        body = (cx - bw / 2, cy - 0.05 * k, cx + bw / 2, cy - 0.05 * k + bh)
        hr = 0.19 * k
        hx, hy = cx + f * 0.04 * k, cy - 0.12 * k
        tail = [(cx - f * 0.18 * k, cy + 0.36 * k), (cx - f * 0.36 * k, cy + 0.30 * k),
                (cx - f * 0.40 * k, cy + 0.12 * k)]
    else:  # lying: a long loaf with the head at the front
        bw, bh = 0.66 * k, 0.30 * k
        body = (cx - bw / 2, cy + 0.02 * k, cx + bw / 2, cy + 0.02 * k + bh)
        hr = 0.18 * k
        hx, hy = cx + f * 0.28 * k, cy - 0.02 * k
        tail = [(cx - f * 0.30 * k, cy + 0.26 * k), (cx - f * 0.44 * k, cy + 0.22 * k),
                (cx - f * 0.48 * k, cy + 0.08 * k)]
    head = (hx - hr, hy - hr, hx + hr, hy + hr)
    if spec.pose == PORTRAIT:  # a face is a little wider than tall, with cheeks
        head = (hx - 1.12 * hr, hy - 0.95 * hr, hx + 1.12 * hr, hy + 0.9 * hr)
    ears = [
        [(hx - 0.95 * hr, hy - 0.35 * hr), (hx - 0.75 * hr, hy - 1.55 * hr), (hx - 0.15 * hr, hy - 0.85 * hr)],
        [(hx + 0.95 * hr, hy - 0.35 * hr), (hx + 0.75 * hr, hy - 1.55 * hr), (hx + 0.15 * hr, hy - 0.85 * hr)],
    ]
    er = 0.2 * hr
    eyes = [(hx - 0.42 * hr + f * 0.08 * hr, hy - 0.05 * hr, er),
            (hx + 0.42 * hr + f * 0.08 * hr, hy - 0.05 * hr, er)]
    nose = (hx + f * 0.08 * hr, hy + 0.32 * hr, 0.1 * hr)
    shapes.update(body=body, head=head, ears=ears, tail=tail, tail_w=0.09 * k, eyes=eyes, nose=nose,
                  hr=hr, hx=hx, hy=hy, close_up=spec.pose == PORTRAIT)
    if spec.pose == PORTRAIT:  # whiskers: three on each cheek, fanning out from beside the nose
        x, y = nose[0], nose[1] + 0.25 * hr
        shapes["whiskers"] = [[(x + side * 0.3 * hr, y + dy * 0.1 * hr),
                               (x + side * 1.45 * hr, y + dy * 0.32 * hr - 0.1 * hr)]
                              for side in (-1, 1) for dy in (-1, 0, 1)]
        shapes["mouth"] = [(x - 0.22 * hr, y + 0.05 * hr), (x, y - 0.08 * hr), (x + 0.22 * hr, y + 0.05 * hr)]
    return shapes


def _draw_silhouette(draw: ImageDraw.ImageDraw, sh, fill) -> None:
    if sh["tail"]:
        draw.line(sh["tail"], fill=fill, width=max(1, int(sh["tail_w"])), joint="curve")
        for x, y in (sh["tail"][0], sh["tail"][-1]):
            r = sh["tail_w"] / 2
            draw.ellipse((x - r, y - r, x + r, y + r), fill=fill)
    draw.ellipse(sh["body"], fill=fill)
    for ear in sh["ears"]:
        draw.polygon(ear, fill=fill)
    draw.ellipse(sh["head"], fill=fill)


def silhouette_mask(spec: CatSpec, s: float) -> Image.Image:
    m = Image.new("L", (int(SIZE * s),) * 2, 0)
    _draw_silhouette(ImageDraw.Draw(m), _cat_shapes(spec, s), 255)
    return m


def _stripes(spec: CatSpec, s: float, rng: np.random.Generator) -> Image.Image:
    """A mask of tabby stripes (only meaningful inside the cat's silhouette)."""
    sh = _cat_shapes(spec, s)
    m = Image.new("L", (int(SIZE * s),) * 2, 0)
    d = ImageDraw.Draw(m)
    x0, y0, x1, y1 = sh["body"]
    w = max(1, int(0.045 * min(spec.size, 1.05) * SIZE * s))
    n = 0 if sh["close_up"] else 5  # a close-up shows the stripes of the face, not of the body
    for i in range(n):
        x = x0 + (i + 0.7) * (x1 - x0) / (n + 0.4) + rng.uniform(-1, 1) * s
        d.line([(x, y0 - 2 * s), (x + 0.1 * (x1 - x0), y1)], fill=255, width=w)
    hx, hy, hr = sh["hx"], sh["hy"], sh["hr"]
    for dx in (-0.3, 0.0, 0.3):
        d.line([(hx + dx * hr, hy - 1.0 * hr), (hx + dx * hr * 1.2, hy - 0.45 * hr)], fill=255, width=w)
    if sh["close_up"]:  # a tabby's cheek stripes, two on each side, running back from the eyes
        for side in (-1, 1):
            for dy in (0.15, 0.42):
                d.line([(hx + side * 0.7 * hr, hy + dy * hr), (hx + side * 1.12 * hr, hy + (dy - 0.12) * hr)],
                       fill=255, width=w)
    return m


def _draw_whiskers(draw: ImageDraw.ImageDraw, sh, colour, mouth, width: int = 1) -> None:
    """A close-up's whiskers and mouth (a full-body cat is too small for them)."""
    if not sh["close_up"]:
        return
    for line in sh["whiskers"]:
        draw.line(line, fill=colour, width=width)
    draw.line(sh["mouth"], fill=mouth, width=width)


def _draw_face(draw: ImageDraw.ImageDraw, sh, eye_rgb, ink, nose_rgb) -> None:
    for x, y, r in sh["eyes"]:
        draw.ellipse((x - r, y - r, x + r, y + r), fill=eye_rgb)
        draw.ellipse((x - 0.35 * r, y - 0.85 * r, x + 0.35 * r, y + 0.85 * r), fill=ink)
    x, y, r = sh["nose"]
    draw.polygon([(x - r, y - 0.6 * r), (x + r, y - 0.6 * r), (x, y + 0.7 * r)], fill=nose_rgb)


def _outline(mask: Image.Image, width: int) -> Image.Image:
    """The ring of `width` pixels just outside and on the edge of a mask."""
    grown = mask.filter(ImageFilter.MaxFilter(2 * width + 1))
    shrunk = mask.filter(ImageFilter.MinFilter(3))
    return Image.fromarray(((np.asarray(grown) > 127) & (np.asarray(shrunk) < 128)).astype(np.uint8) * 255)


def _render_photo(spec, rng) -> Image.Image:
    s = _SS * 2
    W = SIZE * s
    bg = np.array(BACKGROUNDS[spec.background], float)
    yy, xx = np.mgrid[0:W, 0:W] / W
    light = 1.12 - 0.25 * yy - 0.08 * np.abs(xx - 0.5)  # soft studio gradient
    canvas = bg[None, None] * light[..., None]
    mask = np.asarray(silhouette_mask(spec, s), float) / 255
    soft = Image.fromarray((mask * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(3 * s))
    soft = np.asarray(soft, float) / 255
    # shadow under the cat
    canvas *= 1 - 0.25 * np.clip(np.roll(soft, int(0.04 * W), axis=0) - mask, 0, 1)[..., None]
    fur = np.array(FUR_COLOURS[spec.fur], float)
    sh = _cat_shapes(spec, s)
    # round shading: lighter towards the upper left of each body part, darker below
    shade = 0.75 + 0.5 * soft - 0.25 * yy + 0.1 * (0.5 - xx) * spec.facing
    fur_img = fur[None, None] * shade[..., None] + (18 if spec.fur == "black" else 0)
    texture = rng.normal(0, 1, (W // 2, W // 2))
    texture = np.kron(texture, np.ones((2, 2)))[:W, :W]
    fur_img += 14 * texture[..., None]
    if spec.pattern == "tabby":
        stripes = np.asarray(_stripes(spec, s, rng).filter(ImageFilter.GaussianBlur(s)), float) / 255
        fur_img *= 1 - 0.45 * stripes[..., None]
    canvas = canvas * (1 - mask[..., None]) + fur_img * mask[..., None]
    img = Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8))
    d = ImageDraw.Draw(img)
    _draw_face(d, sh, EYE_COLOURS[spec.eyes], (20, 20, 20), (214, 120, 130))
    _draw_whiskers(d, sh, (236, 234, 228), (60, 40, 40), width=max(1, s // 2))
    for x, y, r in sh["eyes"]:  # catch-light
        d.ellipse((x - 0.7 * r, y - 0.7 * r, x - 0.25 * r, y - 0.25 * r), fill=(255, 255, 255))
    img = img.filter(ImageFilter.GaussianBlur(0.8 * s / 2))
    return img.resize((SIZE, SIZE), Image.Resampling.LANCZOS)


def _render_cartoon(spec, rng) -> Image.Image:
    s = _SS
    W = SIZE * s
    img = Image.new("RGB", (W, W), BACKGROUNDS[spec.background])
    sh = _cat_shapes(spec, s)
    mask = silhouette_mask(spec, s)
    fur = FUR_COLOURS[spec.fur]
    layer = Image.new("RGB", (W, W), fur)
    if spec.pattern == "tabby":
        layer.paste(shade(fur, 0.6), mask=_stripes(spec, s, rng))
    img.paste(layer, mask=mask)
    ink = (24, 20, 28)
    img.paste(ink, mask=_outline(mask, 2))
    d = ImageDraw.Draw(img)
    _draw_face(d, sh, EYE_COLOURS[spec.eyes], ink, (236, 120, 140))
    _draw_whiskers(d, sh, ink, ink, width=max(1, s // 2))
    return img.resize((SIZE, SIZE), Image.Resampling.LANCZOS)


def _screentone(W: int, level: float, period: int, angle: float = 45.0) -> np.ndarray:
    """A halftone dot field: True where ink goes. `level` 0 = solid ink, 1 = blank paper."""
    yy, xx = np.mgrid[0:W, 0:W].astype(float)
    a = math.radians(angle)
    u = (xx * math.cos(a) + yy * math.sin(a)) / period
    v = (-xx * math.sin(a) + yy * math.cos(a)) / period
    d = np.hypot(u - np.round(u), v - np.round(v))  # distance to the nearest dot centre (cells)
    radius = math.sqrt(max(0.0, 1 - level) / math.pi)  # dot area = ink share
    return d < radius


def _render_manga(spec, rng) -> Image.Image:
    s = _SS
    W = SIZE * s
    # Manga magazines are printed in black ink on tinted newsprint: the background colour survives
    # as a pale paper tint, the cat is pure ink.
    paper = shade(BACKGROUNDS[spec.background], 1.62)
    canvas = np.empty((W, W, 3), np.uint8)
    canvas[:] = paper
    mask = np.asarray(silhouette_mask(spec, s)) > 127
    level = _MANGA_INK_LEVEL[spec.fur]
    if level <= 0.0:
        ink = mask.copy()
    elif level >= 0.95:
        ink = np.zeros_like(mask)
    else:
        ink = mask & _screentone(W, level, period=4 * s)
    fill = np.where(ink[..., None], 0, 255).astype(np.uint8)
    canvas = np.where(mask[..., None], fill, canvas)
    if spec.pattern == "tabby":
        stripes = np.asarray(_stripes(spec, s, rng)) > 127
        canvas[mask & stripes] = 0 if level > 0.1 else 110
    img = Image.fromarray(canvas)
    img.paste((0, 0, 0), mask=_outline(Image.fromarray(mask.astype(np.uint8) * 255), 2))
    sh = _cat_shapes(spec, s)
    d = ImageDraw.Draw(img)
    for x, y, r in sh["eyes"]:
        d.ellipse((x - r, y - r, x + r, y + r), fill=(255, 255, 255), outline=(0, 0, 0), width=1)
        d.ellipse((x - 0.4 * r, y - 0.8 * r, x + 0.4 * r, y + 0.8 * r), fill=(0, 0, 0))
    x, y, r = sh["nose"]
    d.polygon([(x - r, y - 0.6 * r), (x + r, y - 0.6 * r), (x, y + 0.7 * r)], fill=(0, 0, 0))
    _draw_whiskers(d, sh, (0, 0, 0), (0, 0, 0), width=1)
    return img.resize((SIZE, SIZE), Image.Resampling.LANCZOS)


PIXEL_GRID = 32  # pixel art is drawn on a 32x32 grid, each sprite pixel a 2x2 block


def _render_pixel(spec, rng) -> Image.Image:
    G = PIXEL_GRID
    scale = G / SIZE
    mask = np.asarray(silhouette_mask(spec, 4 * scale).resize((G, G), Image.Resampling.BOX)) > 110
    fur = FUR_COLOURS[spec.fur]
    bg = BACKGROUNDS[spec.background]
    grid = np.empty((G, G, 3), np.uint8)
    grid[:] = bg
    grid[G * 3 // 4:] = shade(bg, 0.8)  # a floor line, as in a side-scrolling game
    body = np.empty_like(grid)
    body[:] = fur
    yy = np.arange(G)[:, None].repeat(G, 1)
    # two-tone cel shading on the lower half of the sprite
    ys = np.where(mask.any(1))[0]
    if len(ys):
        mid = (ys[0] + ys[-1]) / 2
        body[(yy > mid + 2)] = shade(fur, 0.78) if spec.fur != "black" else (60, 58, 66)
    if spec.pattern == "tabby":
        stripes = np.asarray(_stripes(spec, 4 * scale, rng).resize((G, G), Image.Resampling.BOX)) > 90
        body[stripes] = shade(fur, 0.55) if spec.fur != "black" else (70, 66, 76)
    grid = np.where(mask[..., None], body, grid)
    grown = np.asarray(Image.fromarray(mask.astype(np.uint8) * 255).filter(ImageFilter.MaxFilter(3))) > 0
    grid[grown & ~mask] = (16, 16, 32)  # the dark outline of a sprite
    sh = _cat_shapes(spec, 4 * scale)
    if sh["close_up"]:  # a close-up's eyes are blocks of colour with a dark pupil, and it has a pink nose
        for x, y, r in sh["eyes"]:
            x0, x1, y0, y1 = (int(round((v) / 4)) for v in (x - r, x + r, y - r, y + r))
            grid[max(0, y0):y1 + 1, max(0, x0):x1 + 1] = EYE_COLOURS[spec.eyes]
            gx, gy = int(x / 4), int(y / 4)
            grid[max(0, gy - 1):gy + 1, gx] = (16, 16, 32)
        x, y, _r = sh["nose"]
        grid[int(y / 4), int(x / 4) - 1:int(x / 4) + 1] = (236, 120, 140)
        for line in sh["whiskers"]:
            (xa, ya), (xb, yb) = line
            for u in np.linspace(0.3, 1, 4):
                gx, gy = int((xa + u * (xb - xa)) / 4), int((ya + u * (yb - ya)) / 4)
                if 0 <= gx < G and 0 <= gy < G and mask[gy, gx]:
                    grid[gy, gx] = (252, 252, 252) if spec.fur not in ("white", "cream") else (16, 16, 32)
    else:
        for x, y, _r in sh["eyes"]:
            gx, gy = int(x / 4), int(y / 4)
            if 0 <= gx < G and 0 <= gy < G:
                grid[gy, gx] = EYE_COLOURS[spec.eyes]
    img = Image.fromarray(grid)
    return img.resize((SIZE, SIZE), Image.Resampling.NEAREST)


_RENDERERS = {"photo": _render_photo, "cartoon": _render_cartoon, "manga": _render_manga,
              "pixel": _render_pixel}


def render(spec: CatSpec, seed: int = 0) -> Image.Image:
    """Draw the picture that `spec` describes (64x64 RGB). Deterministic for a seed."""
    return _RENDERERS[spec.style](spec, np.random.default_rng(seed))


def sample(n: int, seed: int = 0, held_out: bool | None = False, drop_p: float = 0.0, **fixed):
    """`n` (image, caption, spec) triples, deterministic for `seed`.

    Example: ``imgs, caps, specs = sample(8, seed=1, style="manga")``.
    """
    rng = np.random.default_rng(seed)
    imgs, caps, specs = [], [], []
    for i in range(n):
        spec = random_spec(rng, held_out=held_out, **fixed)
        imgs.append(render(spec, seed=seed * 1_000_003 + i))
        caps.append(caption(spec, rng, drop_p=drop_p))
        specs.append(spec)
    return imgs, caps, specs


def portrait_spec(rng: np.random.Generator, held_out: bool | None = False, **fixed) -> CatSpec:
    """A random close-up (`PORTRAIT`): the face fills the frame, a little off centre at times. The largest
    run off every edge, eyes a third of the way down, as in a phone photo taken a hand's width from a cat."""
    fixed = {"size": float(rng.uniform(0.8, 1.8)), "cx": float(rng.uniform(0.42, 0.58)),
             "cy": float(rng.uniform(0.38, 0.64)), **fixed, "pose": PORTRAIT}
    return random_spec(rng, held_out=held_out, **fixed)


def make_portraits(n: int, seed: int = 0, held_out: bool | None = False) -> tuple[np.ndarray, list[CatSpec]]:
    """`n` close-up portraits, as `make_dataset` draws full-body pictures."""
    return make_dataset(n, seed=seed, held_out=held_out, close_ups=True)


def make_dataset(n: int, seed: int = 0, held_out: bool | None = False,
                 close_ups: bool = False) -> tuple[np.ndarray, list[CatSpec]]:
    """`n` training pictures as a uint8 array of shape (n, 64, 64, 3) and their specs.

    Captions are not stored: training writes a fresh caption for each use of a picture.
    ``held_out`` as in `random_spec`: the default draws training combinations only, ``None`` every
    combination (for the judge, which must read held-out pictures too). ``close_ups`` draws close-ups of
    faces (`portrait_spec`) instead of whole cats.
    """
    rng = np.random.default_rng(seed)
    out = np.empty((n, SIZE, SIZE, 3), np.uint8)
    specs = []
    draw_spec = portrait_spec if close_ups else random_spec
    for i in range(n):
        spec = draw_spec(rng, held_out=held_out)
        out[i] = np.asarray(render(spec, seed=seed * 1_000_003 + i))
        specs.append(spec)
    return out, specs
