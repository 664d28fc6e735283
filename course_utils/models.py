"""Which text-to-image model the course runs, and loading it once.

Taught in: chapter 0 (welcome) and chapter 4 (the pipeline's parts).

Two modes share one code path:

* **embedded** — the course's own small model (``assets/models/minisd-cats``), built like Stable
  Diffusion and trained on drawn cats. It runs on any CPU in a fraction of a second and needs no
  network. It is the choice on a machine without a CUDA GPU.
* **real** — a Stable Diffusion model from the Hugging Face hub, on a CUDA GPU, when its weights
  are in the local cache or the hub can be reached.

Both are loaded by the same diffusers classes. ``COURSE_MODEL`` overrides the choice: ``embedded``,
a key of `REGISTRY` (``sd15``, ``sd-turbo``), a hub id or a local folder.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path

import torch

# Keep the lessons readable: library chatter (load progress bars, the note that torchvision is not
# installed) is turned down unless the learner set these variables already.
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")

from .device import get_device, get_dtype  # noqa: E402
from .errors import CourseInputError, CourseSetupError  # noqa: E402

ASSETS = Path(__file__).resolve().parents[1] / "assets"
EMBEDDED_DIR = ASSETS / "models" / "minisd-cats"
TASKS = ("text-to-image", "image-to-image")


@dataclass(frozen=True)
class ModelInfo:
    """One entry of the model registry."""

    key: str
    source: str  # a hub id or a local folder
    title: str
    licence: str
    resolution: int  # the picture size it was trained for (pixels per side)
    steps: int  # a good default number of denoising steps
    guidance: float  # a good default guidance scale
    notes: str = ""

    @property
    def is_local(self) -> bool:
        return Path(self.source).is_dir()


REGISTRY: dict[str, ModelInfo] = {
    "embedded": ModelInfo(
        "embedded", str(EMBEDDED_DIR), "minisd-cats (the course's embedded model)", "MIT (the course's own)",
        64, 20, 7.5, "Trained by the course on drawn cats in 4 styles; runs on a CPU."),
    "sd15": ModelInfo(
        "sd15", "stable-diffusion-v1-5/stable-diffusion-v1-5", "Stable Diffusion 1.5",
        "CreativeML OpenRAIL-M (outputs may be used commercially, within its use restrictions)",
        512, 30, 7.5, "The classic 860 M-parameter U-Net; about 2 GB of weights in float16 (4 GB in float32)."),
    "sd-turbo": ModelInfo(
        "sd-turbo", "stabilityai/sd-turbo", "SD-Turbo (distilled SD 2.1)",
        "Stability AI Non-Commercial Research Community License (no commercial use of outputs)",
        512, 2, 0.0, "1 to 4 steps with guidance_scale=0; image-to-image needs steps x strength >= 1."),
}
DEFAULT_REAL = "sd15"

_PIPELINES: dict[tuple, object] = {}  # loaded pipelines, by (source, device, dtype)


# --- offline detection ----------------------------------------------------------------------------
def hub_offline_flag() -> bool:
    """True when the learner switched the hub off (``HF_HUB_OFFLINE=1``)."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def hub_reachable(timeout: float = 0.5) -> bool:
    """Can the Hugging Face hub be reached? Answers within `timeout` seconds, never hangs.

    A plain TCP connection to the hub's port 443: no request is sent and nothing is downloaded.
    """
    if hub_offline_flag():
        return False
    host = os.environ.get("HF_ENDPOINT", "https://huggingface.co").split("://")[-1].split("/")[0]
    try:
        infos = socket.getaddrinfo(host, 443, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return False
    for family, kind, proto, _, addr in infos[:2]:
        try:
            with socket.socket(family, kind, proto) as s:
                s.settimeout(timeout)
                s.connect(addr)
                return True
        except OSError:
            continue
    return False


def is_cached(source: str) -> bool:
    """Are a hub model's files in the local cache? Looks only at the disk."""
    if Path(source).is_dir():
        return (Path(source) / "model_index.json").exists()
    try:
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(source, "model_index.json")
        return isinstance(found, str)
    except Exception:  # an unusual cache layout is a cache miss, not a crash
        return False


# --- choosing ----------------------------------------------------------------------------------------
def _local_resolution(folder: Path, default: int = 512) -> int:
    """The picture size a local diffusers folder was made for: U-Net sample size x the VAE's factor."""
    try:
        unet = json.loads((folder / "unet" / "config.json").read_text())
        vae = json.loads((folder / "vae" / "config.json").read_text())
        return int(unet["sample_size"]) * 2 ** (len(vae["block_out_channels"]) - 1)
    except (OSError, ValueError, KeyError, TypeError):
        return default


def _lookup(name: str) -> ModelInfo:
    if name in REGISTRY:
        return REGISTRY[name]
    if Path(name).expanduser().is_dir():
        p = Path(name).expanduser().resolve()
        return ModelInfo(p.name, str(p), f"local model {p.name}", "see the model's own card", _local_resolution(p),
                         30, 7.5)
    if "/" in name and not name.startswith((".", "/")):
        return ModelInfo(name, name, name, "see the model card on the hub", 512, 30, 7.5)
    raise CourseInputError(
        f"model={name!r} is neither a known model ({', '.join(REGISTRY)}), a local folder with a "
        "model_index.json, nor a hub id like 'owner/name'. Use 'auto' to let the course choose.")


def choose_model(model: str = "auto", device: str | torch.device | None = None) -> tuple[ModelInfo, str]:
    """Pick the model to run, and say why, in one sentence. Never touches the network for long.

    Returns ``(info, reason)``.
    """
    dev = get_device(device)
    if model in (None, "", "auto") and os.environ.get("COURSE_MODEL"):
        return _lookup(os.environ["COURSE_MODEL"]), "COURSE_MODEL chooses it"
    if model not in (None, "", "auto"):
        return _lookup(model), "you asked for it"
    if dev.type != "cuda":
        return REGISTRY["embedded"], (
            f"this machine computes on the {dev.type.upper() if dev.type != 'cpu' else 'CPU'} without a CUDA "
            "GPU, where real Stable Diffusion would need minutes per picture")
    real = REGISTRY[DEFAULT_REAL]
    if is_cached(real.source):
        return real, "a CUDA GPU is present and its weights are in the local cache"
    if hub_reachable():
        return real, "a CUDA GPU is present and the hub can be reached (the first load downloads ~4 GB)"
    why = "HF_HUB_OFFLINE is set" if hub_offline_flag() else "the hub cannot be reached"
    return REGISTRY["embedded"], f"a CUDA GPU is present but {why} and {real.title} is not cached"


# --- loading ---------------------------------------------------------------------------------------
def _load_base(info: ModelInfo, dev: torch.device, dtype: torch.dtype):
    local = info.is_local
    if local and not (Path(info.source) / "model_index.json").exists():
        raise CourseSetupError(f"{info.source} holds no model_index.json: it is not a diffusers model folder.")
    if info.key == "embedded" and not local:
        raise CourseSetupError(
            f"The embedded model is missing: {EMBEDDED_DIR} does not exist. It ships with the course; "
            "restore it with `git checkout -- assets/models` or train it again with `make train-model`.")
    if not local and not is_cached(info.source):
        if hub_offline_flag() or not hub_reachable():
            raise CourseSetupError(
                f"{info.title} ({info.source}) is not in the local cache and the hub cannot be reached"
                f"{' (HF_HUB_OFFLINE is set)' if hub_offline_flag() else ''}. Connect to the internet once "
                f"and run `hf download {info.source}`, or use the embedded model: load_pipeline('embedded').")
    from diffusers import StableDiffusionPipeline  # imported only now: the checks above stay instant

    kwargs = dict(dtype=dtype, use_safetensors=True, safety_checker=None, feature_extractor=None,
                  requires_safety_checker=False)
    if local or hub_offline_flag() or is_cached(info.source):
        kwargs["local_files_only"] = True
    from diffusers.utils import logging as dlog
    from transformers.utils import logging as tlog

    if local:  # a small local model loads in a blink: no progress bars
        dlog.disable_progress_bar()
        tlog.disable_progress_bar()
    try:
        pipe = StableDiffusionPipeline.from_pretrained(info.source, **kwargs)
    except OSError as e:
        raise CourseSetupError(f"Could not load {info.title} from {info.source}: {e}. Use load_pipeline("
                               "'embedded') to continue with the course's own model.") from e
    finally:
        dlog.enable_progress_bar()
        tlog.enable_progress_bar()
    return pipe.to(dev)


def load_pipeline(model: str = "auto", task: str = "text-to-image", device: str | torch.device | None = None,
                  dtype: str | torch.dtype | None = None, verbose: bool = True):
    """Load (once) and return a diffusers pipeline for `task`.

    Parameters
    ----------
    model : ``"auto"`` (the course chooses), ``"embedded"``, a `REGISTRY` key, a hub id or a folder.
    task : ``"text-to-image"`` (`StableDiffusionPipeline`) or ``"image-to-image"``
        (`StableDiffusionImg2ImgPipeline`). Both tasks share the same modules in memory.
    device, dtype : see `course_utils.device`.
    verbose : print one sentence saying which model was chosen and why.

    The returned pipeline carries ``pipe.course_model`` (a `ModelInfo`) for the notebooks to show.
    """
    if task not in TASKS:
        raise CourseInputError(f"task={task!r} is not one of {TASKS}.")
    dev = get_device(device)
    dt = get_dtype(dev, dtype)
    info, reason = choose_model(model, dev)
    key = (info.source, str(dev), dt)
    if key not in _PIPELINES:
        pipe = _load_base(info, dev, dt)
        pipe.set_progress_bar_config(disable=info.is_local, leave=False)  # bars only for slow real models
        pipe.course_model = info
        _PIPELINES[key] = pipe
    base = _PIPELINES[key]
    pipe = as_image_to_image(base) if task == "image-to-image" else base
    if verbose:
        where = f"{dev.type.upper() if dev.type != 'cpu' else 'the CPU'} in {str(dt).removeprefix('torch.')}"
        print(f"Using {info.title} for {task} on {where}, because {reason}.")
    return pipe


def as_image_to_image(pipe):
    """An image-to-image pipeline that shares `pipe`'s modules (nothing is loaded or copied).

    Returns `pipe` itself when it already is one. Taught in: chapter 5 (image-to-image).
    """
    from diffusers import StableDiffusionImg2ImgPipeline

    if isinstance(pipe, StableDiffusionImg2ImgPipeline):
        return pipe
    i2i = StableDiffusionImg2ImgPipeline(**pipe.components, requires_safety_checker=False)
    i2i.set_progress_bar_config(**getattr(pipe, "_progress_bar_config", {}))
    i2i.course_model = getattr(pipe, "course_model", None)
    return i2i


def clear_cache() -> None:
    """Forget the loaded pipelines (frees their memory once nothing else refers to them)."""
    _PIPELINES.clear()
