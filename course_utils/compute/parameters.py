"""Parameters: how many learned numbers each part of each model has, and the memory their weights take.

Taught in: chapter 6 (Compute requirements).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable

import torch

from ..errors import CourseInputError
from . import configs
from .memory import GIB, weight_memory

__all__ = ["count_parameters", "parameter_table"]


def count_parameters(module: torch.nn.Module) -> int:
    """
    The number of parameters (learned numbers) of a module; shared parameters count once.

    Works on meta modules, so it counts models that were never downloaded.

    Taught in: chapter 6 (Compute requirements).

    Args:
        module (`torch.nn.Module`): any PyTorch module.

    Returns:
        `int`: the parameter count.
    """
    if not isinstance(module, torch.nn.Module):
        raise CourseInputError(f"module must be a torch.nn.Module, got {type(module).__name__}.")
    return sum(p.numel() for p in module.parameters())


def _table_keys(models: Iterable[str] | None) -> list[str]:
    """The checked model keys of `parameter_table`, less the embedded model when its folder is missing."""
    if models is None:
        return list(configs.available_models())
    if isinstance(models, str):
        models = (models,)
    keys = []
    for m in models:
        if isinstance(m, str) and m.strip().lower() == "embedded" and not configs.embedded_ready():
            warnings.warn(f"The embedded model's folder {configs.EMBEDDED_DIR} is missing, so the table leaves it "
                          "out. Train it with `make train-model` or restore it with "
                          "`git checkout -- assets/models`.", stacklevel=3)
            continue
        keys.append(configs.check_model(m))
    return keys


def parameter_table(models: Iterable[str] | None = None) -> list[dict]:
    """
    Parameters and weight memory of each part of each model, and each model's total.

    Taught in: chapter 6 (Compute requirements).

    Args:
        models (`Iterable[str]`, *optional*):
            Model keys. Defaults to every key in `available_models` (``sd15``, ``sd21``, ``sdxl``, and
            ``embedded`` when its folder exists). The embedded model, asked for but not on disk, is
            left out with a warning that says how to get it.

    Returns:
        `list[dict]`: one row per component and one ``"total"`` row per model, with the keys
        ``model``, ``component``, ``parameters`` (`int`), ``fp32_gib`` and ``fp16_gib`` (`float`,
        gibibytes of weights in float32 and float16).
    """
    rows = []
    for key in _table_keys(models):
        total = 0
        for comp in configs.components(key):
            n = count_parameters(configs.build_on_meta(key, comp))
            total += n
            rows.append(_param_row(key, comp, n))
        rows.append(_param_row(key, "total", total))
    return rows


def _param_row(model: str, component: str, n: int) -> dict:
    return {"model": model, "component": component, "parameters": n,
            "fp32_gib": weight_memory(n, torch.float32) / GIB, "fp16_gib": weight_memory(n, torch.float16) / GIB}
