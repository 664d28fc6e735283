"""Helpers shared by every notebook of the course: ``import course_utils as cu``.

The notebooks hold the teaching; this package holds what two notebooks would otherwise repeat.
Each public helper's docstring names the chapter that teaches it.
"""

from . import (
    compute,
    compute_widget,
    conditioning,
    diffusion,
    history,
               img2img,
    parameters,
    pipeline,
    plots,
    schedules,
    styles,
    widgets,
)
from .callouts import callout, gpu_skip, leonardo_says
from .device import describe as describe_device
from .device import get_device, get_dtype
from .errors import CourseInputError, CourseSetupError
from .generate import GenerationResult, check_inputs, image_to_image, text_to_image
from .images import fit_square, image_grid, load_image, mau, to_numpy, to_pil, to_tensor
from .models import REGISTRY, choose_model, hub_reachable, load_pipeline
from .paths import ASSETS, REPO_ROOT, output_dir
from .setup_check import check_setup, setup_table

__all__ = [
    "compute", "diffusion", "plots", "schedules", "styles", "widgets", "ASSETS", "REPO_ROOT", "output_dir",
    "conditioning", "callout", "check_inputs", "check_setup", "choose_model", "CourseInputError", "CourseSetupError",
    "describe_device", "fit_square", "GenerationResult", "get_device", "get_dtype", "gpu_skip",
    "hub_reachable", "image_grid", "image_to_image", "leonardo_says", "load_image", "load_pipeline", "mau",
    "REGISTRY", "setup_table", "text_to_image", "to_numpy", "to_pil", "to_tensor", "history", "pipeline",
    "compute_widget", "img2img", "parameters",
]
