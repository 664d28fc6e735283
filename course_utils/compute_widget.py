"""Will it run on my computer? An estimator widget built on `course_utils.compute.estimate`.

Taught in: chapter 6 (Compute requirements), practical path.

Pick a model, a picture size, a number of steps and a device; the widget says how much memory the
picture needs, whether that fits, and how long it takes, counted from the model's published
configuration (no download). It works without a browser too: setting a control's ``value`` updates
``result`` at once, which is how the tests check it. A choice that cannot be computed (a size that is
not a multiple of 8, say) shows a message instead of raising.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import ipywidgets as W
import torch

from . import checks, compute
from .device import describe as describe_device
from .errors import CourseInputError, CourseSetupError

__all__ = ["Estimator", "estimator_widget", "format_seconds", "match_gpu", "this_machine"]


def format_seconds(seconds: float | None) -> str:
    """A duration a person reads at a glance: ``"0.42 s"``, ``"3.5 min"``, ``"2.1 h"``, ``"3.0 days"``.

    Taught in: chapter 6 (Compute requirements).
    """
    if seconds is None:
        return "unknown"
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or seconds < 0:
        raise CourseInputError(f"seconds must be a number ≥ 0 or None, got {seconds!r}.")
    if seconds < 0.01:
        return f"{seconds * 1000:.2g} ms"
    if seconds < 100:
        return f"{seconds:.2g} s" if seconds < 10 else f"{seconds:.0f} s"
    if seconds < 3600 * 1.5:
        return f"{seconds / 60:.1f} min"
    if seconds < 86400 * 1.5:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def match_gpu(name: str, memory_gib: float | None = None) -> str | None:
    """
    The key of `compute.GPUS` that a CUDA device name describes, or None when the table lacks it.

    Names as PyTorch reports them, e.g. ``"Tesla T4"``, ``"NVIDIA GeForce RTX 4090"``,
    ``"NVIDIA A100-SXM4-80GB"``; `memory_gib` tells an A100 40 GB from an 80 GB one when the
    name does not.

    Taught in: chapter 6 (Compute requirements).
    """
    if not isinstance(name, str):
        raise CourseInputError(f"name must be a GPU name such as 'Tesla T4', got {name!r}.")
    n = re.sub(r"[^a-z0-9]", "", name.lower())
    if "h100" in n:
        return "h100-sxm"  # PCIe H100s are slower: the bound stays a bound, only looser
    if "a100" in n:
        big = "80g" in n or (memory_gib is not None and memory_gib > 48)
        return "a100-80gb" if big else "a100-40gb"
    for key in ("rtx4090", "rtx3060", "t4"):
        if key in n:
            return key
    return None


def this_machine() -> dict:
    """
    What this computer is, for the estimator: a description, the device key that `compute.estimate`
    understands, and its memory.

    Taught in: chapter 6 (Compute requirements).

    Returns:
        `dict` with ``description`` (one line, as `course_utils.describe_device` writes it),
        ``device`` (``"cpu"``, a key of `compute.GPUS`, or None for a CUDA GPU the table lacks),
        ``gpu_name`` (None without CUDA) and ``memory_gib`` (the GPU's memory, or the RAM; None
        when unknown).
    """
    description = describe_device()
    if torch.cuda.is_available():
        p = torch.cuda.get_device_properties(0)
        mem = p.total_memory / compute.GIB
        return {"description": description, "device": match_gpu(p.name, mem), "gpu_name": p.name,
                "memory_gib": mem}
    return {"description": description, "device": "cpu", "gpu_name": None, "memory_gib": compute.ram_gib()}


_STYLE_OK = "color:#1e7e34"
_STYLE_BAD = "color:#c0392b"


class Estimator:
    """Controls -> `compute.estimate` -> one HTML result, updated in place.

    Attributes:
        controls (`dict[str, ipywidgets.Widget]`): ``model``, ``resolution``, ``steps``, ``device``,
            ``guidance``; set their ``value`` to change the estimate.
        result (`ipywidgets.HTML`): the answer, or a message saying what to change.
        last (`dict` or None): the latest `compute.estimate` result (None after a bad choice).
        error (`str` or None): the latest message for a bad choice.
        box (`ipywidgets.VBox`): what the notebook displays.
    """

    def __init__(self, controls: dict[str, W.Widget], cpu_flop_rate: float | None,
                 estimate_fn: Callable[..., dict] = compute.estimate):
        self.controls = controls
        self.cpu_flop_rate = cpu_flop_rate
        self._estimate = estimate_fn
        self.result = W.HTML(layout=W.Layout(width="560px"))
        self.last: dict | None = None
        self.error: str | None = None
        self.box = W.VBox([W.HTML("<b>Will it run on my computer?</b>"),
                           W.HBox([W.VBox(list(controls.values())), self.result])])
        for c in controls.values():
            c.observe(lambda _change: self.refresh(), names="value")
        self.refresh()

    def values(self) -> dict:
        return {k: c.value for k, c in self.controls.items()}

    def refresh(self) -> dict | None:
        """Recompute for the controls' current values; show the answer or what went wrong."""
        v = self.values()
        try:
            est = self._estimate(v["model"], v["resolution"], v["steps"], v["device"], guidance=v["guidance"],
                                 cpu_flop_rate=self.cpu_flop_rate if v["device"] == "cpu" else None)
        except (CourseInputError, CourseSetupError) as e:
            self.last, self.error = None, str(e)
            self.result.value = (f"<div style='{_STYLE_BAD}'>⚠️ This choice cannot be estimated: "
                                 f"{html.escape(str(e))}</div>")
            return None
        self.last, self.error = est, None
        self.result.value = render(est)
        return est

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.box)


def _tflop(flops: float) -> str:
    t = flops / 1e12
    return f"{t:,.0f} TFLOP" if t >= 100 else f"{t:.3g} TFLOP"


def _device_name(key: str) -> str:
    return "the CPU" if key == "cpu" else compute.GPUS[key].name


def render(est: dict) -> str:
    """The HTML the widget shows for one `compute.estimate` result."""
    spec = compute.MODELS[est["model"]]
    h, w = est["resolution"]
    on_cpu = est["device"] == "cpu"
    lines = [f"<b>{html.escape(spec.title)}</b>, {h}×{w} px, {est['steps']} steps, guidance "
             f"{'on' if est['guidance'] else 'off'}, on {html.escape(_device_name(est['device']))} "
             f"({est['dtype']})"]
    parts = f"weights {est['weights_gib']:.2f} + activations {est['activations_gib']:.2f}"
    if not on_cpu:
        parts += f" + CUDA {compute.GPU_OVERHEAD_GIB:.1f}"
    where = "RAM" if on_cpu else "GPU memory"
    if est["fits"] is None:
        verdict = f"<span>this computer's {where} is unknown</span>"
    elif est["fits"]:
        verdict = f"<span style='{_STYLE_OK}'>✅ fits in {est['device_memory_gib']:.0f} GiB of {where}</span>"
    else:
        verdict = (f"<span style='{_STYLE_BAD}'><b>❌ does not fit</b> in {est['device_memory_gib']:.0f} GiB of "
                   f"{where}: choose a smaller picture, a bigger card, or offload parts of the model</span>")
    lines.append(f"<b>Memory</b>: {est['memory_gib']:.2f} GiB ({parts}), {verdict}")
    if on_cpu:
        lines.append(f"<b>Time</b>: about {format_seconds(est['seconds_typical'])} per picture")
    else:
        lines.append(f"<b>Time</b>: at least {format_seconds(est['seconds_lower_bound'])} (every unit busy "
                     f"all the time), typically about {format_seconds(est['seconds_typical'])} per picture")
    lines.append(f"<b>Work</b>: {_tflop(est['flops_total'])} per picture ({_tflop(est['flops_per_step'])} per step)")
    lines.append(f"Naive attention (no memory-efficient kernel) would need {est['attention_naive_gib']:.2f} GiB "
                 "more.")
    if max(h, w) != spec.resolution:
        lines.append(f"<i>{html.escape(spec.title)} was trained at {spec.resolution} px: far from that size, "
                     "pictures get worse even when they fit.</i>")
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in est["notes"])
    return "<div>" + "<br>".join(lines) + f"<ul style='margin:4px 0'>{notes}</ul></div>"


CHART_DEVICES = ("cpu", "t4", "rtx3060", "rtx4090", "a100-80gb")


def time_chart(cpu_flop_rate: float, measured_seconds: float, devices=CHART_DEVICES):
    """
    Seconds per picture of SD 1.5 at 512 px, 30 steps, estimated by `compute.estimate` for this CPU
    (at its measured `cpu_flop_rate`) and for some graphics cards, beside the embedded model's
    measured `measured_seconds`, as a bar chart on a log scale.

    Taught in: chapter 6 (Compute requirements), practical path. Returns the figure and
    ``{label: seconds}`` in the chart's order.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    times = {}
    for d in devices:
        e = compute.estimate("sd15", 512, 30, d, cpu_flop_rate=cpu_flop_rate)
        times["this computer's processor" if d == "cpu" else _device_name(d).replace("NVIDIA ", "")] = e[
            "seconds_typical"]
    times["the course's model,\nthis processor (measured)"] = float(measured_seconds)
    labels, secs = list(times), list(times.values())
    fig, ax = plt.subplots(figsize=(8.5, 3.4))
    y = np.arange(len(labels))[::-1]
    colours = ["tab:grey" if d == "cpu" else "tab:green" for d in devices] + ["tab:blue"]
    ax.barh(y, secs, color=colours)
    for yi, sec in zip(y, secs, strict=True):
        ax.text(sec, yi, "  " + format_seconds(sec), va="center", fontsize=9)
    ax.set_xscale("log")
    ax.set_xlim(0.05, 8 * max(secs))
    ax.set_yticks(y, labels)
    ax.set(xlabel="seconds per picture (log scale)",
           title="Time per picture: SD 1.5 at 512², 30 steps (estimated); the course's model (measured)")
    fig.tight_layout()
    plt.close(fig)
    return fig, times


def _label(key: str) -> str:
    return compute.MODELS[key].title.split(" (")[0]


def estimator_widget(model: str = "sd15", resolution: int | None = None, steps: int = 30,
                     device: str | None = None, guidance: bool = True,
                     cpu_flop_rate: float | None = None) -> Estimator:
    """
    The "will it run on my computer?" widget: a model dropdown, a picture-size slider, a steps
    slider, a device dropdown and a guidance checkbox, and the `compute.estimate` answer below.

    Taught in: chapter 6 (Compute requirements), practical path.

    Args:
        model (`str`, defaults to ``"sd15"``): the model shown first (a key of
            `compute.available_models`).
        resolution (`int`, *optional*): the picture side shown first, 64 to 2048 px; None: the model's own.
        steps (`int`, defaults to 30): denoising steps shown first, 1 to 150.
        device (`str`, *optional*): ``"cpu"`` or a key of `compute.GPUS`; None: this computer
            (`this_machine`), or the CPU when its GPU is not in the table.
        guidance (`bool`, defaults to True): classifier-free guidance (doubles the U-Net's work).
        cpu_flop_rate (`float`, *optional*): this CPU's measured FLOP/s (`compute.measured_flop_rate`);
            None uses `compute.DEFAULT_CPU_FLOP_RATE`.

    Returns:
        `Estimator`: display it; its ``controls``, ``result`` and ``last`` can be read and set from code.

    Raises:
        `CourseInputError`: for an unknown model or device, or a starting value out of range.
    """
    models = compute.available_models()
    if model not in models:
        raise CourseInputError(f"model={model!r} is not available here: choose one of "
                               f"{', '.join(repr(m) for m in models)}.")
    if resolution is None:
        resolution = compute.MODELS[model].resolution
    checks.whole("resolution", resolution, 64, 2048)
    checks.whole("steps", steps, 1, 150)
    if not isinstance(guidance, bool):
        raise CourseInputError(f"guidance must be True or False, got {guidance!r}.")
    if cpu_flop_rate is not None and (isinstance(cpu_flop_rate, bool) or not isinstance(cpu_flop_rate, (int, float))
                                      or not cpu_flop_rate > 0):
        raise CourseInputError(f"cpu_flop_rate must be a positive number of FLOP/s, got {cpu_flop_rate!r}.")
    if device is None:
        device = this_machine()["device"] or "cpu"
    if device != "cpu" and device not in compute.GPUS:
        raise CourseInputError(f"device={device!r} is not in the course's table: choose 'cpu' or one of "
                               f"{', '.join(repr(k) for k in compute.GPUS)}.")
    cpu_label = "this CPU" + (f" ({cpu_flop_rate / 1e12:.2g} TFLOP/s measured)" if cpu_flop_rate else "")
    device_options = [(cpu_label, "cpu")] + [(f"{g.name} ({g.memory_gib:g} GiB)", k) for k, g in compute.GPUS.items()]
    common: dict[str, Any] = {"style": {"description_width": "90px"}, "layout": W.Layout(width="340px")}
    controls = {
        "model": W.Dropdown(options=[(_label(k), k) for k in models], value=model, description="model", **common),
        "resolution": W.IntSlider(value=resolution, min=64, max=2048, step=64, description="picture side (px)",
                                  continuous_update=False, **common),
        "steps": W.IntSlider(value=steps, min=1, max=150, description="steps", continuous_update=False, **common),
        "device": W.Dropdown(options=device_options, value=device, description="device", **common),
        "guidance": W.Checkbox(value=guidance, description="guidance (batch of 2)", indent=False),
    }
    return Estimator(controls, cpu_flop_rate)


def canvas_figure():
    """
    Two panels for the practical path's "bigger canvas": three canvases (512, 1024, 2048 pixels) drawn to
    scale with how the paint (area) and the comparisons (area squared) grow, and the memory Stable
    Diffusion 1.5 needs for one picture at four sizes, with memory-saving attention and with the naive
    kind, against a 16 GiB graphics card (`compute.estimate`).

    Taught in: chapter 6 (Compute requirements), practical path.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    sides = [512, 1024, 2048]
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [1.1, 1]})
    x = 0
    for s in sides:
        k = s // 512
        ax.add_patch(plt.Rectangle((x, 0), k, k, facecolor="bisque", edgecolor="saddlebrown", lw=1.5))
        ax.text(x + k / 2, k + 0.15, f"{s} × {s}", ha="center", fontsize=9, weight="bold")
        ax.text(x + k / 2, -0.35, f"paint ×{k * k}", ha="center", fontsize=9, color="tab:blue")
        ax.text(x + k / 2, -0.75, f"comparisons ×{k ** 4}", ha="center", fontsize=9, color="tab:red")
        x += k + 1.1
    ax.set_xlim(-0.3, x)
    ax.set_ylim(-1.1, 4.6)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("Three canvases drawn to scale: cost relative to 512 × 512")

    # Stable Diffusion 1.5 on a 16 GiB graphics card, counted from its published configuration
    pic = [256, 512, 768, 1024]
    est = [compute.estimate("sd15", s, 30, "t4") for s in pic]
    normal = [e["memory_gib"] for e in est]
    naive = [e["memory_gib"] + e["attention_naive_gib"] for e in est]
    pos = np.arange(len(pic))
    bx.bar(pos - 0.2, normal, 0.4, color="tab:blue", label="with memory-saving attention")
    bx.bar(pos + 0.2, naive, 0.4, color="tab:red", label="comparing all patches at once")
    for p, a, b in zip(pos, normal, naive, strict=True):
        bx.text(p - 0.2, a, f"{a:.1f}", ha="center", va="bottom", fontsize=8)
        bx.text(p + 0.2, b, f"{b:.1f}", ha="center", va="bottom", fontsize=8)
    bx.axhline(16, color="grey", ls="--", lw=1)
    bx.text(-0.45, 16.4, "a 16 GiB graphics card", color="grey", fontsize=8)
    bx.set_xticks(pos, [f"{s}²" for s in pic])
    bx.set_ylim(0, 1.12 * max(naive))
    bx.set(xlabel="picture size (pixels)", ylabel="memory needed (GiB)",
           title="Stable Diffusion 1.5: memory for one picture")
    bx.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    plt.close(fig)
    return fig


def memory_figure(names: dict[str, str]):
    """
    Memory to make one picture on a graphics card (half precision): each model's weights and its working
    space at its own picture size, one bar per model (`names`: model key -> label), from `compute.estimate`.

    Taught in: chapter 6 (Compute requirements), practical path.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(8.5, 3.0))
    y = np.arange(len(names))[::-1]
    for yi, m in zip(y, names, strict=True):
        e = compute.estimate(m, None, 30, "t4")                       # a graphics card: half precision
        ax.barh(yi, e["weights_gib"], color="tab:red",
                label="the model's numbers (weights)" if m == "sd15" else None)
        ax.barh(yi, e["activations_gib"], left=e["weights_gib"], color="tab:orange",
                label="working space for one picture" if m == "sd15" else None)
        total = e["weights_gib"] + e["activations_gib"]
        side = compute.MODELS[m].resolution
        amount = f"{total:.1f} GiB" if total > 0.1 else f"{total * 1024:.0f} MiB"
        ax.text(total, yi, f"  {amount} at {side}²", va="center", fontsize=9)
    ax.set_xlim(0, 11)
    ax.set_yticks(y, list(names.values()))
    ax.set(xlabel="memory on a graphics card (GiB)", title="Memory to make one picture, half precision")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    plt.close(fig)
    return fig
