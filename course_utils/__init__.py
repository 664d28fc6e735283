"""Helpers shared by every notebook of the course: ``import course_utils as cu``.

The notebooks hold the teaching; this package holds what two notebooks would otherwise repeat.
Each public helper's docstring names the chapter that teaches it.
"""

import importlib

from .callouts import callout, check, gpu_skip, leonardo_says
from .device import describe as describe_device
from .device import get_device, get_dtype
from .errors import CourseInputError, CourseSetupError
from .generate import GenerationResult, check_inputs, image_to_image, text_to_image
from .images import fit_square, image_grid, load_image, mau, to_numpy, to_pil, to_tensor
from .models import REGISTRY, choose_model, hub_reachable, load_pipeline, model_info, picture_size, real_model_ready
from .paths import ASSETS, REPO_ROOT, output_dir
from .settings import settings_table
from .setup_check import check_setup, setup_table

# The chapter modules load on first use (``cu.styles``, ``from course_utils import img2img``), so that
# ``import course_utils`` stays quick: a fresh Python reaches its first picture sooner.
_CHAPTER_MODULES = ("capstone", "compute", "compute_widget", "conditioning", "diffusion", "distributed", "history",
                    "img2img", "parameters", "pipeline", "plots", "schedules", "studios", "styles", "widgets")


def __getattr__(name: str):
    if name in _CHAPTER_MODULES:
        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module 'course_utils' has no attribute {name!r}")


def tshirt_studio(photo=None, pipe=None, **kwargs):
    """Open chapter 9's t-shirt studio in one line (see `course_utils.studios.tshirt_studio`)."""
    from .studios import tshirt_studio as _open

    return _open(photo=photo, pipe=pipe, **kwargs)


def manga_studio(photo=None, pipe=None, **kwargs):
    """Open chapter 8's manga studio in one line (see `course_utils.studios.manga_studio`)."""
    from .studios import manga_studio as _open

    return _open(photo=photo, pipe=pipe, **kwargs)


def __dir__() -> list[str]:
    return sorted({*globals(), *_CHAPTER_MODULES})


__all__ = [
    "compute", "diffusion", "plots", "schedules", "styles", "widgets", "ASSETS", "REPO_ROOT", "output_dir",
    "conditioning", "callout", "check", "check_inputs", "check_setup", "choose_model", "CourseInputError",
    "CourseSetupError",
    "describe_device", "fit_square", "GenerationResult", "get_device", "get_dtype", "gpu_skip",
    "hub_reachable", "image_grid", "image_to_image", "leonardo_says", "load_image", "load_pipeline", "mau",
    "model_info", "picture_size", "real_model_ready",
    "REGISTRY", "settings_table", "setup_table", "text_to_image", "to_numpy", "to_pil", "to_tensor", "history",
    "pipeline", "compute_widget", "img2img", "parameters", "capstone", "studios", "tshirt_studio", "manga_studio",
    "distributed",
]
