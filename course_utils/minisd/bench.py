"""Speed and memory of the embedded model on this machine (medians, wall-clock).

    python -m course_utils.minisd.bench            # or: make bench
    python -m course_utils.minisd.bench --compile  # or: make bench-compile (torch.compile: what it costs, gives)

Each cold figure runs in a fresh Python process, so that nothing is cached; warm figures repeat
the call and report the median. Peak memory is the process's maximum resident set size.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

PROMPT = "a ginger cat in manga style on a blue background"

_COLD = r"""
import time, resource, json
t0 = time.perf_counter()
import torch, diffusers, transformers
t_import = time.perf_counter() - t0
import course_utils as cu
t1 = time.perf_counter()
pipe = cu.load_pipeline("embedded", verbose=False)
t_load = time.perf_counter() - t1
t2 = time.perf_counter()
cu.text_to_image(PROMPT, pipe=pipe, seed=0)
t_first = time.perf_counter() - t2
print(json.dumps(dict(imports=t_import, load=t_load, first_picture=t_first,
                      total=time.perf_counter() - t0,
                      peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))
""".replace("PROMPT", repr(PROMPT))


def cold(runs: int = 7) -> dict:
    """Fresh-process figures: imports, loading, first picture, all together; medians of `runs`."""
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    rows = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", _COLD], capture_output=True, text=True, env=env, check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {k: statistics.median(r[k] for r in rows) for k in rows[0]}


def warm(repeats: int = 15) -> dict:
    import course_utils as cu

    pipe = cu.load_pipeline("embedded", verbose=False)
    cu.text_to_image(PROMPT, pipe=pipe, seed=0)  # warm-up

    def timed(fn, n):
        ts = []
        for i in range(n):
            t0 = time.perf_counter()
            fn(i)
            ts.append(time.perf_counter() - t0)
        return statistics.median(ts), min(ts), max(ts)

    one = timed(lambda i: cu.text_to_image(PROMPT, pipe=pipe, seed=i), repeats)
    eight = timed(lambda i: cu.text_to_image(PROMPT, pipe=pipe, seed=i, num_images=8), max(3, repeats // 3))
    i2i = timed(lambda i: cu.image_to_image(cu.mau(), PROMPT, pipe=pipe, strength=0.6, seed=i), repeats)
    out = {"one_picture_20_steps": one, "batch_of_8": eight, "image_to_image_strength_0.6": i2i}
    from .evaluate import load_fast

    fast = load_fast()
    if fast is not None:  # the few-step student at its own defaults: 4 steps, no guidance
        cu.text_to_image(PROMPT, pipe=fast, seed=0)
        out["fast_one_picture_4_steps"] = timed(lambda i: cu.text_to_image(PROMPT, pipe=fast, seed=i), repeats)
        out["fast_one_picture_1_step"] = timed(
            lambda i: cu.text_to_image(PROMPT, pipe=fast, seed=i, steps=1), repeats)
    return out


_COMPILED = r"""
import json, statistics, sys, time
import torch
import course_utils as cu
from course_utils.minisd.evaluate import load_fast
which, repeats = sys.argv[1], int(sys.argv[2])
pipe = cu.load_pipeline("embedded", verbose=False) if which == "full" else load_fast()
draw = lambda i: cu.text_to_image(PROMPT, pipe=pipe, seed=i)
def median(n):
    ts = []
    for i in range(n):
        t0 = time.perf_counter(); draw(i); ts.append(time.perf_counter() - t0)
    return statistics.median(ts)
draw(0)
eager = median(repeats)
pipe.unet = torch.compile(pipe.unet)
t0 = time.perf_counter(); draw(0); first = time.perf_counter() - t0
print(json.dumps(dict(eager=eager, first=first, compiled=median(repeats))))
""".replace("PROMPT", repr(PROMPT))


def compiled(repeats: int = 15) -> dict:
    """``torch.compile`` on the U-Net of the 20-step model and of the few-step student, each in fresh processes
    that share an empty on-disk cache: the first process compiles from nothing, the second finds its work in
    the cache (what a learner's second session pays). Returns, per model: eager and compiled medians of one
    picture, and the first compiled picture with a cold and with a warm cache (seconds)."""
    import tempfile

    out = {}
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, HF_HUB_OFFLINE="1", TORCHINDUCTOR_CACHE_DIR=cache)
        for which in ("full", "fast"):
            runs = []
            for _ in range(2):
                res = subprocess.run([sys.executable, "-c", _COMPILED, which, str(repeats)], capture_output=True,
                                     text=True, env=env)
                if res.returncode != 0:
                    raise RuntimeError(f"torch.compile failed on the {which} model:\n{res.stderr[-3000:]}")
                runs.append(json.loads(res.stdout.strip().splitlines()[-1]))
            out[which] = {"eager": statistics.median([runs[0]["eager"], runs[1]["eager"]]),
                          "compiled": statistics.median([runs[0]["compiled"], runs[1]["compiled"]]),
                          "first_cold_cache": runs[0]["first"], "first_warm_cache": runs[1]["first"]}
    return out


def compiled_table(res: dict) -> list[str]:
    """The markdown rows of `compiled`'s figures, with the pictures after which compiling has paid."""
    lines = ["| torch.compile on the U-Net (fresh processes, one on-disk cache) | eager s | compiled s | "
             "first compiled picture, empty cache | same, cache filled | pictures before it pays, empty cache | "
             "same, cache filled |", "|---|---|---|---|---|---|---|"]
    names = {"full": "20-step model, guidance 7.5", "fast": "few-step student, 4 steps"}
    for which, r in res.items():
        gain = r["eager"] - r["compiled"]
        pays = [("never" if gain <= 0 else f"{max(0.0, (r[k] - r['compiled'])) / gain:.0f}")
                for k in ("first_cold_cache", "first_warm_cache")]
        lines.append(f"| {names[which]} | {r['eager']:.3f} | {r['compiled']:.3f} | {r['first_cold_cache']:.1f} | "
                     f"{r['first_warm_cache']:.1f} | {pays[0]} | {pays[1]} |")
    return lines


def sliders(repeats: int = 15) -> dict:
    """Slider-to-new-picture latency of chapter 7's dashboard (no browser: the same Python callback).

    Setting a slider's value runs the same code as releasing it in JupyterLab: draw (or take from
    the cache), encode as PNG, put the bytes in the image widget. New settings are distinct guidance
    values; cached ones revisit them.
    """
    import course_utils as cu

    pipe = cu.load_pipeline("embedded", verbose=False)
    dash = cu.widgets.parameter_dashboard(pipe, PROMPT)  # draws once (warm-up)
    guidance = dash.controls["guidance"]
    start = guidance.value
    values = [v for v in (round(1.0 + 0.5 * i, 1) for i in range(repeats + 1)) if v != start][:repeats]

    def timed(vals, control=guidance):
        ts = []
        for v in vals:
            before = dash.image.value
            t0 = time.perf_counter()
            control.value = v
            ts.append(time.perf_counter() - t0)
            assert dash.image.value != before, "the picture did not change"
        return statistics.median(ts), min(ts), max(ts)

    new = timed(values)
    cached = timed(values[::-1][1:] + values[-1:])  # every value was seen; each one differs from the last
    out = {"slider_new_setting": new, "slider_setting_seen_before": cached}
    if "model" in dash.controls and dash.controls["model"].layout.display != "none":
        dash.set(model="fast", seed=0)  # the few-step student; its guidance slider does nothing, so: seeds
        out["fast_slider_new_setting"] = timed(range(1, repeats + 1), dash.controls["seed"])
    return out


def speed_probe(runs: int = 5) -> float:
    """Seconds for 10 million additions in pure Python, median of `runs`: a yardstick for the machine's
    speed at the moment, since a shared or throttled CPU can swing every figure here by a third."""
    ts = []
    for _ in range(runs):
        t0, s = time.perf_counter(), 0
        for i in range(10_000_000):
            s += i
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


BOUNDS = {  # what the course promises on a 2-core CPU (seconds)
    "one_picture_20_steps": 0.3, "batch_of_8": 1.5, "load": 3.0, "total": 5.0,
    "slider_new_setting": 0.5, "slider_setting_seen_before": 0.05, "fast_one_picture_4_steps": 0.06,
    "fast_slider_new_setting": 0.08,
}


def _verdict(key: str, value: float) -> str:
    bound = BOUNDS.get(key)
    return "" if bound is None else f"<= {bound:g}: {'met' if value <= bound else 'NOT met'}"


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--save", action="store_true", help="also write the table to the model folder (bench.md)")
    p.add_argument("--compile", action="store_true",
                   help="measure torch.compile instead (about 3 min; with --save: compile.md in the model folder)")
    a = p.parse_args(argv)
    import torch

    from course_utils.device import cpu_description

    from .config import MODEL_DIR

    machine = f"Machine: {cpu_description()}, {os.cpu_count()} cores, torch {torch.__version__}"
    probe = speed_probe()
    if a.compile:
        text = "\n".join([f"{machine}; one 64 x 64 picture; medians of {a.repeats} pictures per process, of 2 "
                          "processes.", ""] + compiled_table(compiled(a.repeats)) +
                         ["", f"Speed probe (10 million additions in pure Python): {probe:.2f} s before, "
                          f"{speed_probe():.2f} s after."])
        print(text)
        if a.save:
            (MODEL_DIR / "compile.md").write_text(text + "\n")
        return

    lines = [f"{machine}, {torch.get_num_threads()} threads; 64 x 64 pictures, 20 DDIM steps, guidance 7.5 "
             "(rows starting with 'fast': the few-step student, LCMScheduler, no guidance).",
             ""]
    c = cold()
    lines += ["| cold, fresh Python process (median of 7) | seconds | bound |", "|---|---|---|",
              f"| import torch + diffusers + transformers | {c['imports']:.2f} | |",
              f"| load the pipeline (after imports) | {c['load']:.2f} | {_verdict('load', c['load'])} |",
              f"| first picture (after loading) | {c['first_picture']:.2f} | |",
              f"| start to first picture, all together | {c['total']:.2f} | {_verdict('total', c['total'])} |",
              f"| peak memory of that process (RSS) | {c['peak_rss_mib']:.0f} MiB | |", ""]
    w = {**warm(a.repeats), **sliders(a.repeats)}
    lines += ["| warm, same process | median s | min | max | bound |", "|---|---|---|---|---|"]
    for k, (med, lo, hi) in w.items():
        lines.append(f"| {k.replace('_', ' ')} | {med:.3f} | {lo:.3f} | {hi:.3f} | {_verdict(k, med)} |")
    lines += ["", f"Speed probe (10 million additions in pure Python, median of 5): {probe:.2f} s before the "
              f"figures, {speed_probe():.2f} s after. Compare runs only at similar probes: on a shared CPU "
              f"every figure above moves with it."]
    text = "\n".join(lines)
    print(text)
    if a.save:
        (MODEL_DIR / "bench.md").write_text(text + "\n")
        from .card import write_card

        write_card()  # the model card quotes bench.md: keep it in step


if __name__ == "__main__":
    main()
