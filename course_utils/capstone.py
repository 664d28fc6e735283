"""The capstone's recipes: which prompt, strength and working size turn MAU's photo into manga or a sprite.

Image-to-image trades the photo against the prompt: a low strength keeps the cat and ignores the
style, a high one draws the style and forgets the cat. For the embedded model the strength is not
picked by hand: `make eval-model` sweeps strengths 0.1 to 1.0 on MAU's photo (8 seeds, two working
sizes), and `recipe` reads from the model's ``eval.json`` the strength that keeps the most of the photo
(median grey-level SSIM at least 0.5) while the prompt's style holds in at least 75 % of the pictures;
where no strength does both, the lowest strength at which the style holds, with the identity it
measured. For Stable Diffusion the recipe is a stated choice, not a measurement.

Taught in: chapter 5 (the trade-off), chapters 8 and 9 (the manga page and the t-shirt).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from .errors import CourseInputError, CourseSetupError

STYLES = ("manga", "pixel")

# Stable Diffusion 1.5 at 512 px: free-text prompts, and strengths that keep a close-up's layout while
# the style takes over (a stated choice for that model, not measured by the course on a GPU)
_SD_RECIPES = {
    "manga": ("a close-up of a ginger tabby cat's face, black and white manga drawing, screentone shading, "
              "clean ink lines, plain background", 0.6),
    "pixel": ("a close-up of a ginger tabby cat's face, 16-bit pixel art sprite, few colours, "
              "plain green background", 0.7),
}


@dataclass(frozen=True)
class Recipe:
    """What the capstone asks the model for, and why."""

    style: str  # "manga" or "pixel"
    prompt: str
    strength: float
    size: int  # the square the photo is fitted to before image-to-image
    identity: float | None  # median grey-level SSIM against the photo at this strength (measured), or None
    style_pct: float | None  # share of pictures in the asked style (measured), or None
    source: str  # where the numbers come from

    def describe(self) -> str:
        text = f"{self.style}: strength {self.strength:g} at {self.size} x {self.size} px, prompt {self.prompt!r}"
        if self.identity is not None:
            text += (f"\n  measured on MAU's photo: identity (grey-level SSIM) {self.identity:.2f}, "
                     f"style right in {self.style_pct:.0f} % of pictures")
        return text + f"\n  ({self.source})"


def _embedded_recipe(style: str) -> Recipe:
    from .minisd import evaluate as E
    from .minisd.config import MODEL_DIR

    path = MODEL_DIR / "eval.json"
    choice = E.recipe_choice(json.loads(path.read_text()), style) if path.exists() else None
    if choice is None:
        raise CourseSetupError(
            f"The embedded model's measurements ({path}) do not say at which strength the {style} style holds "
            "on MAU's photo. Run `make eval-model` to measure it (a few minutes), or restore the file with "
            "`git checkout -- assets/models`.")
    why = {1: "the strength that keeps the most of MAU (median identity at least 0.5) while the style holds in "
              "at least 75 % of pictures",
           2: "the lowest strength at which the style holds in at least 75 % of pictures; no strength also kept "
              "a median identity of 0.5",
           3: "the lowest strength at which the judge read the style most often; at no strength did it hold in "
              "75 % of pictures"}[choice["tier"]]
    return Recipe(style, E.tradeoff_prompt(style), choice["strength"], choice["size"], choice["identity"],
                  choice["style_pct"], f"measured by `make eval-model` on MAU's photo, 8 seeds: {why}")


def recipe(style: str, pipe) -> Recipe:
    """The capstone's recipe for `style` ("manga" or "pixel") with the loaded pipeline `pipe`."""
    if style not in STYLES:
        raise CourseInputError(f"style={style!r} is not a capstone style; choose one of {', '.join(STYLES)}.")
    from .models import model_info

    info = model_info(pipe)
    if info.key == "embedded":
        return _embedded_recipe(style)
    prompt, strength = _SD_RECIPES[style]
    size = info.resolution
    return Recipe(style, prompt, strength, size, None, None,
                  "chosen for Stable Diffusion 1.5 at 512 px; not measured by the course")


def photo_square(photo, size: int):
    """The centre square of `photo` at `size` pixels (a PIL image): exactly what image-to-image starts from."""
    from .images import fit_square, load_image

    return fit_square(load_image(photo), size)


def identity(photo, picture) -> float:
    """How much of the photo's light and dark a picture keeps: grey-level SSIM at 64 x 64 (1 = the same).

    Both are brought to 64 x 64 (the photo as its centre square), so pictures of any size compare.
    Taught in chapter 5; the capstone prints it beside every picture that claims to be MAU.
    """
    from PIL import Image

    from .images import fit_square
    from .minisd.metrics import grey_ssim

    ref = photo_square(photo, 64)
    pic = picture if isinstance(picture, Image.Image) else Image.fromarray(picture)
    if pic.mode in ("RGBA", "LA", "P"):  # see-through parts count as white paper
        pic = pic.convert("RGBA")
        sheet = Image.new("RGBA", pic.size, (255, 255, 255, 255))
        pic = Image.alpha_composite(sheet, pic)
    return grey_ssim(ref, fit_square(pic.convert("RGB"), 64))


def badge_sprite(photo, preset: str = "arcade", size: int = 256, **overrides):
    """MAU's face as a 16-bit badge, made from the photo by filters alone (no model): the centre square,
    cut as a round badge, reduced to a 9-bit palette on the preset's grid, outlined (`styles.make_sprite`).

    Every detail a person recognises (eye colour, nose, markings) comes from the photo, so this keeps
    MAU; what it lacks is what only a model can add (a redrawn style, a plain backdrop to cut along).
    """
    from . import styles as S

    return S.make_sprite(photo_square(photo, size), preset, **overrides)


def erode(cut, pixels: int = 1):
    """Shrink a cut-out's opaque part by `pixels` on every side (alpha only).

    A flood fill keeps the soft edge where the model blended fur into the wall; those blended pixels
    would win palette colours of their own and leave a ring of wall colour inside the sprite's outline.
    Eroding first leaves only the cat's own colours for the palette.
    """
    from PIL import ImageFilter

    if not 0 <= int(pixels) <= 8:
        raise CourseInputError(f"pixels={pixels!r}: erode by 0 to 8 pixels (1 is usual).")
    rgba = cut.convert("RGBA")
    alpha = rgba.getchannel("A").point(lambda a: 255 if a >= 128 else 0)
    for _ in range(int(pixels)):
        alpha = alpha.filter(ImageFilter.MinFilter(3))
    rgba.putalpha(alpha)
    return rgba
