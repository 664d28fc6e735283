"""Measure the embedded model: prompt adherence, guidance, image-to-image, reproducibility.

    python -m course_utils.minisd.evaluate            # prints a table, writes eval.json and samples.png

All figures are at the default settings (20 DDIM steps, guidance 7.5) unless a row says otherwise.
Adherence is measured two ways: by fixed pixel rules (`metrics.classify_pixels`, no model) and by
the model's own CLIP (zero-shot). Both are first checked on the generator's own pictures.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
from PIL import Image

from . import data as D
from . import metrics as Mx
from .config import MODEL_DIR

BATCH = 8


def _specs(n: int, held_out: bool, seed: int) -> list[D.CatSpec]:
    rng = np.random.default_rng(seed)
    return [D.random_spec(rng, held_out=held_out, pattern="solid") for _ in range(n)]


def _generate(pipe, prompts: list[str], seeds: list[int], guidance: float, steps: int = 20) -> list[Image.Image]:
    out = []
    for i in range(0, len(prompts), BATCH):
        gens = [torch.Generator("cpu").manual_seed(s) for s in seeds[i:i + BATCH]]
        with torch.inference_mode():
            out += pipe(prompts[i:i + BATCH], num_inference_steps=steps, guidance_scale=guidance,
                        generator=gens).images
    return out


def vae_round_trip(pipe, imgs: list[Image.Image]) -> list[Image.Image]:
    from course_utils.images import to_tensor

    x = torch.cat([to_tensor(i) for i in imgs])
    with torch.inference_mode():
        y = pipe.vae.decode(pipe.vae.encode(x).latent_dist.mean).sample
    return pipe.image_processor.postprocess(y, output_type="pil")


def _rates(preds: list[dict], truths: list[dict]) -> dict[str, float]:  # in percent
    return {k: 100.0 * v for k, v in Mx.adherence_rates(preds, truths).items()}


def _truth(spec: D.CatSpec) -> dict:
    t = Mx.expected(spec)
    t["fur_name"] = spec.fur
    return t


def _both_judges(judge, imgs: list[Image.Image], truths: list[dict]) -> dict:
    """How often the pixel rules and the tiny CLIP read `imgs` as `truths` say (in percent)."""
    return {"pixels": _rates([Mx.classify_pixels(i) for i in imgs], truths),
            "clip": _rates(judge.classify(imgs, truths), truths)}


def _prompt_set(n: int, held: bool) -> tuple[list[str], list[dict]]:
    """The adherence prompts (seen or held-out combinations) and what each asks for."""
    specs = _specs(n, held, seed=11 if not held else 12)
    return [D.prompt_for(s.fur, s.background, s.style) for s in specs], [_truth(s) for s in specs]


def _judges_on_real(res: dict, pipe, judge, n_seen: int, n_held: int) -> None:
    """The judges on the generator's own pictures, where the truth is known, for seen and held-out
    combinations: a judge that misreads the real thing caps what it can report of the model."""
    for name, held, n, seed in (("", False, n_seen, 777), ("_held_out", True, n_held, 778)):
        imgs, _, specs = D.sample(n, seed=seed, held_out=held)
        truths = [_truth(s) for s in specs]
        res[f"judge_on_real{name}"] = _both_judges(judge, imgs, truths)
        # ... and on the same pictures after a trip through the VAE: every generated picture is
        # decoded by it, so this is the most the U-Net can reach (the VAE softens sprite pixels and
        # screentone)
        res[f"judge_on_vae_round_trip{name}"] = _both_judges(judge, vae_round_trip(pipe, imgs), truths)


def _adherence(res: dict, pipe, judge, n_seen: int, n_held: int) -> None:
    """Prompt adherence, seen and held-out combinations, and guidance 1.0 against 7.5."""
    for name, held, n in (("seen", False, n_seen), ("held_out", True, n_held)):
        prompts, truths = _prompt_set(n, held)
        for g in (7.5, 1.0):
            imgs = _generate(pipe, prompts, list(range(n)), guidance=g)
            res[f"adherence_{name}_g{g}"] = _both_judges(judge, imgs, truths)
            if name == "seen" and g == 7.5:
                _samples_grid(pipe)


def _image_to_image(pipe, n: int) -> dict:
    """Generator pictures redrawn in another style at strength 0.3 and 0.9: how much they change, and how
    often the pixel rules read the input's style or the prompt's."""
    from course_utils.generate import image_to_image

    rng = np.random.default_rng(5)
    src_specs = [D.random_spec(rng, held_out=False, pattern="solid") for _ in range(n)]
    i2i = {}
    for strength in (0.3, 0.9):
        close, kept, took = [], [], []
        for k, s in enumerate(src_specs):
            src = D.render(s, seed=k)
            new_style = D.STYLES[(D.STYLES.index(s.style) + 1 + k % 3) % 4]
            out = image_to_image(src, D.prompt_for(s.fur, s.background, new_style), strength=strength,
                                 pipe=pipe, seed=k).image
            a, b = np.asarray(src, float), np.asarray(out, float)
            close.append(float(np.abs(a - b).mean()))
            style = Mx.classify_pixels(out)["style"]
            kept.append(style == s.style)
            took.append(style == new_style)
        i2i[str(strength)] = {"mean_abs_pixel_change": float(np.mean(close)),
                              "kept_input_style_pct": 100 * float(np.mean(kept)),
                              "took_prompt_style_pct": 100 * float(np.mean(took))}
    return i2i


def _fast_adherence(fast, judge, n_seen: int, n_held: int) -> dict:
    """The few-step student (distill.py) on the adherence prompts and seeds, without guidance (it has it built
    in), at each of FAST_STEPS."""
    res = {}
    for steps in FAST_STEPS:
        row = {}
        for name, held, n in (("seen", False, n_seen), ("held_out", True, n_held)):
            prompts, truths = _prompt_set(n, held)
            row[name] = _both_judges(judge, _generate(fast, prompts, list(range(n)), guidance=1.0, steps=steps),
                                     truths)
        res[str(steps)] = row
    return res


def evaluate(n_seen: int = 192, n_held: int = 96, quick: bool = False) -> dict:
    from course_utils.models import load_pipeline

    if quick:
        n_seen, n_held = 16, 8
    pipe = load_pipeline("embedded", verbose=False)
    judge = Mx.ClipJudge.load(MODEL_DIR)
    res: dict = {"settings": {"steps": 20, "guidance": 7.5, "n_seen": n_seen, "n_held_out": n_held}}
    _judges_on_real(res, pipe, judge, n_seen, n_held)  # 0. the judges themselves
    _adherence(res, pipe, judge, n_seen, n_held)  # 1. prompt adherence
    res["image_to_image"] = _image_to_image(pipe, 8 if quick else 32)  # 2. image-to-image
    # 3. photos: what the autoencoder keeps of a real photo, and image-to-image's trade-off on them
    res["photo_round_trip"] = photo_round_trip(pipe)
    res["drawn_round_trip"] = drawn_round_trip(pipe, n=32 if quick else 192)
    res["photo_image_to_image"] = photo_tradeoff(pipe, judge, seeds=2 if quick else 8,
                                                 sizes=(64,) if quick else (64, 128))
    if not quick:
        _photo_grid(pipe, res)
    fast = load_fast()  # 5. the few-step student
    if fast is not None:
        res["fast"] = _fast_adherence(fast, judge, n_seen, n_held)
        if not quick:
            _fast_grid(pipe, fast)
    # 4. reproducibility: the same seed gives the same bytes
    a = _generate(pipe, ["a ginger cat in manga style on a blue background"], [42], 7.5)[0]
    b = _generate(pipe, ["a ginger cat in manga style on a blue background"], [42], 7.5)[0]
    res["same_seed_same_bytes"] = a.tobytes() == b.tobytes()
    return res


def photo_round_trip(pipe, size: int = D.SIZE) -> dict:
    """Grey-level SSIM and mean CIEDE2000 of each held-out photo (MAU first) after encode and decode."""
    from . import photos as P

    out = {}
    for name, photo in P.held_out_photos(size).items():
        back = vae_round_trip(pipe, [photo])[0]
        out[name] = {"ssim": Mx.grey_ssim(photo, back), "ciede2000": Mx.colour_error(photo, back)}
    return out


def drawn_round_trip(pipe, n: int = 192) -> dict:
    """The same two figures on the generator's own pictures (half full-body, half close-ups), as medians."""
    imgs = D.sample(n // 2, seed=779)[0]
    rng = np.random.default_rng(780)
    imgs += [D.render(D.portrait_spec(rng), seed=k) for k in range(n - n // 2)]
    s, e = [], []
    for img in imgs:
        back = vae_round_trip(pipe, [img])[0]
        s.append(Mx.grey_ssim(img, back))
        e.append(Mx.colour_error(img, back))
    return {"n": n, "ssim": float(np.median(s)), "ciede2000": float(np.median(e))}


# Image-to-image on photos: a strength keeps the photo (identity) and takes the prompt's style at once when
TRADEOFF = {"identity": 0.5, "style_pct": 75.0}
TRADEOFF_STYLES = ("manga", "pixel")
STRENGTHS = tuple(round(0.1 * k, 1) for k in range(1, 11))


def tradeoff_prompt(style: str) -> str:
    """The capstone's prompts: a ginger tabby (MAU) in manga or 16-bit pixel-art style, in the words the
    model was trained on."""
    return D.prompt_for("ginger", "green" if style == "pixel" else "yellow", style, "tabby")


def photo_tradeoff(pipe, judge, seeds: int = 8, sizes=(64, 128), strengths=STRENGTHS) -> dict:
    """For each held-out photo and style (and, on MAU, each working size): median identity (grey SSIM
    against the photo, at the model's 64 pixels) and the share of pictures whose style the judge reads as
    asked, per strength."""
    from course_utils.generate import image_to_image
    from course_utils.images import fit_square

    from . import photos as P

    out = {}
    for name in P.HELD_OUT:
        photo = P.load(name)
        ref = fit_square(photo, D.SIZE)
        for style in TRADEOFF_STYLES:
            truth = {"fur": "ginger", "background": "green" if style == "pixel" else "yellow", "pattern": "tabby"}
            for size in sizes if name == "chelsea" else sizes[:1]:  # larger working sizes on MAU only
                rows = []
                for st in strengths:
                    imgs = image_to_image(photo, tradeoff_prompt(style), strength=st, seed=0, num_images=seeds,
                                          size=size, pipe=pipe).images
                    small = [i.resize((D.SIZE, D.SIZE), Image.Resampling.LANCZOS) for i in imgs]
                    ids = [Mx.grey_ssim(ref, i) for i in small]
                    styles = Mx.read_style(judge, small, truth)
                    rows.append({"strength": st, "identity": float(np.median(ids)),
                                 "style_pct": 100.0 * float(np.mean([x == style for x in styles]))})
                out[f"{name}/{style}/{size}"] = rows
    return out


def best_strength(rows: list[dict]) -> float | None:
    """The strength that keeps the most identity while the style holds (None if no strength meets both)."""
    ok = [r for r in rows if r["identity"] >= TRADEOFF["identity"] and r["style_pct"] >= TRADEOFF["style_pct"]]
    return max(ok, key=lambda r: (r["identity"], -r["strength"]))["strength"] if ok else None


def style_strength(rows: list[dict]) -> float | None:
    """The lowest strength at which the style holds (in at least 75 % of pictures), whatever the identity."""
    ok = [r["strength"] for r in rows if r["style_pct"] >= TRADEOFF["style_pct"]]
    return min(ok) if ok else None


def recipe_choice(res: dict, style: str, photo: str = "chelsea") -> dict | None:
    """The capstone's choice for `style` on `photo`, from `photo_tradeoff`'s rows, in three tiers:

    1. the strength and working size that meet both bounds with the most identity;
    2. failing that, the lowest strength at which the style holds, at the model's own size;
    3. failing that, the lowest strength at which the judge read the style most often, at that size.

    A larger working size counts only where it meets both bounds: the U-Net learnt 64 x 64 pictures, and
    at 128 it draws the same small cat several times over, which identity alone does not see.

    Returns ``{"strength", "size", "identity", "style_pct", "tier"}``, or None without measurements."""
    def pick_most_style(rows):
        top = max(r["style_pct"] for r in rows)
        return min(r["strength"] for r in rows if r["style_pct"] == top)

    for tier, pick in ((1, best_strength), (2, style_strength), (3, pick_most_style)):
        best = None
        for key, rows in res.get("photo_image_to_image", {}).items():
            name, st, size = key.split("/")
            ours = name == photo and st == style and rows and (tier == 1 or int(size) == D.SIZE)
            strength = pick(rows) if ours else None
            if strength is None:
                continue
            row = next(r for r in rows if r["strength"] == strength)
            better = best is None or (row["style_pct"], row["identity"]) > (best["style_pct"], best["identity"]) \
                if tier == 3 else best is None or row["identity"] > best["identity"]
            if better:
                best = {"strength": strength, "size": int(size), "identity": row["identity"],
                        "style_pct": row["style_pct"], "tier": tier}
        if best is not None:
            return best
    return None


def _photo_grid(pipe, res: dict) -> None:
    """The committed picture of what the model keeps of MAU: photo | round trip | strengths, per style."""
    from course_utils.generate import image_to_image
    from course_utils.images import fit_square

    from . import photos as P

    photo = P.load("chelsea")
    ref = fit_square(photo, D.SIZE)
    tile = 128
    cols = [ref, vae_round_trip(pipe, [ref])[0]]
    rows = []
    for style in TRADEOFF_STYLES:
        size = chosen_size(res, style)
        pics = [image_to_image(photo, tradeoff_prompt(style), strength=st, seed=0, size=size, pipe=pipe).image
                for st in (0.2, 0.4, 0.6, 0.8, 1.0)]
        rows.append(cols + pics)
    grid = Image.new("RGB", (tile * 7, tile * len(rows)), "white")
    for r, row in enumerate(rows):
        for c, im in enumerate(row):
            grid.paste(im.resize((tile, tile), Image.Resampling.NEAREST if im.width < tile else
                                 Image.Resampling.LANCZOS), (c * tile, r * tile))
    grid.save(MODEL_DIR / "photo_strengths.png", optimize=True)


def chosen_size(res: dict, style: str, photo: str = "chelsea") -> int:
    """The working size of the capstone's choice for `style` (64 when there is none)."""
    choice = recipe_choice(res, style, photo)
    return choice["size"] if choice else D.SIZE


FAST_STEPS = (1, 2, 4)  # steps of the few-step student that make eval-model measures
FAST_BOUND = 5.0  # at 4 steps, adherence at most this many points below the 20-step model (both judges)


def load_fast():
    """The few-step student as a pipeline (``load_pipeline("embedded-fast")``), or None where the model
    folder has none."""
    from course_utils.models import load_pipeline, student_shipped

    return load_pipeline("embedded-fast", verbose=False) if student_shipped() else None


def _fast_grid(pipe, fast) -> None:
    """The committed comparison: the 20-step model (guidance 7.5) above the student at 4, 2 and 1 steps
    (no guidance), same prompts and seeds, one column per style and colour."""
    combos = [("ginger", "blue", "manga"), ("black", "pink", "cartoon"), ("white", "green", "pixel"),
              ("grey", "red", "photo"), ("brown", "yellow", "cartoon"), ("cream", "purple", "pixel")]
    prompts = [D.prompt_for(f, b, st) for f, b, st in combos]
    seeds = list(range(len(prompts)))
    rows = [_generate(pipe, prompts, seeds, 7.5)] + [_generate(fast, prompts, seeds, 1.0, steps=k) for k in (4, 2, 1)]
    tile = D.SIZE * 2
    grid = Image.new("RGB", (tile * len(prompts), tile * len(rows)), "white")
    for r, row in enumerate(rows):
        for c, im in enumerate(row):
            grid.paste(im.resize((tile, tile), Image.Resampling.NEAREST), (c * tile, r * tile))
    grid.save(MODEL_DIR / "fast_samples.png", optimize=True)


def _samples_grid(pipe) -> None:
    """The committed sample grid: every style (rows) across several fur and background colours."""
    combos = [("ginger", "blue"), ("black", "pink"), ("white", "green"), ("grey", "red"),
              ("brown", "yellow"), ("cream", "purple")]
    rows = []
    for style in D.STYLES:
        prompts = [D.prompt_for(f, b, style) for f, b in combos]
        rows.append(_generate(pipe, prompts, list(range(len(prompts))), 7.5))
    tile = D.SIZE * 2
    grid = Image.new("RGB", (tile * len(combos), tile * len(D.STYLES)), "white")
    for r, row in enumerate(rows):
        for c, im in enumerate(row):
            grid.paste(im.resize((tile, tile), Image.Resampling.NEAREST), (c * tile, r * tile))
    grid.save(MODEL_DIR / "samples.png", optimize=True)


def format_table(res: dict) -> str:
    lines = ["| figure | pixel rules | tiny CLIP |", "|---|---|---|"]

    def row(label, key_or_rates):
        rates = res[key_or_rates] if isinstance(key_or_rates, str) else key_or_rates
        p, c = rates["pixels"], rates["clip"]
        lines.append(f"| {label} | {p['all']:.1f} % (fur {p['fur']:.0f}, bg {p['background']:.0f}, "
                     f"style {p['style']:.0f}) | {c['all']:.1f} % (fur {c['fur']:.0f}, bg {c['background']:.0f}, "
                     f"style {c['style']:.0f}) |")

    for name, what in (("", "seen"), ("_held_out", "held-out")):
        if f"judge_on_real{name}" in res:
            row(f"judge accuracy on generator pictures, {what} combinations", f"judge_on_real{name}")
            row("... on the same pictures after the VAE (the ceiling)", f"judge_on_vae_round_trip{name}")
    row("adherence, seen combinations, guidance 7.5", "adherence_seen_g7.5")
    row("adherence, held-out combinations, guidance 7.5", "adherence_held_out_g7.5")
    row("adherence, seen combinations, guidance 1.0", "adherence_seen_g1.0")
    row("adherence, held-out combinations, guidance 1.0", "adherence_held_out_g1.0")
    for s, v in res["image_to_image"].items():
        lines.append(f"| image-to-image, strength {s} | mean pixel change {v['mean_abs_pixel_change']:.1f}/255; "
                     f"kept input style {v['kept_input_style_pct']:.0f} %; took prompt style "
                     f"{v['took_prompt_style_pct']:.0f} % | |")
    for steps, rates in res.get("fast", {}).items():
        for name, what in (("seen", "seen"), ("held_out", "held-out")):
            row(f"few-step model, {steps} step{'s' if steps != '1' else ''}, no guidance, {what} combinations",
                rates[name])
    lines.append(f"| same seed, same bytes | {res['same_seed_same_bytes']} | |")
    if "photo_round_trip" in res:
        lines += ["", "Autoencoder round trip (encode, decode, no noise) at 64 x 64: grey-level SSIM (1 = the same) "
                  "and mean colour error CIEDE2000 (1: just visible).", "",
                  "| picture | SSIM | CIEDE2000 | before photo training (SSIM, CIEDE2000) |", "|---|---|---|---|"]
        for name, v in res["photo_round_trip"].items():
            label = "MAU (chelsea)" if name == "chelsea" else name
            was = PHOTO_BEFORE.get(name)
            lines.append(f"| {label} (held-out photo) | {v['ssim']:.3f} | {v['ciede2000']:.1f} | "
                         f"{f'{was[0]:.3f}, {was[1]:.1f}' if was else ''} |")
        d = res["drawn_round_trip"]
        lines.append(f"| {d['n']} generator pictures, half close-ups (median) | {d['ssim']:.3f} | "
                     f"{d['ciede2000']:.1f} | {DRAWN_BEFORE['ssim']:.3f}, {DRAWN_BEFORE['ciede2000']:.1f} |")
    if "photo_image_to_image" in res:
        lines += ["", "Image-to-image on held-out photos, prompts of `tradeoff_prompt`, 20 steps, guidance "
                  "7.5, seeds 0-7: median identity (grey-level SSIM against the photo at 64 x 64) / share of "
                  "pictures whose style the tiny CLIP reads as asked.", ""]
        strengths = [r["strength"] for r in next(iter(res["photo_image_to_image"].values()))]
        lines += ["| photo / style / working size | " + " | ".join(f"{s:g}" for s in strengths) + " | chosen |",
                  "|---|" + "---|" * (len(strengths) + 1)]
        for key, rows in res["photo_image_to_image"].items():
            best = best_strength(rows)
            cells = [f"{r['identity']:.2f} / {r['style_pct']:.0f} %" for r in rows]
            lines.append(f"| {key.replace('chelsea', 'MAU')} px | " + " | ".join(cells) +
                         f" | {best if best is not None else 'none'} |")
    lines += ["", "| bound | pixel rules | tiny CLIP | met |", "|---|---|---|---|"]
    for label, p, c, ok in check_bounds(res):
        lines.append(f"| {label} | {p} | {c} | {'yes' if ok else '**NOT met**'} |")
    return "\n".join(lines)


def wilson_interval(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a rate of k successes in n tries (95 % for z = 1.96).

    A rate measured on n pictures carries chance: 40 of 48 right is 83 %, but a model whose true rate
    is 71 % or 91 % would often score that too. The interval says how far the figure could move on
    a fresh set of prompts and seeds; unlike p +- z*sqrt(p(1-p)/n) it stays inside [0, 1] and does not
    shrink to nothing at 0 or n of n.
    """
    if n <= 0:
        raise ValueError(f"n must be positive, not {n}")
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


# What a model must reach at the default settings (20 steps, guidance 7.5), by both judges
BOUNDS = {"seen": 90.0, "held_out": 80.0, "guidance_gap": 15.0}
# The autoencoder on held-out photos at 64 x 64, and on drawn cats: at least as well as the autoencoder
# trained on drawn cats alone did on the same 192 generator pictures (medians 0.883 and 5.66)
PHOTO_BOUNDS = {"ssim": 0.80, "ciede2000": 6.0}
DRAWN_BEFORE = {"ssim": 0.883, "ciede2000": 5.66}
# The first-stage autoencoder (drawn cats only) on the held-out photos, measured by `photo_round_trip`
PHOTO_BEFORE = {"chelsea": (0.647, 17.45), "coffee": (0.647, 14.22), "rocket": (0.517, 29.42),
                "grace_hopper": (0.549, 16.61)}


def check_bounds(res: dict) -> list[tuple[str, str, str, bool]]:
    """(bound, pixel-rule figure, CLIP figure, met?) for each of the model's bounds, from `evaluate`'s result."""
    out = []
    n = {"seen": res["settings"]["n_seen"], "held_out": res["settings"]["n_held_out"]}
    for name, what in (("seen", "seen"), ("held_out", "held-out")):
        a = [res[f"adherence_{name}_g7.5"][j]["all"] for j in ("pixels", "clip")]
        fig = []
        for v in a:
            k = round(v * n[name] / 100)
            lo, hi = wilson_interval(k, n[name])
            fig.append(f"{v:.1f} % ({k} of {n[name]}; 95 % interval {100 * lo:.0f}-{100 * hi:.0f})")
        out.append((f"adherence, {what} combinations, guidance 7.5: at least {BOUNDS[name]:.0f} %", *fig,
                    min(a) >= BOUNDS[name]))
    for name, what in (("seen", "seen"), ("held_out", "held-out")):
        gap = [res[f"adherence_{name}_g7.5"][j]["all"] - res[f"adherence_{name}_g1.0"][j]["all"]
               for j in ("pixels", "clip")]
        out.append((f"guidance 1.0 below 7.5, {what} combinations: at least {BOUNDS['guidance_gap']:.0f} points",
                    *(f"{g:.1f} points" for g in gap), min(gap) >= BOUNDS["guidance_gap"]))
    out.append(("same seed, same bytes", str(res["same_seed_same_bytes"]), "", bool(res["same_seed_same_bytes"])))
    if "4" in res.get("fast", {}):
        for name, what in (("seen", "seen"), ("held_out", "held-out")):
            drop = [res[f"adherence_{name}_g7.5"][j]["all"] - res["fast"]["4"][name][j]["all"]
                    for j in ("pixels", "clip")]
            out.append((f"few-step model at 4 steps, {what} combinations: at most {FAST_BOUND:g} points below the "
                         "20-step model", *(f"{d:.1f} points below" if d > 0 else f"{-d:.1f} points above"
                                            for d in drop), max(drop) <= FAST_BOUND))
    for name, v in res.get("photo_round_trip", {}).items():
        label = "MAU" if name == "chelsea" else name
        out.append((f"round trip of {label}: SSIM at least {PHOTO_BOUNDS['ssim']:.2f}, CIEDE2000 at most "
                    f"{PHOTO_BOUNDS['ciede2000']:g}", f"SSIM {v['ssim']:.3f}, CIEDE2000 {v['ciede2000']:.1f}", "",
                    v["ssim"] >= PHOTO_BOUNDS["ssim"] and v["ciede2000"] <= PHOTO_BOUNDS["ciede2000"]))
    if "drawn_round_trip" in res:
        d = res["drawn_round_trip"]
        out.append((f"round trip of drawn cats as good as before (SSIM {DRAWN_BEFORE['ssim']}, CIEDE2000 "
                    f"{DRAWN_BEFORE['ciede2000']})", f"SSIM {d['ssim']:.3f}, CIEDE2000 {d['ciede2000']:.2f}", "",
                    d["ssim"] >= DRAWN_BEFORE["ssim"] and d["ciede2000"] <= DRAWN_BEFORE["ciede2000"]))
    for style in TRADEOFF_STYLES if "photo_image_to_image" in res else ():
        found = [f"{best_strength(rows)} at {key.split('/')[2]} px" for key, rows in res["photo_image_to_image"].items()
                 if key.startswith(f"chelsea/{style}/") and best_strength(rows) is not None]
        out.append((f"MAU in {style} style: a strength with median identity at least {TRADEOFF['identity']} and the "
                    f"style in at least {TRADEOFF['style_pct']:.0f} % of pictures",
                    "strength " + ", ".join(found) if found else "none", "", bool(found)))
    return out


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="fewer pictures (a smoke test)")
    a = p.parse_args(argv)
    t0 = time.perf_counter()
    res = evaluate(quick=a.quick)
    res["seconds"] = round(time.perf_counter() - t0, 1)
    table = format_table(res)
    print(table)
    if not a.quick:
        (MODEL_DIR / "eval.json").write_text(json.dumps(res, indent=1))
        (MODEL_DIR / "eval.md").write_text(table + "\n")
        from .card import write_card

        write_card()
    print(f"\n({res['seconds']} s; 'all' = fur, background and style all match; in manga style fur is a tone)")


if __name__ == "__main__":
    main()
