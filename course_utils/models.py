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
import weakref
from dataclasses import dataclass
from pathlib import Path

import torch

from .device import get_device, get_dtype
from .errors import CourseInputError, CourseSetupError
from .hub import (
    cached_snapshot,
    check_model_folder,
    download_size,
    hub_answers,
    hub_offline_flag,
    hub_reachable,
    is_cached,
    weights_variant,
)
from .paths import MODELS
from .settings import LOADING, check_settings, setting

EMBEDDED_DIR = MODELS / "minisd-cats"
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
    fp16_variant: bool = False  # the hub repository also holds float16 weights (*.fp16.safetensors)
    unet_folder: str = ""  # load the U-Net from this subfolder instead of unet/ (a distilled one)
    scheduler_folder: str = ""  # ... and the scheduler from this one

    @property
    def is_local(self) -> bool:
        return Path(self.source).is_dir()


REGISTRY: dict[str, ModelInfo] = {
    "embedded": ModelInfo(
        "embedded", str(EMBEDDED_DIR), "minisd-cats (the course's embedded model)", "MIT (the course's own)",
        64, 20, 7.5, "Trained by the course on drawn cats in 4 styles; runs on a CPU."),
    "embedded-fast": ModelInfo(
        "embedded-fast", str(EMBEDDED_DIR), "minisd-cats, few-step (distilled, LCM)", "MIT (the course's own)",
        64, 4, 1.0, "The embedded model's U-Net distilled to 1-4 steps with guidance built in; runs on a CPU.",
        unet_folder="unet_lcm", scheduler_folder="scheduler_lcm"),
    "sd15": ModelInfo(
        "sd15", "stable-diffusion-v1-5/stable-diffusion-v1-5", "Stable Diffusion 1.5",
        "CreativeML OpenRAIL-M (outputs may be used commercially, within its use restrictions)",
        512, 30, 7.5, "The classic 860 M-parameter U-Net; about 2 GB of weights in float16 (4 GB in float32).",
        fp16_variant=True),
    "sd-turbo": ModelInfo(
        "sd-turbo", "stabilityai/sd-turbo", "SD-Turbo (distilled SD 2.1)",
        "Stability AI Non-Commercial Research Community License (no commercial use of outputs)",
        512, 2, 0.0, "1 to 4 steps with guidance_scale=0; image-to-image needs steps x strength >= 1.",
        fp16_variant=True),
}
DEFAULT_REAL = "sd15"
#: Stable Diffusion's x4 upscaler (chapter 4): a model of its own, loaded with `load_model` on a CUDA GPU.
UPSCALER = ModelInfo(
    "x4-upscaler", "stabilityai/stable-diffusion-x4-upscaler", "Stable Diffusion x4 upscaler",
    "CreativeML OpenRAIL++-M", 512, 25, 0.0, "About 3.5 GB; a U-Net that denoises a 4x larger latent.")
#: Steps and guidance for a pipeline the course did not load (Stable Diffusion's usual 20 and 7.5).
DEFAULT_STEPS, DEFAULT_GUIDANCE = 20, 7.5

_PIPELINES: dict[tuple, object] = {}  # loaded pipelines, by (source, device, dtype)
_INFO: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # a loaded pipeline -> its ModelInfo


def remember(pipe, info: ModelInfo):
    """Record that `pipe` runs the model `info` (what `model_info` answers); returns `pipe`."""
    _INFO[pipe] = info
    return pipe


def model_info(pipe) -> ModelInfo:
    """The registry's record of the model `pipe` runs: title, licence, resolution, good steps and guidance.

    For a pipeline the course did not load (built by hand, from another library), a record with its
    picture size (`picture_size`) and the usual defaults, `DEFAULT_STEPS` and `DEFAULT_GUIDANCE`.
    Taught in: chapter 0 (which model runs) and chapter 7 (its defaults).
    """
    try:
        return _INFO[pipe]
    except (KeyError, TypeError):
        size = picture_size(pipe) if hasattr(pipe, "unet") and hasattr(pipe, "vae_scale_factor") else 512
        return ModelInfo("unknown", "?", f"{type(pipe).__name__} (not loaded by the course)", "unknown", size,
                         DEFAULT_STEPS, DEFAULT_GUIDANCE)


# --- choosing ----------------------------------------------------------------------------------------
def _local_resolution(folder: Path, default: int = 512) -> int:
    """The picture size a local diffusers folder was made for: U-Net sample size x the VAE's factor."""
    try:
        unet = json.loads((folder / "unet" / "config.json").read_text())
        vae = json.loads((folder / "vae" / "config.json").read_text())
        return int(unet["sample_size"]) * 2 ** (len(vae["block_out_channels"]) - 1)
    except (OSError, ValueError, KeyError, TypeError):
        return default


def lookup_model(name: str) -> ModelInfo:
    """The record for `name`: a `REGISTRY` key, a local diffusers folder or a hub id ('owner/name'); a folder
    or hub id gets Stable Diffusion's usual 30 steps and guidance 7.5. Raises `CourseInputError` otherwise."""
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
    env = setting("COURSE_MODEL")
    if model in (None, "", "auto") and env not in (None, "auto"):
        check_settings(("COURSE_MODEL",))
        return lookup_model(env), "COURSE_MODEL chooses it"
    if model not in (None, "", "auto"):
        return lookup_model(model), "you asked for it"
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
def _restore_advice(info: ModelInfo) -> str:
    if info.key.startswith("embedded"):
        return ("It ships with the course: restore it with `git checkout -- assets/models` (or train it again "
                "with `make train-model`).")
    if info.is_local:
        return "Copy the folder again from where it came from, or use the embedded model: load_pipeline('embedded')."
    return (f"Delete its folder in the Hugging Face cache (`hf cache delete`, or remove models--"
            f"{info.source.replace('/', '--')} under ~/.cache/huggingface/hub) and load it again to download a "
            "fresh copy, or use the embedded model: load_pipeline('embedded').")


def _check_tokenizer(pipe, info: ModelInfo) -> None:
    """A tokenizer without its vocabulary loads without complaint and turns every prompt into a few
    unknown tokens; compare its size with the text encoder's table of token embeddings."""
    words, table = len(pipe.tokenizer), int(pipe.text_encoder.config.vocab_size)
    if not table // 2 <= words <= table:
        raise CourseSetupError(
            f"{info.title}: the tokenizer knows {words} tokens but the text encoder has {table}: the tokenizer's "
            f"files are missing or damaged. {_restore_advice(info)}")


def quiet_libraries() -> None:
    """Keep the lessons readable: diffusers' and transformers' chatter (notes while loading, the notice that
    torchvision is not installed) is turned down to errors, unless the learner chose a level with
    ``DIFFUSERS_VERBOSITY`` / ``TRANSFORMERS_VERBOSITY``. Called before the course loads a model."""
    from diffusers.utils import logging as dlog
    from transformers.utils import logging as tlog

    for variable, library in (("DIFFUSERS_VERBOSITY", dlog), ("TRANSFORMERS_VERBOSITY", tlog)):
        if not os.environ.get(variable):
            library.set_verbosity_error()


def _instead(info: ModelInfo) -> str:
    """What to use when `info`'s model cannot be had: the embedded model, unless it is the upscaler."""
    return "" if info is UPSCALER else ", or use the embedded model: load_pipeline('embedded')"


def _ensure_available(info: ModelInfo) -> bool:
    """Check that `info`'s weights are on disk or can be downloaded now; returns whether they are cached.
    Raises `CourseSetupError` that says what to do (a missing or damaged folder, no network, a refusal)."""
    local = info.is_local
    if info.key.startswith("embedded") and not local:
        raise CourseSetupError(
            f"The embedded model is missing: {EMBEDDED_DIR} does not exist. {_restore_advice(info)}")
    if local and not (Path(info.source) / "model_index.json").exists():
        raise CourseSetupError(f"{info.source} holds no model_index.json: it is not a diffusers model folder.")
    cached = is_cached(info.source)
    if local and not cached:
        damaged = "; ".join(check_model_folder(info.source))
        raise CourseSetupError(f"{info.title} in {info.source} is damaged: {damaged}. {_restore_advice(info)}")
    if not cached:
        if hub_offline_flag() or not hub_reachable():
            raise CourseSetupError(
                f"{info.title} ({info.source}) is not in the local cache and the hub cannot be reached"
                f"{' (HF_HUB_OFFLINE is set)' if hub_offline_flag() else ''}. Connect to the internet once "
                f"and run `hf download {info.source}`{_instead(info)}.")
        ok, why = hub_answers(info.source)
        if not ok:
            raise CourseSetupError(
                f"{info.title} ({info.source}) is not in the local cache, and {why}. Try again later"
                f"{_instead(info)}.")
    return cached


def load_uncached(info: ModelInfo, dev: torch.device, dtype: torch.dtype, cls=None):
    """`cls.from_pretrained` (StableDiffusionPipeline unless said) for `info`'s model, offline where its files
    are cached, float16 files where they exist and a GPU wants them; every failure a `CourseSetupError`."""
    local = info.is_local
    cached = _ensure_available(info)
    quiet_libraries()
    import diffusers  # imported only now: the checks above stay instant

    cls = cls or diffusers.StableDiffusionPipeline
    kwargs = dict(dtype=dtype, use_safetensors=True, safety_checker=None, feature_extractor=None)
    if issubclass(cls, (diffusers.StableDiffusionPipeline, diffusers.StableDiffusionImg2ImgPipeline)):
        kwargs["requires_safety_checker"] = False
    if cached or hub_offline_flag():
        kwargs["local_files_only"] = True
        folder = Path(info.source) if local else cached_snapshot(info.source)
        kwargs["variant"] = weights_variant(folder) if folder is not None else None
    else:  # a download: float16 files on a GPU where the repository has them (half the bytes)
        kwargs["variant"] = "fp16" if info.fp16_variant and dtype != torch.float32 else None
        size = download_size(info.source, kwargs["variant"])
        print(f"Downloading {info.title} from the Hugging Face hub: "
              f"{f'{size / 1e9:.1f} GB' if size else 'a few GB'}{' of float16 weights' if kwargs['variant'] else ''}, "
              "once (later loads read the local cache). If it stops, run the cell again: the download resumes "
              "where it stopped.", flush=True)
    from diffusers.utils import logging as dlog
    from transformers.utils import logging as tlog

    if local:  # a small local model loads in a blink: no progress bars
        dlog.disable_progress_bar()
        tlog.disable_progress_bar()
    try:
        if info.unet_folder:  # a distilled U-Net and its scheduler beside the model's own
            from diffusers import LCMScheduler, UNet2DConditionModel

            kwargs["unet"] = UNet2DConditionModel.from_pretrained(
                info.source, subfolder=info.unet_folder, torch_dtype=dtype, use_safetensors=True,
                local_files_only=kwargs.get("local_files_only", False))
            kwargs["scheduler"] = LCMScheduler.from_pretrained(
                info.source, subfolder=info.scheduler_folder, local_files_only=kwargs.get("local_files_only", False))
        pipe = cls.from_pretrained(info.source, **kwargs)
    except torch.OutOfMemoryError as e:
        raise CourseSetupError(f"{info.title} does not fit in this device's memory. Close other notebooks"
                               f"{_instead(info) or ', and restart the kernel'}.") from e
    except Exception as e:  # a damaged file fails in many ways: JSON, safetensors, tokenizers, shapes
        folder = Path(info.source) if local else cached_snapshot(info.source)
        found = check_model_folder(folder) if folder is not None else []
        what = "; ".join(found) if found else f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"
        raise CourseSetupError(f"Could not load {info.title} from {info.source}: {what}. "
                               f"{_restore_advice(info)}") from e
    finally:
        dlog.enable_progress_bar()
        tlog.enable_progress_bar()
    _check_tokenizer(pipe, info)
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

    ``model_info(pipe)`` gives the loaded model's record (a `ModelInfo`) for the notebooks to show.
    """
    if task not in TASKS:
        raise CourseInputError(f"task={task!r} is not one of {TASKS}.")
    check_settings(LOADING)
    dev = get_device(device)
    dt = get_dtype(dev, dtype)
    info, reason = choose_model(model, dev)
    base = load_model(info, dev, dt)
    pipe = as_image_to_image(base) if task == "image-to-image" else base
    if verbose:
        where = f"{dev.type.upper() if dev.type != 'cpu' else 'the CPU'} in {str(dt).removeprefix('torch.')}"
        print(f"Using {info.title} for {task} on {where}, because {reason}.")
    return pipe


def load_model(info: ModelInfo, device: torch.device, dtype: torch.dtype, cls=None):
    """Load (once per model, device, dtype and class) the pipeline of class `cls` (default
    `StableDiffusionPipeline`) for the registry record `info`: the one loading path of every pipeline the
    course uses (`load_pipeline`, and chapter 4's x4 upscaler). `model_info` answers `info` for it."""
    key = (info.source, info.unet_folder, str(device), dtype, getattr(cls, "__name__", None))
    if key not in _PIPELINES:
        pipe = load_uncached(info, device, dtype, cls)
        pipe.set_progress_bar_config(disable=info.is_local, leave=False)  # bars only for slow real models
        _PIPELINES[key] = remember(pipe, info)
    return _PIPELINES[key]


def as_image_to_image(pipe):
    """An image-to-image pipeline that shares `pipe`'s modules (nothing is loaded or copied).

    Returns `pipe` itself when it already is one. Taught in: chapter 5 (image-to-image).
    """
    from diffusers import StableDiffusionImg2ImgPipeline

    if isinstance(pipe, StableDiffusionImg2ImgPipeline):
        return pipe
    i2i = StableDiffusionImg2ImgPipeline(**pipe.components, requires_safety_checker=False)
    i2i.set_progress_bar_config(**getattr(pipe, "_progress_bar_config", {}))
    return remember(i2i, model_info(pipe)) if pipe in _INFO else i2i


def _weights_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*.safetensors"))


#: A local model with less than this on disk draws in seconds on a CPU (about 50 M float32 parameters).
SMALL_MODEL_BYTES = 200 * 2**20


def real_model_ready(gpu_only: bool = False) -> bool:
    """Should a cell that shows a real (non-embedded) model run here? The one switch of the
    notebooks' "with a GPU" cells, so that they never test for CUDA themselves.

    True when the model the course chooses is not the embedded one and it draws in seconds: on a
    CUDA GPU, or (unless `gpu_only`, for cells that need a second hub model such as the x4
    upscaler) a small local model such as `make test`'s Stable-Diffusion-1.5-shaped test model,
    which runs every such cell on the CPU. Never touches the network for long.
    Taught in: chapter 0 (welcome).
    """
    info, _ = choose_model()
    if info.key.startswith("embedded"):
        return False
    if get_device().type == "cuda":
        return True
    return not gpu_only and info.is_local and _weights_bytes(Path(info.source)) < SMALL_MODEL_BYTES


def student_shipped() -> bool:
    """Whether the embedded model's folder holds its few-step student (``load_pipeline("embedded-fast")``)."""
    info = REGISTRY["embedded-fast"]
    return (Path(info.source) / info.unet_folder / "config.json").is_file()


def model_defaults(pipe) -> tuple[int, float]:
    """The number of steps and the guidance scale `pipe`'s model draws best with (its `ModelInfo`: 20 and
    7.5 for the embedded model, 2 and 0 for SD-Turbo); `DEFAULT_STEPS` and `DEFAULT_GUIDANCE` for a pipeline
    the course did not load.

    Taught in: chapter 7 (the parameters). Every helper that leaves steps or guidance out uses these.
    """
    info = model_info(pipe)
    return int(info.steps), float(info.guidance)


def picture_size(pipe) -> int:
    """The side, in pixels, of the square pictures `pipe`'s model was made for: the U-Net's latent
    size times the VAE's factor (64 for the embedded model, 512 for Stable Diffusion 1.5).

    Notebooks size their pictures with it, never with a number that fits one model only.
    Taught in: chapter 4 (the pipeline's parts).
    """
    return int(pipe.unet.config.sample_size) * int(pipe.vae_scale_factor)


def loaded_models() -> list[str]:
    """The sources (hub ids or folders) of the pipelines loaded in this session, in loading order."""
    return [key[0] for key in _PIPELINES]


def clear_cache() -> None:
    """Forget the loaded pipelines (frees their memory once nothing else refers to them)."""
    _PIPELINES.clear()
