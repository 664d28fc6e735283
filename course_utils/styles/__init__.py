"""Manga screentone, 16-bit console palettes and the files a print shop wants.

Chapter 8 ("MAU in manga style") turns MAU's photo into black ink and screentone: extended
difference-of-Gaussians lines (`xdog_lines`), a few grey steps (`posterize`), halftone dots
(`screentone`), all three at once (`manga_filter`), the model's picture combined with the photo's
lines (`combine_manga`), a measuring tape for the result (`manga_stats`) and a printable page
with speech bubbles (`manga_page`, `speech_bubble`, `save_png_300dpi`).

Chapter 9 ("MAU as a Sega-16-bit-inspired t-shirt design") follows the rules of the Mega Drive /
Genesis: a 9-bit colour space (`MD_LEVELS`, `snap_to_9bit`, `is_9bit`), sprite palettes of 15
colours plus transparency (`quantize_md`, `pixelate`, `add_outline`), a cut-out cat
(`remove_background`), a print file of 4500×5400 pixels at 300 dpi (`upscale_for_print`,
`save_print_png`, `check_print_file`, `assert_print_ready`) and a t-shirt to see it on
(`tshirt_mockup`). `PRESETS` and `make_sprite` give the practical path one call per look.

"Sega-inspired" means the style of 16-bit console art: no logo or character of the company.

Conventions: every function takes a PIL image (or anything `load_image` accepts: a path, a PIL
image of any mode, a NumPy array) and returns a PIL image. Manga results are mode ``L`` holding
only 0 (ink) and 255 (paper); sprites are ``RGBA`` with alpha 0 or 255.

The modules, one idea each:

- `manga`: the classical filters of chapter 8 and `manga_stats`;
- `page`: speech bubbles, the manga page and its 300 dpi PNG;
- `palette`: the 9-bit colour space and one sprite palette (`quantize_md`);
- `cutout`: the background removed, and ways to look at a cut-out;
- `sprite`: the pixel grid, the outline, the presets and `make_sprite`;
- `printfile`: the print file, its checks, the outline's contrast rule and the t-shirt mockup;
- `common`: reading pictures in, shared by all of them.
"""

from .cutout import border_plainness, crop_to_subject, on_checkerboard, remove_background
from .manga import MAX_FILTER_PIXELS, combine_manga, manga_filter, manga_stats, posterize, screentone, xdog_lines
from .page import manga_page, save_png_300dpi, speech_bubble
from .palette import MD_LEVELS, MD_SCREEN, is_9bit, quantize_md, snap_to_9bit
from .printfile import (
    MIN_OUTLINE_CONTRAST,
    assert_print_ready,
    check_print_file,
    outline_contrast,
    save_print_png,
    tshirt_mockup,
    tshirt_problems,
    upscale_for_print,
)
from .sprite import PRESETS, add_outline, make_sprite, pixelate

__all__ = [
    "MAX_FILTER_PIXELS",
    "MD_LEVELS",
    "MD_SCREEN",
    "MIN_OUTLINE_CONTRAST",
    "PRESETS",
    "add_outline",
    "assert_print_ready",
    "border_plainness",
    "check_print_file",
    "combine_manga",
    "crop_to_subject",
    "is_9bit",
    "make_sprite",
    "manga_filter",
    "manga_page",
    "manga_stats",
    "on_checkerboard",
    "outline_contrast",
    "pixelate",
    "posterize",
    "quantize_md",
    "remove_background",
    "save_png_300dpi",
    "save_print_png",
    "screentone",
    "snap_to_9bit",
    "speech_bubble",
    "tshirt_mockup",
    "tshirt_problems",
    "upscale_for_print",
    "xdog_lines",
]
