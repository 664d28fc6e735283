"""Speed and memory of the embedded model on this machine (medians, wall-clock).

    python -m course_utils.minisd.bench          # or: make bench

Each cold figure runs in a fresh Python process, so that nothing is cached; warm figures repeat
the call and report the median. Peak memory is the process's maximum resident set size.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
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


def cold(runs: int = 3) -> dict:
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
    return {"one_picture_20_steps": one, "batch_of_8": eight, "image_to_image_strength_0.6": i2i}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--save", action="store_true", help="also write the table to the model folder (bench.md)")
    a = p.parse_args(argv)
    import torch

    lines = [f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch "
             f"{torch.__version__}, {torch.get_num_threads()} threads; 64 x 64 pictures, 20 DDIM steps, guidance 7.5.",
             ""]
    c = cold()
    lines += ["| cold, fresh Python process (median of 3) | seconds |", "|---|---|",
              f"| import torch + diffusers + transformers | {c['imports']:.2f} |",
              f"| load the pipeline (after imports) | {c['load']:.2f} |",
              f"| first picture (after loading) | {c['first_picture']:.2f} |",
              f"| start to first picture, all together | {c['total']:.2f} |",
              f"| peak memory of that process (RSS) | {c['peak_rss_mib']:.0f} MiB |", ""]
    w = warm(a.repeats)
    lines += ["| warm, same process | median s | min | max |", "|---|---|---|---|"]
    for k, (med, lo, hi) in w.items():
        lines.append(f"| {k.replace('_', ' ')} | {med:.3f} | {lo:.3f} | {hi:.3f} |")
    text = "\n".join(lines)
    print(text)
    from .config import MODEL_DIR

    if a.save:
        (MODEL_DIR / "bench.md").write_text(text + "\n")


if __name__ == "__main__":
    main()
