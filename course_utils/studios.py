"""One-line studios for the practical path's finale: ``cu.manga_studio()`` and ``cu.tshirt_studio()``.

A studio is a set of controls (an upload button, sliders, menus) around one picture that redraws when a
control changes, plus a button that saves a print file (a manga page, a t-shirt print) and never
replaces an earlier one. The practical notebooks show each with one line; the technical notebooks build
the same steps by hand. Taught in: chapters 8 and 9 (practical path).
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import ipywidgets as W
from PIL import Image

from . import styles as S
from .capstone import photo_square, recipe
from .errors import CourseInputError
from .images import load_image, mau
from .models import model_defaults, model_info
from .widgets import ImageExplorer, save_button, slider

SOURCES = {"the photo (filters only)": "photo", "the AI's redraw": "redraw"}


def _hex(rgb) -> str:
    return "#" + "".join(f"{c:02x}" for c in rgb)


def _rgb(value: str) -> tuple[int, int, int]:
    value = value.lstrip("#")
    return tuple(int(value[i:i + 2], 16) for i in (0, 2, 4))


def _auto_cutout(picture: Image.Image, plain: float = 0.8, min_kept: float = 0.1) -> str:
    """The paint bucket where the border is plain and the paint leaves at least `min_kept` of the picture
    (where wall and cat share a colour it runs on into the cat), else the round badge."""
    if S.border_plainness(picture) < plain:
        return "ellipse"
    import numpy as np

    kept = (np.asarray(S.remove_background(picture, method="flood", tolerance=20).getchannel("A")) >= 128).mean()
    return "flood" if kept >= min_kept else "ellipse"


class _Studio:
    """What both studios share: their controls' values, the picture shown, its message, and display."""

    controls: dict
    explorer: ImageExplorer
    box: W.VBox

    def values(self) -> dict:
        return {k: c.value for k, c in self.controls.items()}

    def set(self, **values) -> bool:
        """Move the studio's controls from code, as if dragged (see `widgets.ImageExplorer.set`)."""
        return self.explorer.set(**values)

    @property
    def last_image(self) -> Image.Image | None:
        return self.explorer.last_image

    @property
    def message(self):
        return self.explorer.message

    def _ipython_display_(self):
        from IPython.display import display

        display(self.box)


class TshirtStudio(_Studio):
    """MAU (or an uploaded cat) as a 16-bit t-shirt design, with presets and sliders.

    Two sources for the design: **the photo** (its centre square cut as a round badge; every detail is
    the cat's own) or **the AI's redraw** (image-to-image with the capstone's measured recipe, cut along
    its plain backdrop). Either way the console's rules follow: at most 15 colours from the 9-bit space,
    a coarse grid, an outline (`styles.make_sprite`).

    Attributes: ``controls`` (name -> widget), ``explorer`` (the `widgets.ImageExplorer` showing the
    shirt), ``export`` (the Export button), ``recipe`` (the capstone's pixel-art recipe for this model).
    """

    def __init__(self, photo=None, pipe=None, out_dir: str | Path | None = None, size: int = 520):
        from .models import load_pipeline
        from .paths import output_dir

        self.pipe = pipe if pipe is not None else load_pipeline("auto", task="image-to-image", verbose=False)
        self.recipe = recipe("pixel", self.pipe)
        self.photo = load_image(photo, size=768) if photo is not None else mau()
        self.size = size
        self._uploads: dict[str, Image.Image] = {}
        self._redraws: dict[tuple, Image.Image] = {}
        self._designs: dict[str, tuple[Image.Image, str]] = {}
        big = model_info(self.pipe).resolution >= 512
        self.controls = {
            "upload": W.FileUpload(accept="image/*", multiple=False, description="Upload a cat"),
            "preset": W.Dropdown(options=list(S.PRESETS), value="arcade", description="Preset"),
            "source": W.Dropdown(options=list(SOURCES.items()), value="photo", description="Design from"),
            "strength": slider("AI strength", float(self.recipe.strength), 0.1, 1.0, 0.05),
            "seed": slider("Seed", 0, 0, 20),
            "grid": slider("Grid (sprite pixels)", 56, 12, 128 if big else 96, 4),
            "crayons": slider("Crayons (outline included)", 15, 2, 15),
            "dither": W.Checkbox(value=False, description="Dithering"),
            "outline": W.Checkbox(value=True, description="Outline"),
            "cutout": W.Dropdown(options=[("automatic", "auto"), ("paint bucket", "flood"), ("round badge", "ellipse")],
                                 value="auto", description="Cut-out"),
            "shirt": W.ColorPicker(value=_hex(S.PRESETS["arcade"]["shirt_colour"]), description="Shirt"),
        }
        self.controls["preset"].observe(self._apply_preset, names="value")
        self._apply_preset({"new": "arcade"}, refresh=False)
        self.explorer = ImageExplorer(self._render, self.controls, scale=1, caption=self.describe,
                                      title="MAU's t-shirt studio")
        folder = Path(out_dir) if out_dir is not None else output_dir("09_mau_tshirt")
        self.export = save_button(self.print_file, folder / "my_tshirt_print.png", description="Export print file",
                                  saver=lambda img, path: S.save_print_png(img, path, dpi=300))
        self.box = W.VBox([self.explorer.box, self.export])

    # --- the steps ----------------------------------------------------------------------------------
    def photo_from(self, upload=()) -> Image.Image:
        """The uploaded photo, if any, else the studio's photo; an upload is checked by `load_image`."""
        if not upload:
            return self.photo
        item = upload[0]
        data = bytes(item["content"])
        key = hashlib.sha1(data).hexdigest()
        if key not in self._uploads:
            with tempfile.TemporaryDirectory() as folder:  # checked from a scratch copy, never kept
                scratch = Path(folder) / (Path(item["name"]).name or "upload.jpg")  # the message names it
                scratch.write_bytes(data)
                self._uploads[key] = load_image(scratch, size=768)
        return self._uploads[key]

    def redraw(self, picture: Image.Image, strength: float, seed: int) -> Image.Image:
        """The AI's pixel-art redraw of `picture` with the recipe's prompt and size (remembered)."""
        from .generate import image_to_image

        key = (hashlib.sha1(picture.tobytes()).hexdigest(), round(float(strength), 3), int(seed))
        if key not in self._redraws:
            self._redraws[key] = image_to_image(picture, self.recipe.prompt, strength=strength, seed=seed,
                                                size=self.recipe.size, pipe=self.pipe).image
        return self._redraws[key]

    def design(self, upload=(), preset="arcade", source="photo", strength=None, seed=0, grid=56, crayons=15,
               dither=False, outline=True, cutout="auto", **_ignored) -> tuple[Image.Image, str]:
        """The sprite for these settings and the cut-out used: ``(RGBA sprite, method)``."""
        from .capstone import erode

        if source not in SOURCES.values():
            raise CourseInputError(f"source={source!r}: choose 'photo' or 'redraw'.")
        strength = self.recipe.strength if strength is None else strength
        key = repr((upload and hashlib.sha1(bytes(upload[0]["content"])).hexdigest(), preset, source,
                    strength, seed, grid, crayons, dither, outline, cutout))
        if key not in self._designs:
            photo = self.photo_from(upload)
            if source == "photo":
                picture = photo_square(photo, 256)
                method = "ellipse" if cutout == "auto" else cutout
            else:
                picture = self.redraw(photo, strength, seed)
                method = cutout if cutout != "auto" else _auto_cutout(picture)
            cat = S.remove_background(picture, method=method, tolerance=20)  # the model's soft edges go with the wall
            cat = S.crop_to_subject(erode(cat, 1) if method == "flood" else cat)
            look = S.PRESETS[preset]
            sprite = S.make_sprite(cat, preset, remove_bg=False, grid=min(grid, max(cat.size)),
                                   n_colors=crayons - 1 if outline else crayons,  # the outline takes a crayon
                                   dither=dither, outline=look["outline"] if outline else None)
            self._designs[key] = (sprite, method)
        return self._designs[key]

    def print_file(self) -> Image.Image:
        """The current design at 4500 x 5400 pixels, transparent, for `styles.save_print_png`."""
        sprite, _ = self.design(**self.values())
        return S.upscale_for_print(sprite)

    # --- the widgets --------------------------------------------------------------------------------
    def _render(self, shirt, **settings) -> Image.Image:
        sprite, _ = self.design(**settings)
        return S.tshirt_mockup(sprite, shirt_colour=_rgb(shirt), size=self.size)

    def describe(self, shirt, **settings) -> str:
        sprite, method = self.design(**settings)
        used = len({c for _, c in sprite.getcolors(4096) if c[3] == 255})
        line = S.PRESETS[settings["preset"]]["outline"]
        contrast = f", outline contrast ΔE {S.outline_contrast(line, _rgb(shirt)):.0f}" if settings["outline"] else ""
        return (f"{sprite.width} x {sprite.height} sprite pixels, {used} colours, cut-out: {method}{contrast}")

    def _apply_preset(self, change, refresh: bool = True) -> None:
        look = S.PRESETS[change["new"]]
        c = self.controls
        with c["grid"].hold_trait_notifications(), c["crayons"].hold_trait_notifications(), \
                c["dither"].hold_trait_notifications(), c["outline"].hold_trait_notifications(), \
                c["shirt"].hold_trait_notifications():
            c["grid"].value = min(look["grid"], c["grid"].max)
            c["crayons"].value = look["n_colors"] + (1 if look["outline"] is not None else 0)
            c["dither"].value = look["dither"]
            c["outline"].value = look["outline"] is not None
            c["shirt"].value = _hex(look["shirt_colour"])



def tshirt_studio(photo=None, pipe=None, **kwargs) -> TshirtStudio:
    """Open the t-shirt studio (chapter 9, practical path): ``cu.tshirt_studio()`` in a cell shows it.

    ``photo``: a path or picture (default: MAU, or ``COURSE_CAT_PHOTO``); ``pipe``: a loaded pipeline
    (default: the course's choice, for image-to-image). The studio's ``export`` button writes a print file
    into ``outputs/09_mau_tshirt/`` under a new name each time.
    """
    return TshirtStudio(photo=photo, pipe=pipe, **kwargs)


class MangaStudio(_Studio):
    """MAU (or an uploaded cat) as manga: the model's drawing beside the combined manga, with sliders,
    and a button that saves an A4 page at 300 dpi (chapter 8, practical path).

    The model redraws the photo with the capstone's measured manga recipe; `styles.combine_manga` takes the
    tones from its drawing and the lines from the photo. Every caption gives the drawing's likeness to the
    photo (grey-level SSIM, `capstone.identity`), so no picture claims more of MAU than it shows.

    Attributes: ``controls``, ``explorer``, ``save`` (the page button), ``photos`` (name -> photo),
    ``recipe``.
    """

    FRAME = (1043, 1532)  # one panel frame of `styles.manga_page`'s 2 x 2 layout with a title, in pixels

    def __init__(self, photo=None, pipe=None, out_dir: str | Path | None = None, period: float = 5.0):
        from .models import load_pipeline
        from .paths import output_dir

        self.pipe = pipe if pipe is not None else load_pipeline("auto", task="image-to-image", verbose=False)
        self.recipe = recipe("manga", self.pipe)
        self.period = period
        self.photos = {"MAU": load_image(photo, size=768) if photo is not None else mau()}
        self._made: dict[tuple, tuple[Image.Image, Image.Image]] = {}
        self.upload = W.FileUpload(accept="image/*", multiple=False, description="Upload a cat")
        self.upload_status = W.HTML("No upload yet: the pictures use MAU.")
        self.upload.observe(self._on_upload, names="value")
        self.controls = {
            "photo_name": W.Dropdown(options=list(self.photos), value="MAU", description="photo"),
            "strength": slider("strength (frost)", float(self.recipe.strength), 0.1, 1.0, 0.05),
            "guidance": slider("guidance (how firmly)", model_defaults(self.pipe)[1], 0.0, 15.0, 0.5),
            "seed": slider("seed (which take)", 0, 0, 99),
        }
        self.explorer = ImageExplorer(self._side_by_side, self.controls, scale=1, title="MAU in manga style",
                                      caption=self.describe)
        folder = Path(out_dir) if out_dir is not None else output_dir("08_mau_manga")
        self.save = save_button(self.page, folder / "mau_manga_page.png", description="Save the manga page",
                                saver=S.save_png_300dpi)
        self.box = W.VBox([W.VBox([self.upload, self.upload_status]), self.explorer.box, self.save])

    def _on_upload(self, change) -> None:
        import html

        for item in change["new"]:
            try:
                with tempfile.TemporaryDirectory() as folder:  # checked from a scratch copy, never kept
                    scratch = Path(folder) / (Path(item["name"]).name or "upload.jpg")  # the message names it
                    scratch.write_bytes(bytes(item["content"]))
                    picture = load_image(scratch, size=768)
            except CourseInputError as err:
                self.upload_status.value = f"<span style='color:#c0392b'>⚠️ {html.escape(str(err))}</span>"
                continue
            name, n = item["name"], 1
            while name in self.photos:  # a new name for each upload, so that no old picture is reused
                n += 1
                name = f"{item['name']} ({n})"
            self.photos[name] = picture
            self.controls["photo_name"].options = list(self.photos)
            self.controls["photo_name"].value = name
            self.upload_status.value = f"Loaded {html.escape(name)}: the studio now uses it."

    def make(self, photo_name="MAU", strength=None, guidance=None, seed=0) -> tuple[Image.Image, Image.Image]:
        """The model's drawing and the combined manga for one setting (made once, then remembered); strength
        and guidance default to the recipe's and the model's own."""
        from .generate import image_to_image

        strength = self.recipe.strength if strength is None else strength
        guidance = model_defaults(self.pipe)[1] if guidance is None else guidance
        key = (photo_name, round(float(strength), 3), round(float(guidance), 3), int(seed))
        if key not in self._made:
            photo = self.photos[photo_name]
            drawn = image_to_image(photo, self.recipe.prompt, strength=strength, guidance=guidance, seed=seed,
                                   size=self.recipe.size, pipe=self.pipe).image
            self._made[key] = (drawn, S.combine_manga(drawn, photo_square(photo, 384), period=self.period))
        return self._made[key]

    def likeness(self, photo_name="MAU", strength=None, guidance=None, seed=0) -> float:
        from .capstone import identity

        return identity(self.photos[photo_name], self.make(photo_name, strength, guidance, seed)[0])

    def _side_by_side(self, **values) -> Image.Image:
        from .images import image_grid

        drawn, manga = self.make(**values)
        big = drawn.resize((384, 384), Image.Resampling.NEAREST if drawn.width <= 384 else Image.Resampling.LANCZOS)
        return image_grid([big, manga], cols=2, labels=["the model's picture", "combined manga"])

    def describe(self, photo_name, strength, guidance, seed) -> str:
        steps, _ = model_defaults(self.pipe)
        return (f"{photo_name}: {int(steps * strength)} of {steps} steps redrawn, guidance {guidance}, seed {seed}, "
                f"likeness to the photo {self.likeness(photo_name, strength, guidance, seed):.2f}")

    def page(self) -> Image.Image:
        """An A4 page at 300 dpi, in grey only, from the current settings: the photo inked by the filter, the
        model's drawing (in grey), the combined manga, and a close-up of the face where the cat speaks."""
        from PIL import ImageOps

        v = self.values()
        photo = self.photos[v["photo_name"]]
        drawn, _ = self.make(**v)
        square = photo_square(photo, self.FRAME[1])
        side = 1024
        sheet = Image.new("RGB", self.FRAME, "white")
        grey = ImageOps.grayscale(drawn).convert("RGB")
        sheet.paste(grey.resize((side, side), Image.Resampling.NEAREST if grey.width <= side else
                                Image.Resampling.LANCZOS), ((self.FRAME[0] - side) // 2, (self.FRAME[1] - side) // 2))
        w = square.width
        a, b = round(w * 0.2), round(w * 0.8)
        close = square.crop((a, a, b, b)).resize((self.FRAME[1], self.FRAME[1]), Image.Resampling.LANCZOS)
        panels = [S.manga_filter(ImageOps.fit(photo, self.FRAME, Image.Resampling.LANCZOS), period=6), sheet,
                  S.combine_manga(drawn, square, period=6), S.manga_filter(close, period=6)]
        return S.manga_page(
            panels,
            captions=["The photo, inked by the filter.",
                      f"The model's manga (strength {v['strength']:.2f}, likeness {self.likeness(**v):.2f}).",
                      f"Model tones + filter lines (the tones' likeness {self.likeness(**v):.2f}).", None],
            bubbles=[{"panel": 3, "text": "Mau!", "box": (0.5, 0.05, 0.94, 0.22), "tail": (0.5, 0.36)}],
            title="MAU in manga style")



def manga_studio(photo=None, pipe=None, **kwargs) -> MangaStudio:
    """Open the manga studio (chapter 8, practical path): ``cu.manga_studio()`` in a cell shows it.

    ``photo``: a path or picture (default: MAU, or ``COURSE_CAT_PHOTO``); ``pipe``: a loaded pipeline
    (default: the course's choice, for image-to-image). Its ``save`` button writes an A4 page at 300 dpi
    into ``outputs/08_mau_manga/`` under a new name each time.
    """
    return MangaStudio(photo=photo, pipe=pipe, **kwargs)
