"""How a prompt steers the picture: tokens, text embeddings, cross-attention maps, scoring, rewriting.

Taught in: chapter 3 (How language models condition the picture), on both paths.

Every helper of the chapter is reachable here as ``cu.conditioning.X``. Three groups live in
modules of their own:

- tokens and text embeddings (`text_encoding`): `token_table`, `word_positions`, `unknown_words`
  and `encode_prompts`, which returns the *sequence* of token embeddings;
- cross-attention maps (`attention_maps`): `CrossAttentionRecorder`, `record_cross_attention`,
  `token_heatmaps`, `overlay` and `subject_mask`;
- reading a prompt by rules (`prompt_rules`): `parse_prompt`, `rewrite_prompt` (a *rule-based
  stand-in* for the language model real systems use to expand a short prompt), `check_understood`,
  `asked_for` and `shown_count`.

This module holds the rest:

- pictures and scoring: `draw_prompts` draws several prompts from one seed, `load_judge` loads the
  embedded model's own CLIP, and `rank_by_clip` orders pictures by CLIP score;
- one-call views for the practical path: `embedding_figure` (the table of numbers a prompt becomes),
  `prompt_explorer` (a prompt box with a seed slider), `one_word_grid` (change one word, keep the
  seed), `best_of` (make several tries, keep the best, checked by pixel rules) and
  `compare_rewrites` (a prompt as typed and rewritten).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image

from .attention_maps import (
    CrossAttentionRecorder,
    RecordedAttention,
    overlay,
    record_cross_attention,
    subject_mask,
    token_heatmaps,
)
from .device import cpu_threads
from .errors import CourseInputError
from .prompt_rules import (
    BG_SYNONYMS,
    DEFAULTS,
    FUR_SYNONYMS,
    STYLE_SYNONYMS,
    asked_for,
    check_understood,
    parse_prompt,
    rewrite_prompt,
    shown_count,
)
from .text_encoding import check_text, encode_prompts, token_table, unknown_words, word_positions

__all__ = [
    "BG_SYNONYMS",
    "DEFAULTS",
    "FUR_SYNONYMS",
    "STYLE_SYNONYMS",
    "BestOf",
    "asked_for",
    "CrossAttentionRecorder",
    "RecordedAttention",
    "RewriteComparison",
    "best_of",
    "best_of_verdict",
    "check_understood",
    "compare_rewrites",
    "draw_prompts",
    "embedding_figure",
    "encode_prompts",
    "load_judge",
    "one_word_grid",
    "overlay",
    "parse_prompt",
    "prompt_explorer",
    "shown_count",
    "rank_by_clip",
    "record_cross_attention",
    "rewrite_prompt",
    "subject_mask",
    "token_heatmaps",
    "token_table",
    "unknown_words",
    "word_positions",
]


# --------------------------------------------------------------------------------------------
# 4. Scoring with CLIP, and rewriting prompts
# --------------------------------------------------------------------------------------------


def load_judge():
    """
    The embedded model's own CLIP (text tower + image tower), as a `minisd.metrics.ClipJudge`.

    Its text tower has the same weights as the pipeline's text encoder. Loaded once per kernel,
    without progress bars.

    Taught in: chapter 3 (CLIP), chapter 7 (prompt adherence).
    """
    global _JUDGE
    if _JUDGE is None:
        from .minisd.metrics import ClipJudge

        _JUDGE = ClipJudge.load()  # loads quietly: ClipJudge.load hides the progress bar itself
    return _JUDGE


_JUDGE = None


def draw_prompts(prompts: Sequence[str], seed: int = 0, pipe=None, steps: int | None = None,
                 guidance: float | None = None) -> list[Image.Image]:
    """
    One picture per prompt, all from the **same** starting noise (`seed`), in one batched call.

    Keeping the seed and changing only the words is how chapter 3 shows what a word does. Each
    picture equals ``text_to_image(prompt, seed=seed)`` up to float rounding (a pixel value or so),
    and a batch is faster on a CPU than one call per prompt.

    Taught in: chapter 3 (one changed word at a time).

    Args:
        prompts (list of `str`): 1 to 16 prompts.
        seed (`int`): the seed of the starting noise, shared by every picture.
        pipe: a text-to-image pipeline (default: `load_pipeline()`); steps and guidance default to the model's.

    Returns:
        `list[PIL.Image.Image]`: one picture per prompt, in order.
    """
    from .generate import MAX_IMAGES, check_inputs
    from .models import load_pipeline, model_defaults, picture_size

    if isinstance(prompts, str) or not isinstance(prompts, Sequence) or not 1 <= len(prompts) <= MAX_IMAGES:
        raise CourseInputError(f"prompts must be a list of 1 to {MAX_IMAGES} prompts, got {prompts!r}.")
    pipe = pipe or load_pipeline(verbose=False)
    default_steps, default_guidance = model_defaults(pipe)
    steps = steps if steps is not None else default_steps
    guidance = guidance if guidance is not None else default_guidance
    size = picture_size(pipe)
    checked = [check_inputs(pipe, prompt=p, steps=steps, guidance=guidance, seed=seed, height=size, width=size)
               for p in prompts]
    c = checked[0]
    with torch.inference_mode(), cpu_threads(pipe.unet):
        return list(pipe([k["prompt"] for k in checked], num_inference_steps=c["steps"], guidance_scale=c["guidance"],
                         height=c["height"], width=c["width"],
                         generator=[torch.Generator("cpu").manual_seed(c["seed"]) for _ in checked]).images)


def rank_by_clip(images: Sequence[Image.Image], prompt: str, judge=None) -> list[tuple[int, float]]:
    """
    Order pictures by CLIP score against `prompt`, best first.

    The CLIP score is 100 × the cosine similarity between the picture's and the prompt's CLIP
    features (0 when negative).

    Taught in: chapter 3 (the feedback loop: make several, keep the best).

    Returns:
        `list[tuple[int, float]]`: (index into `images`, score), highest score first.
    """
    prompt = check_text(prompt)
    if not images:
        raise CourseInputError("rank_by_clip got no pictures.")
    judge = judge or load_judge()
    scores = judge.score(list(images), [prompt] * len(images)).tolist()
    return sorted(enumerate(scores), key=lambda p: -p[1])


# --------------------------------------------------------------------------------------------
# 5. One-call views for the practical path
# --------------------------------------------------------------------------------------------


def _is_embedded(pipe) -> bool:
    from .models import model_info

    return model_info(pipe).key == "embedded"


def _short(text: str, n: int = 26) -> str:
    return text if len(text) <= n else text[:n] + "…"


def embedding_figure(pipe, prompt: str):
    """
    What the text encoder hands the U-Net for `prompt`, as a heat map: one row per position (the start
    token, each piece, the end token), one column per number of the row; red positive, blue negative.

    Taught in: chapter 3 (practical path: what the translator hands the artist).

    Returns:
        `matplotlib.figure.Figure`, closed in pyplot: a cell shows it when it is the cell's last value.
    """
    import matplotlib.pyplot as plt

    pieces = [p.replace("</w>", "") for p in pipe.tokenizer.tokenize(check_text(prompt))]
    table = encode_prompts(pipe, [prompt])[0].float().cpu()
    pieces = pieces[: table.shape[0] - 2]  # a prompt longer than the sequence is cut
    labels = ["(start)"] + pieces + ["(end)"]
    fig, ax = plt.subplots(figsize=(9, 1.2 + 0.24 * len(labels)))
    im = ax.imshow(table[: len(labels)].numpy(), aspect="auto", cmap="RdBu_r", vmin=-3, vmax=3,
                   interpolation="nearest")
    ax.set_yticks(range(len(labels)), labels)
    ax.set(title="What the translator hands the artist: one row of numbers per piece",
           xlabel=f"number 1 … {table.shape[1]} of each row", ylabel="piece of the prompt")
    fig.colorbar(im, ax=ax, label="value", fraction=0.03)
    fig.tight_layout()
    plt.close(fig)
    return fig


def prompt_explorer(pipe=None, judge=None, prompt: str = "a ginger cat in cartoon style on a blue background",
                    max_seed: int = 50, save_dir=None):
    """
    A prompt box and a seed slider around one picture, with a Save button.

    The picture is redrawn when the typing ends (Enter, or leaving the box) or the slider moves; a
    setting seen before comes from a cache. Under the picture: its CLIP score against the prompt (the
    embedded model's judge), how many pieces the prompt used, and which words the model does not know.

    Taught in: chapter 3 (practical path: a prompt box).

    Args:
        pipe: a text-to-image pipeline (default: `load_pipeline()`).
        judge: a `ClipJudge` (default: `load_judge()`).
        prompt (`str`): the first prompt shown.
        max_seed (`int`, defaults to 50): the seed slider runs from 0 to this.
        save_dir (folder, *optional*): where Save writes (default: ``output_dir("03_text_conditioning")``).

    Returns:
        `ipywidgets.VBox` to display, with ``.explorer`` (the `widgets.ImageExplorer`), ``.prompt_box``
        (the text box), ``.save`` (the save button's box) and ``.scores`` (CLIP score per (prompt, seed)).
    """
    import ipywidgets as W

    from .generate import text_to_image
    from .models import load_pipeline
    from .paths import output_dir
    from .widgets import ImageExplorer, save_button, slider

    pipe = pipe or load_pipeline(verbose=False)
    judge = judge or load_judge()
    folder = save_dir if save_dir is not None else output_dir("03_text_conditioning")
    scores: dict[tuple[str, int], float] = {}

    def draw(prompt, seed):
        picture = text_to_image(prompt, pipe=pipe, seed=seed).image
        scores[(prompt, seed)] = float(judge.score([picture], [prompt])[0])
        return picture

    def describe(prompt, seed):
        unknown = unknown_words(pipe.tokenizer, prompt)
        return (f"CLIP score {scores.get((prompt, seed), float('nan')):.1f} · "
                f"{len(pipe.tokenizer.tokenize(prompt))} pieces"
                + (f" · unknown to the model: {', '.join(unknown)}" if unknown else ""))

    box = W.Text(value=check_text(prompt), description="prompt", continuous_update=False,
                 layout=W.Layout(width="420px"))
    explorer = ImageExplorer(draw, {"prompt": box, "seed": slider("seed", 0, 0, max_seed)}, scale=4,
                             caption=describe, title="Try wordings")

    def file_name():
        values = explorer.values()
        stem = "".join(ch if ch.isalnum() else "_" for ch in values["prompt"])[:40] or "empty_prompt"
        return Path(folder) / f"{stem}_seed{values['seed']}.png"

    save = save_button(lambda: explorer.last_image, file_name)
    view = W.VBox([explorer.box, save])
    view.explorer, view.prompt_box, view.save, view.scores = explorer, box, save, scores
    return view


def one_word_grid(base: dict[str, str], changes: dict[str, Sequence[str]], seed: int = 0, pipe=None, judge=None):
    """
    Rows of pictures from one seed, each picture changing one attribute of `base` and nothing else.

    Row ``k`` holds one picture per value in ``changes[attribute]``, drawn from
    ``minisd.data.prompt_for(**{**base, attribute: value})``; each title gives the value and the
    picture's CLIP score against its own prompt.

    Taught in: chapter 3 (practical path: one word at a time).

    Args:
        base (`dict`): ``{"fur": ..., "background": ..., "style": ...}``, the words the model knows.
        changes (`dict`): attribute -> values, e.g. ``{"fur": ["brown", "ginger"]}``; 16 pictures at most.
        seed (`int`): the starting noise shared by every picture.

    Returns:
        `matplotlib.figure.Figure` (closed in pyplot).
    """
    from .layout import figure_grid
    from .minisd.data import prompt_for

    for attribute in changes:
        if attribute not in ("fur", "background", "style"):
            raise CourseInputError(f"changes has {attribute!r}; use 'fur', 'background' or 'style'.")
    judge = judge or load_judge()
    prompts = [prompt_for(**{**base, attribute: v}) for attribute, values in changes.items() for v in values]
    pictures = draw_prompts(prompts, seed=seed, pipe=pipe)
    scores = judge.score(pictures, prompts).tolist()
    rows, titles, k = [], [], 0
    for values in changes.values():
        rows.append(pictures[k: k + len(values)])
        titles.append([f"{v}\nCLIP {s:.0f}" for v, s in zip(values, scores[k: k + len(values)])])
        k += len(values)
    labels = {"fur": "fur colour", "background": "background", "style": "style"}
    return figure_grid(rows, titles=titles, row_labels=[labels[a] for a in changes], size=1.9,
                        suptitle=f"One changed word per picture (seed {seed})")


def _read_pixels(picture: Image.Image) -> dict[str, str]:
    from .minisd.data import SIZE
    from .minisd.metrics import classify_pixels

    return classify_pixels(picture.convert("RGB").resize((SIZE, SIZE), Image.Resampling.BILINEAR))


@dataclass
class BestOf:
    """What `best_of` made and measured. ``order`` lists indices into ``pictures``, best score first;
    ``shown[i]`` is how many of the things ``asked`` the pixel rules read in picture ``i`` (``None``
    when the rules were not used: they read the course's own model only)."""

    prompt: str
    seeds: list[int]
    pictures: list[Image.Image]
    scores: list[float]
    order: list[int]
    asked: dict[str, str]
    shown: list[int] | None
    figure: object
    verdict: str


def best_of(prompt: str, n: int = 6, seed: int = 0, guidance: float | None = None, pipe=None,
            judge=None) -> BestOf:
    """
    The simplest feedback loop: make `n` tries of one prompt, score each with the CLIP judge, best first.

    Try ``i`` starts from seed ``seed + i``. With the course's embedded model, fixed pixel rules
    (`minisd.metrics.classify_pixels`, no model at all) also read each try's fur, background and
    style, so the judge's ranking can be checked against a referee that shares none of its blind spots.
    Each title gives the rank, the seed, the CLIP score and, with the embedded model, how many of the
    things the prompt names the pixels show. ``verdict`` says, from those numbers, what the judge picked
    and whether the two referees agree.

    Taught in: chapter 3 (practical path: a judge, and keeping the best of several tries).

    Args:
        prompt (`str`): the prompt.
        n (`int`, defaults to 6): how many tries, 2 to 16.
        seed (`int`): the first try's seed.
        guidance (`float`, *optional*): the guidance scale (default: the model's; chapter 7).
        pipe, judge: a pipeline and a `ClipJudge` (defaults: `load_pipeline()`, `load_judge()`).

    Returns:
        `BestOf`, with ``.figure`` (one row, best first) and ``.verdict`` (text).
    """
    from .generate import MAX_IMAGES, text_to_image
    from .layout import figure_grid
    from .models import load_pipeline

    prompt = check_text(prompt)
    if isinstance(n, bool) or not isinstance(n, int) or not 2 <= n <= MAX_IMAGES:
        raise CourseInputError(f"n={n!r} must be a whole number of tries from 2 to {MAX_IMAGES}.")
    pipe = pipe or load_pipeline(verbose=False)
    judge = judge or load_judge()
    pictures = text_to_image(prompt, pipe=pipe, seed=seed, guidance=guidance, num_images=n).images
    seeds = [seed + i for i in range(n)]
    ranking = rank_by_clip(pictures, prompt, judge)
    order, scores = [i for i, _ in ranking], [0.0] * n
    for i, s in ranking:
        scores[i] = float(s)
    asked = asked_for(prompt)
    shown = None
    if _is_embedded(pipe) and asked:
        shown = [shown_count(_read_pixels(p), asked) for p in pictures]
    titles = [f"#{r + 1} · seed {seeds[i]}\nCLIP {scores[i]:.0f}"
              + (f" · {shown[i]} of {len(asked)}" if shown is not None else "") for r, i in enumerate(order)]
    figure = figure_grid([[pictures[i] for i in order]], titles=[titles], size=1.6,
                         suptitle=f"'{prompt}': {n} tries, best CLIP score first")
    return BestOf(prompt, seeds, pictures, scores, order, asked, shown, figure,
                  best_of_verdict(seeds, scores, order, asked, shown))


def _points(n: int) -> str:
    return f"{n} point" + ("" if n == 1 else "s")


def best_of_verdict(seeds, scores, order, asked, shown) -> str:
    """What `best_of` found, in words: the judge's favourite and, with the pixel rules, whether the two
    referees agree."""
    scores = [round(s) for s in scores]  # compare the numbers as the titles print them
    best, worst = order[0], order[-1]
    lines = [f"The judge's favourite is seed {seeds[best]} (CLIP {scores[best]:.0f}); its least favourite is seed "
             f"{seeds[worst]} (CLIP {scores[worst]:.0f}): {_points(scores[best] - scores[worst])} apart."]
    if shown is None:
        lines.append("(The pixel rules that double-check the judge read only the course's own model's pictures.)")
        return "\n".join(lines)
    k = len(asked)
    full = [i for i in order if shown[i] == k]
    missing = [i for i in order if shown[i] < k]
    lines.append(f"The pixel rules find all {k} things asked for ({', '.join(asked.values())}) in {len(full)} of "
                 f"{len(order)} tries; the judge's favourite shows {shown[best]} of {k}.")
    if not full:
        lines.append(f"No try shows all {k}: keeping the best cannot make up for that; more tries or another "
                     "wording might.")
    elif not missing:
        lines.append(f"Every try shows all {k}: the judge has nothing real to choose between, and keeping the "
                     "best changes little.")
    elif min(scores[i] for i in full) > max(scores[i] for i in missing):
        lines.append(f"Every try that shows all {k} scores higher than every try that misses something: here the "
                     "judge and the pixel rules agree, and keeping the best pays.")
    else:
        hi = max(missing, key=lambda i: scores[i])
        lo = min(full, key=lambda i: scores[i])
        lines.append(f"The two referees disagree on some tries: seed {seeds[hi]} misses something yet scores "
                     f"{scores[hi]:.0f}, above seed {seeds[lo]}, which shows all {k} and scores {scores[lo]:.0f}.")
    return "\n".join(lines)


@dataclass
class RewriteComparison:
    """What `compare_rewrites` made: for each prompt as typed, its rewrite, both pictures and both
    CLIP scores (each against the rewritten prompt, rounded to whole numbers as they are printed)."""

    typed: list[str]
    rewritten: list[str]
    pictures: list[tuple[Image.Image, Image.Image]]
    scores: list[tuple[int, int]]
    figure: object
    table: str
    verdict: str


def compare_rewrites(prompts: Sequence[str], seed: int = 1, pipe=None, judge=None) -> RewriteComparison:
    """
    Each prompt as typed and after `rewrite_prompt`, drawn from the same seed and both scored against the
    rewritten prompt, which spells out what the short one meant.

    Taught in: chapter 3 (practical path: a language model that rewrites your prompt, and its Try it).

    Args:
        prompts (list of `str`): 1 to 8 prompts in your own words.
        seed (`int`): the starting noise shared by all pictures.

    Returns:
        `RewriteComparison`, with ``.table`` (Markdown: typed and rewritten prompts), ``.figure`` (one row
        per prompt: as typed, rewritten) and ``.verdict`` (text, from the scores).
    """
    from .layout import figure_grid

    if isinstance(prompts, str) or not isinstance(prompts, Sequence) or not 1 <= len(prompts) <= 8:
        raise CourseInputError(f"prompts must be a list of 1 to 8 prompts, got {prompts!r}.")
    typed = [check_text(p) for p in prompts]
    rewritten = [rewrite_prompt(p) for p in typed]
    judge = judge or load_judge()
    drawn = draw_prompts(typed + rewritten, seed=seed, pipe=pipe)
    n = len(typed)
    pictures = [(drawn[k], drawn[n + k]) for k in range(n)]
    scores = []  # whole numbers, as the titles and the verdict print them
    for k in range(n):
        s = judge.score(list(pictures[k]), [rewritten[k]] * 2).tolist()
        scores.append((round(s[0]), round(s[1])))
    titles = [[f"'{_short(t)}'\nCLIP {a:.0f}", f"rewritten\nCLIP {b:.0f}"] for t, (a, b) in zip(typed, scores)]
    figure = figure_grid([list(p) for p in pictures], titles=titles, size=1.9,
                         suptitle=f"As typed (left) and rewritten (right), seed {seed}")
    table = "| you write | the stand-in writes |\n|---|---|\n" + "\n".join(
        f"| {t.replace('|', '/')} | {r} |" for t, r in zip(typed, rewritten))
    raised = sum(b > a for a, b in scores)
    changes = ", ".join(f"{a:.0f} → {b:.0f}" for a, b in scores)
    if n == 1:
        a, b = scores[0]
        verb = "raised" if b > a else ("left" if b == a else "lowered")
        verdict = f"Rewriting {verb} the CLIP score ({changes}), both judged against the rewritten prompt."
    else:
        verdict = (f"Rewriting raised the CLIP score for {raised} of {n} prompts ({changes}), all judged against "
                   "the rewritten prompts.")
    return RewriteComparison(typed, rewritten, pictures, scores, figure, table, verdict)
