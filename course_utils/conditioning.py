"""How a prompt steers the picture: tokens, text embeddings, cross-attention maps, scoring, rewriting.

Taught in: chapter 3 (How language models condition the picture), on both paths.

Five groups of helpers live here:

- tokens: `token_table` lists the pieces, ids and padding a tokenizer makes of a prompt, and
  `word_positions` finds the token positions of a word inside the padded sequence;
- text embeddings: `encode_prompts` runs the text encoder as Stable Diffusion pipelines do and
  returns the *sequence* of token embeddings (one vector per token, not one per prompt);
- cross-attention maps: `CrossAttentionRecorder` is a diffusers attention processor that computes
  ``softmax(Q Kᵀ / √d) V`` by hand and keeps the attention weights; `record_cross_attention`
  installs it on the U-Net's cross-attention layers (``attn2``) for the length of a ``with`` block
  and puts the original processors back afterwards; `token_heatmaps` averages the kept maps over
  heads, layers and steps, `overlay` lays one over a picture and `subject_mask` finds the cat;
- pictures, scoring and rewriting: `draw_prompts` draws several prompts from one seed, `load_judge`
  loads the embedded model's own CLIP, `rank_by_clip` orders pictures by CLIP score, and
  `rewrite_prompt` is a *rule-based stand-in* for the language model that real systems use to
  expand a short prompt into a detailed one;
- one-call views for the practical path: `embedding_figure` (the table of numbers a prompt becomes),
  `prompt_explorer` (a prompt box with a seed slider), `one_word_grid` (change one word, keep the
  seed), `best_of` (make several tries, keep the best, checked by pixel rules), `compare_rewrites`
  (a prompt as typed and rewritten) and `check_understood` (the Try it's friendly check).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from .device import cpu_threads
from .errors import CourseInputError

__all__ = [
    "BestOf",
    "asked_for",
    "CrossAttentionRecorder",
    "RecordedAttention",
    "RewriteComparison",
    "best_of",
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


def _check_text(text, name: str = "prompt") -> str:
    if not isinstance(text, str):
        raise CourseInputError(f"{name} must be text (a str), not {type(text).__name__}: {text!r}.")
    if len(text) > 2000:
        raise CourseInputError(f"{name} is {len(text)} characters long; keep it under 2000.")
    return text


# --------------------------------------------------------------------------------------------
# 1. Tokens
# --------------------------------------------------------------------------------------------


def token_table(tokenizer, prompt: str, max_length: int | None = None) -> list[dict]:
    """
    What the tokenizer makes of `prompt`, one row per position of the padded sequence.

    Taught in: chapter 3 (tokenization).

    Args:
        tokenizer: a Hugging Face tokenizer such as `transformers.CLIPTokenizer` (``pipe.tokenizer``).
        prompt (`str`): the text.
        max_length (`int`, *optional*): the sequence length; defaults to ``tokenizer.model_max_length``.

    Returns:
        `list[dict]`: for each position ``{"position", "id", "piece", "kind"}``, where ``kind`` is
        ``"start"``, ``"text"``, ``"end"`` or ``"padding"``. Text beyond the length is cut off
        (truncation), and the end token is kept as the last position.
    """
    prompt = _check_text(prompt)
    n = int(max_length or tokenizer.model_max_length)
    ids = tokenizer(prompt, padding="max_length", max_length=n, truncation=True).input_ids
    pieces = tokenizer.convert_ids_to_tokens(ids)
    first_end = ids.index(tokenizer.eos_token_id) if tokenizer.eos_token_id in ids else len(ids)
    rows = []
    for i, (tid, piece) in enumerate(zip(ids, pieces)):
        if i == 0 and tid == tokenizer.bos_token_id:
            kind = "start"
        elif i < first_end:
            kind = "text"
        elif i == first_end:
            kind = "end"
        else:
            kind = "padding"
        rows.append({"position": i, "id": int(tid), "piece": piece, "kind": kind})
    return rows


def word_positions(tokenizer, prompt: str, word: str) -> list[int]:
    """
    Positions (in the padded sequence, start token = 0) of the pieces of every occurrence of `word`.

    A word the tokenizer knows is one piece (one position); an unknown word is several.

    Taught in: chapter 3 (cross-attention maps per token).

    Raises:
        `CourseInputError`: if `word` does not occur in `prompt` as a whole word.
    """
    prompt, word = _check_text(prompt), _check_text(word, "word")
    words = re.findall(r"[^\s]+", prompt.lower())
    target = word.lower().strip()
    if target not in [w.strip(".,;:!?") for w in words]:
        raise CourseInputError(f"word={word!r} is not a word of the prompt {prompt!r}; pick one of {words}.")
    positions, pos = [], 1  # position 0 is the start token
    for w in prompt.split():
        n = len(tokenizer.tokenize(w))
        if w.lower().strip(".,;:!?") == target:
            core = len(tokenizer.tokenize(w.strip(".,;:!?")))  # leave out a trailing comma's piece
            positions.extend(range(pos, pos + core))
        pos += n
    limit = int(tokenizer.model_max_length) - 1  # the last position holds the end token
    kept = [p for p in positions if p < limit]
    if not kept:
        raise CourseInputError(f"word={word!r} lies beyond the first {limit - 1} tokens: the tokenizer cut it off.")
    return kept


# --------------------------------------------------------------------------------------------
# 2. Text embeddings
# --------------------------------------------------------------------------------------------


@torch.no_grad()
def encode_prompts(pipe, prompts: Sequence[str]) -> torch.Tensor:
    """
    The text encoder's output for each prompt: a sequence of token embeddings.

    Tokenizes as Stable Diffusion pipelines do (padded to ``model_max_length``, truncated) and
    returns the last hidden state, not the pooled vector.

    Taught in: chapter 3 (the text encoder).

    Returns:
        `torch.Tensor` of shape ``(len(prompts), model_max_length, hidden_size)``: (N, 32, 128) for
        the embedded model, (N, 77, 768) for Stable Diffusion 1.x.
    """
    if isinstance(prompts, str):
        prompts = [prompts]
    prompts = [_check_text(p) for p in prompts]
    tok = pipe.tokenizer
    ids = tok(prompts, padding="max_length", max_length=tok.model_max_length, truncation=True,
              return_tensors="pt").input_ids
    return pipe.text_encoder(ids.to(pipe.text_encoder.device))[0]


# --------------------------------------------------------------------------------------------
# 3. Cross-attention maps
# --------------------------------------------------------------------------------------------


@dataclass
class RecordedAttention:
    """
    Cross-attention weights kept while a ``record_cross_attention`` block ran.

    ``maps[layer]`` is a list with one tensor per U-Net call, of shape
    ``(batch, heads, h, w, tokens)``: for each picture in the batch, each head and each latent
    position, how the attention of that position is shared among the tokens (it sums to 1 over
    tokens). With classifier-free guidance the batch is ``[empty prompt, prompt]``.
    """

    maps: dict[str, list[torch.Tensor]] = field(default_factory=dict)

    def layers(self, resolution: int | None = None) -> list[str]:
        """Names of the layers that recorded something, optionally only those at ``resolution``."""
        return [k for k, v in self.maps.items() if v and (resolution is None or v[0].shape[2] == resolution)]

    @property
    def resolutions(self) -> list[int]:
        return sorted({v[0].shape[2] for v in self.maps.values() if v})

    @property
    def calls(self) -> int:
        """How many U-Net calls were recorded (each layer records once per call)."""
        return max((len(v) for v in self.maps.values()), default=0)


class CrossAttentionRecorder:
    """
    A diffusers attention processor that computes attention by hand and keeps the weights.

    ``Attention(x, c) = softmax(Q Kᵀ / √d) V`` with ``Q = x W_Q`` from the picture's features and
    ``K = c W_K``, ``V = c W_V`` from the text's token embeddings. The weights ``softmax(Q Kᵀ / √d)``
    (one row per picture position, one column per token) are appended to ``store.maps[name]``.
    The output equals diffusers' `AttnProcessor` (and `AttnProcessor2_0` up to float rounding).

    Taught in: chapter 3 (cross-attention maps).
    """

    def __init__(self, store: RecordedAttention, name: str):
        self.store = store
        self.name = name

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, temb=None,
                 *args, **kwargs):
        residual = hidden_states
        if attn.spatial_norm is not None:
            hidden_states = attn.spatial_norm(hidden_states, temb)
        input_ndim = hidden_states.ndim
        if input_ndim == 4:  # (B, C, h, w) -> (B, h·w, C)
            b, c, h, w = hidden_states.shape
            hidden_states = hidden_states.view(b, c, h * w).transpose(1, 2)
        batch, n_pix, _ = hidden_states.shape
        if encoder_hidden_states is None:  # self-attention: nothing to record, but still correct
            encoder_hidden_states = hidden_states
        elif attn.norm_cross:
            encoder_hidden_states = attn.norm_encoder_hidden_states(encoder_hidden_states)
        if attn.group_norm is not None:
            hidden_states = attn.group_norm(hidden_states.transpose(1, 2)).transpose(1, 2)
        heads = attn.heads
        # 1. Q from the picture, K and V from the text: (B, heads, positions, d)
        q = attn.to_q(hidden_states)
        k = attn.to_k(encoder_hidden_states)
        v = attn.to_v(encoder_hidden_states)
        d = q.shape[-1] // heads
        q, k, v = (t.view(batch, -1, heads, d).transpose(1, 2) for t in (q, k, v))
        # 2. A = softmax(Q Kᵀ / √d): for each picture position, weights over the tokens
        scores = (q @ k.transpose(-1, -2)) * attn.scale  # attn.scale = 1/√d
        if attention_mask is not None:
            mask = attn.prepare_attention_mask(attention_mask, k.shape[2], batch)
            scores = scores + mask.view(batch, heads, -1, k.shape[2])
        weights = scores.softmax(dim=-1)  # (B, heads, h·w, tokens)
        # 3. keep the weights as (B, heads, h, w, tokens) when the layer reads text (cross-attention)
        if encoder_hidden_states is not hidden_states and input_ndim == 4:
            self.store.maps.setdefault(self.name, []).append(
                weights.detach().float().cpu().reshape(batch, heads, h, w, -1))
        elif encoder_hidden_states is not hidden_states:
            side = int(round(n_pix ** 0.5))
            if side * side == n_pix:
                self.store.maps.setdefault(self.name, []).append(
                    weights.detach().float().cpu().reshape(batch, heads, side, side, -1))
        # 4. out = A V, heads joined again, then the output projection
        out = (weights @ v).transpose(1, 2).reshape(batch, -1, heads * d)
        out = attn.to_out[1](attn.to_out[0](out))
        if input_ndim == 4:
            out = out.transpose(-1, -2).reshape(b, c, h, w)
        if attn.residual_connection:
            out = out + residual
        return out / attn.rescale_output_factor


@contextlib.contextmanager
def record_cross_attention(unet):
    """
    Record the cross-attention weights of every ``attn2`` layer of `unet` inside a ``with`` block.

    On entry, each cross-attention processor is replaced by a `CrossAttentionRecorder`; on exit
    (even after an error) the original processors are put back.

    Taught in: chapter 3 (cross-attention maps).

    Example:
        >>> with record_cross_attention(pipe.unet) as rec:
        ...     pipe("a ginger cat", num_inference_steps=20)
        >>> rec.resolutions   # [4, 8] for the embedded model

    Yields:
        `RecordedAttention`: filled while the block runs.
    """
    original = dict(unet.attn_processors)
    store = RecordedAttention()
    new = {name: (CrossAttentionRecorder(store, name.removesuffix(".processor")) if ".attn2." in name else proc)
           for name, proc in original.items()}
    if not any(isinstance(p, CrossAttentionRecorder) for p in new.values()):
        raise CourseInputError("this U-Net has no cross-attention layers (attn2): it does not read a text prompt.")
    unet.set_attn_processor(new)
    try:
        yield store
    finally:
        unet.set_attn_processor(original)


def token_heatmaps(record: RecordedAttention, positions: Sequence[int] | dict[str, Sequence[int]],
                   size: int = 64, resolutions: Sequence[int] | None = None, batch_index: int = -1,
                   steps: slice | None = None) -> torch.Tensor:
    """
    One heat map per token (or per group of tokens), averaged over heads, layers and steps.

    Taught in: chapter 3 (where each word looks).

    Args:
        record (`RecordedAttention`): what `record_cross_attention` kept.
        positions: token positions, e.g. ``[2, 3]``, or a dict ``{"cat": [3], "blue": [9]}``; the
            weights of the positions of one entry are added up (a word cut into pieces).
        size (`int`, defaults to 64): the side of the returned maps; each layer's map is upsampled
            to it bilinearly before averaging.
        resolutions (list of `int`, *optional*): use only layers at these latent sides (e.g. ``[8]``).
        batch_index (`int`, defaults to -1): which picture of the batch; with classifier-free guidance
            the last one is the prompt's (the first is the empty prompt's).
        steps (`slice`, *optional*): which U-Net calls to average over (default: all).

    Returns:
        `torch.Tensor` of shape ``(len(positions), size, size)``: the average share of attention
        each picture position gives to those tokens (between 0 and 1).
    """
    groups = list(positions.values()) if isinstance(positions, dict) else [[p] for p in positions]
    layers = [k for k in record.layers() if resolutions is None or record.maps[k][0].shape[2] in resolutions]
    if not layers:
        raise CourseInputError(f"no recorded layer at resolutions={resolutions}; recorded: {record.resolutions}.")
    n_tokens = record.maps[layers[0]][0].shape[-1]
    for g in groups:
        for p in g:
            if not 0 <= int(p) < n_tokens:
                raise CourseInputError(f"token position {p} is out of range 0..{n_tokens - 1}.")
    total, count = torch.zeros(len(groups), size, size), 0
    for name in layers:
        for a in record.maps[name][steps or slice(None)]:
            a = a[batch_index].mean(0)  # average over heads: (h, w, tokens)
            per_group = torch.stack([a[..., list(g)].sum(-1) for g in groups])  # (groups, h, w)
            total += F.interpolate(per_group[None], size=(size, size), mode="bilinear", align_corners=False)[0]
            count += 1
    return total / max(count, 1)


def overlay(image: Image.Image, heatmap, alpha: float = 0.55, cmap: str = "jet", size: int = 256) -> Image.Image:
    """
    A heat map laid over a picture: the picture in grey, the map in colour on top.

    Taught in: chapter 3 (where each word looks). The map is stretched to its own minimum and
    maximum, so the colours show *where* a token looks, not how much.

    Args:
        image (`PIL.Image.Image`): the picture.
        heatmap (`torch.Tensor` or `np.ndarray` of shape ``(h, w)``): the map.
        alpha (`float`, defaults to 0.55): opacity of the map, from 0 to 1.
        cmap (`str`): a matplotlib colour map name.
        size (`int`, defaults to 256): the side of the returned picture.
    """
    import matplotlib

    if not 0 <= alpha <= 1:
        raise CourseInputError(f"alpha={alpha} must be between 0 and 1.")
    m = np.asarray(heatmap.detach().cpu() if isinstance(heatmap, torch.Tensor) else heatmap, dtype=np.float32)
    if m.ndim != 2:
        raise CourseInputError(f"heatmap must be 2-D (h, w), got shape {m.shape}.")
    m = (m - m.min()) / (np.ptp(m) + 1e-8)
    m_img = Image.fromarray((m * 255).astype(np.uint8)).resize((size, size), Image.Resampling.BILINEAR)
    colours = matplotlib.colormaps[cmap](np.asarray(m_img) / 255.0)[..., :3]
    base = np.asarray(image.convert("L").convert("RGB").resize((size, size), Image.Resampling.NEAREST)) / 255.0
    mixed = (1 - alpha) * base + alpha * colours
    return Image.fromarray((mixed * 255).round().astype(np.uint8))


def subject_mask(image: Image.Image, threshold: float = 60.0) -> np.ndarray:
    """
    Which pixels of a course picture belong to the cat: those far in colour from the background.

    The background colour is the median of the top rows and upper side columns
    (`minisd.metrics.background_colour`); a pixel whose RGB distance from it exceeds `threshold`
    counts as the cat.

    Taught in: chapter 3 (does a word's attention land on the cat or on the background?).

    Returns:
        `np.ndarray` of bools, shape ``(H, W)``.
    """
    from .minisd.metrics import background_colour

    if not isinstance(image, Image.Image):
        raise CourseInputError(f"image must be a PIL image, got {type(image).__name__}.")
    a = np.asarray(image.convert("RGB"), dtype=np.float32)
    _, bg = background_colour(a)
    return np.sqrt(((a - bg) ** 2).sum(-1)) > threshold


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
    checked = [check_inputs(pipe, p, None, steps, guidance, seed, size, size, 1, 0.0) for p in prompts]
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
    prompt = _check_text(prompt)
    if not images:
        raise CourseInputError("rank_by_clip got no pictures.")
    judge = judge or load_judge()
    scores = judge.score(list(images), [prompt] * len(images)).tolist()
    return sorted(enumerate(scores), key=lambda p: -p[1])


# The rule-based stand-in for a language model: synonyms -> the words the embedded model knows.
_FUR_SYNONYMS = {
    "ginger": ["ginger", "orange", "tangerine", "marmalade", "apricot", "red-haired", "copper"],
    "black": ["black", "ebony", "jet-black", "coal", "midnight", "sooty", "dark"],
    "white": ["white", "snowy", "snow-white", "snow", "ivory-white", "pale"],
    "grey": ["grey", "gray", "silver", "ash", "ashen", "slate", "smoky", "blue-grey"],
    "brown": ["brown", "chocolate", "cocoa", "mocha", "chestnut", "coffee", "tan"],
    "cream": ["cream", "beige", "ivory", "buff", "sand", "sandy", "fawn", "vanilla"],
}
_BG_SYNONYMS = {
    "blue": ["blue", "sky", "azure", "navy", "cyan", "turquoise", "teal", "ocean", "sea"],
    "green": ["green", "grass", "grassy", "lime", "emerald", "olive", "forest", "mint", "garden", "meadow"],
    "red": ["red", "crimson", "scarlet", "cherry", "ruby", "brick"],
    "yellow": ["yellow", "gold", "golden", "lemon", "sunny", "mustard", "sunflower"],
    "pink": ["pink", "rose", "rosy", "salmon", "blush", "bubblegum", "flamingo"],
    "purple": ["purple", "violet", "lilac", "lavender", "mauve", "plum", "magenta", "indigo"],
}
_STYLE_SYNONYMS = {  # phrases are matched before single words
    "pixel": ["16-bit pixel art", "pixel art", "retro game", "video game", "retro video game", "8-bit", "16-bit",
              "pixel", "pixelated", "sprite", "arcade", "console", "sega", "snes", "retro"],
    "manga": ["black and white manga", "black-and-white", "black and white", "manga", "anime", "ink",
              "screentone", "comic book", "japanese comic"],
    "cartoon": ["cartoon", "cartoony", "toon", "comic", "animated", "flat", "drawing", "illustration",
                "children's book", "vector", "clip art", "clipart"],
    "photo": ["photo", "photograph", "photography", "photorealistic", "realistic", "real", "camera",
              "picture", "snapshot", "dslr", "portrait"],
}
_CAT_WORDS = ("cat", "cats", "kitty", "kitties", "kitten", "kittens", "feline", "puss", "pussycat", "tomcat", "moggy")
_BG_NOUNS = ("background", "backdrop", "wall", "sky", "scene", "backgrounds", "setting", "field", "floor")
_PATTERN_WORDS = {"tabby": ["tabby", "striped", "stripy", "stripes", "tiger-striped"]}
DEFAULTS = {"fur": "ginger", "background": "blue", "style": "cartoon", "pattern": "solid"}


def _lookup_table(table: dict[str, list[str]]) -> dict[str, str]:
    return {syn: key for key, syns in table.items() for syn in syns}


def parse_prompt(text: str, defaults: dict[str, str] | None = None) -> dict[str, dict]:
    """
    Read fur colour, coat pattern, background colour and style out of free text, by rules.

    Taught in: chapter 3 (prompt rewriting: a rule-based stand-in for a language model).

    A colour word counts as the background's when a background noun follows it ("pink wall") or a
    preposition leads to it ("on pink", "against a violet sky"); otherwise as the fur's when it is a
    fur colour or sits before a cat word. Style phrases are matched before single words, so
    "black and white" means manga and not two colours.

    Returns:
        `dict`: for each of ``fur``, ``pattern``, ``background``, ``style``:
        ``{"value": word the model knows, "from": the word(s) it came from, or None when the default
        was filled in}``.
    """
    text = _check_text(text, "text")
    defaults = {**DEFAULTS, **(defaults or {})}
    low = " " + re.sub(r"\s+", " ", text.lower().replace("_", " ")) + " "
    found: dict[str, tuple[str, str]] = {}
    # 1. style phrases, longest first; each match is blanked out so its words are not read again
    style_syn = sorted(_lookup_table(_STYLE_SYNONYMS).items(), key=lambda kv: -len(kv[0]))
    for syn, style in style_syn:
        m = re.search(rf"(?<![\w-]){re.escape(syn)}(?![\w-])", low)
        if m:
            found.setdefault("style", (style, syn))
            low = low[:m.start()] + " " * (m.end() - m.start()) + low[m.end():]
    words = re.findall(r"[a-z0-9'-]+|[,;.:!?]", low)  # punctuation is kept: it ends a phrase
    fur_syn, bg_syn, pat_syn = _lookup_table(_FUR_SYNONYMS), _lookup_table(_BG_SYNONYMS), _lookup_table(_PATTERN_WORDS)

    def phrase_end(w: str) -> bool:
        return w in _CAT_WORDS or not w[0].isalnum()

    # 2. which words sit in a "background phrase": just before a background noun ("lime backdrop"),
    #    or just after on/against/in front of ("against a violet sky"), up to a comma or a cat word
    bg_slots: set[int] = set()
    for i, w in enumerate(words):
        if w in _BG_NOUNS:
            bg_slots.add(i)
            for k in range(i - 1, max(-1, i - 4), -1):
                if phrase_end(words[k]):
                    break
                bg_slots.add(k)
        if w in ("on", "against", "over", "before") or (w == "of" and i > 0 and words[i - 1] == "front"):
            for k in range(i + 1, min(len(words), i + 4)):
                if phrase_end(words[k]):
                    break
                bg_slots.add(k)
    cat_at = [i for i, w in enumerate(words) if w in _CAT_WORDS]
    # 3. colours: background words in background phrases, fur words elsewhere
    for i, w in enumerate(words):
        if w in pat_syn:
            found.setdefault("pattern", (pat_syn[w], w))
        elif i in bg_slots and w in bg_syn:
            found.setdefault("background", (bg_syn[w], w))
        elif w == "red" and (i + 1 in cat_at or i + 2 in cat_at):  # "a red cat" is a ginger cat
            found.setdefault("fur", ("ginger", w))
        elif w in fur_syn and i not in bg_slots:
            found.setdefault("fur", (fur_syn[w], w))
        elif w in bg_syn:  # a bare background colour or scene ("blue, a cat", "in a meadow") means the backdrop
            found.setdefault("background", (bg_syn[w], w))
    out = {}
    for key in ("fur", "pattern", "background", "style"):
        value, source = found.get(key, (defaults[key], None))
        out[key] = {"value": value, "from": source}
    return out


def rewrite_prompt(text: str, defaults: dict[str, str] | None = None) -> str:
    """
    Expand a short free-form prompt into the detailed wording the embedded model was trained on.

    A **rule-based stand-in** for the language model that systems such as DALL-E 3 use to rewrite
    prompts: synonyms are mapped onto the model's vocabulary ("orange kitty" -> "ginger cat",
    "retro game" -> "16-bit pixel art") and missing attributes are filled in with defaults
    (`DEFAULTS`, or `defaults`). A real language model understands far more; these rules only
    know the embedded model's six fur colours, six backgrounds and four styles.

    Taught in: chapter 3 (prompt rewriting).

    Example:
        >>> rewrite_prompt("orange kitty, retro game")
        'a ginger cat in 16-bit pixel art style on a blue background'
    """
    from .minisd.data import prompt_for

    p = parse_prompt(text, defaults)
    return prompt_for(p["fur"]["value"], p["background"]["value"], p["style"]["value"], p["pattern"]["value"])


# --------------------------------------------------------------------------------------------
# 5. One-call views for the practical path
# --------------------------------------------------------------------------------------------


def _is_embedded(pipe) -> bool:
    info = getattr(pipe, "course_model", None)
    return info is not None and getattr(info, "key", None) == "embedded"


def _short(text: str, n: int = 26) -> str:
    return text if len(text) <= n else text[:n] + "…"


def unknown_words(tokenizer, prompt: str) -> list[str]:
    """
    The words of `prompt` the tokenizer has no whole piece for (they reach the encoder as bits of words).

    A known word is one piece, or pieces that each end a word ("16-bit" -> ``1``, ``6``, ``-``, ``bit``
    are all whole); an unknown one has at least one piece that is only part of a word.

    Taught in: chapter 3 (practical path: the prompt box).
    """
    prompt = _check_text(prompt)
    return [w for w in prompt.replace(",", " ").split()
            if any(not p.endswith("</w>") for p in tokenizer.tokenize(w))]


def embedding_figure(pipe, prompt: str):
    """
    What the text encoder hands the U-Net for `prompt`, as a heat map: one row per position (the start
    token, each piece, the end token), one column per number of the row; red positive, blue negative.

    Taught in: chapter 3 (practical path: what the translator hands the artist).

    Returns:
        `matplotlib.figure.Figure`, closed in pyplot: a cell shows it when it is the cell's last value.
    """
    import matplotlib.pyplot as plt

    pieces = [p.replace("</w>", "") for p in pipe.tokenizer.tokenize(_check_text(prompt))]
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

    box = W.Text(value=_check_text(prompt), description="prompt", continuous_update=False,
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


def asked_for(prompt: str) -> dict[str, str]:
    """The fur, background and style a prompt names, in the model's words (what it leaves out is not asked),
    e.g. ``{"fur": "cream", "background": "green", "style": "cartoon"}``.

    Taught in: chapter 3; chapters 0 and 7 compare it with what a picture's pixels show (`shown_count`).
    """
    parsed = parse_prompt(prompt)
    return {k: parsed[k]["value"] for k in ("fur", "background", "style") if parsed[k]["from"]}


def shown_count(read: dict[str, str], asked: dict[str, str]) -> int:
    """How many of the `asked` things (`asked_for`) the pixel rules read in a picture (`read`:
    `minisd.metrics.classify_pixels`). In manga style the rules read fur as a tone (dark, mid, light), so
    a fur colour counts as shown when its tone is read there.

    Taught in: chapter 3; used in chapters 0 and 7.
    """
    from .minisd.data import MANGA_TONE

    def ok(k: str, v: str) -> bool:
        return read[k] == v or (k == "fur" and read["style"] == "manga" and read[k] == MANGA_TONE.get(v))

    return sum(ok(k, v) for k, v in asked.items())


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

    prompt = _check_text(prompt)
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
                  _best_of_verdict(seeds, scores, order, asked, shown))


def _points(n: int) -> str:
    return f"{n} point" + ("" if n == 1 else "s")


def _best_of_verdict(seeds, scores, order, asked, shown) -> str:
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
    typed = [_check_text(p) for p in prompts]
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


def check_understood(text: str, fur: str | None = None, background: str | None = None,
                     style: str | None = None) -> str:
    """
    Did the rule-based stand-in read `text` the way you meant it? One line per attribute you name,
    each marked ✓ or ✗, and what to try when it is ✗. Never raises for a wrong reading: it is a
    learner's exercise, so it answers in words.

    Taught in: chapter 3 (practical path: Try it).

    Args:
        text (`str`): your prompt.
        fur, background, style (`str`, *optional*): what you meant, in the model's words (fur: black,
            white, grey, ginger, brown, cream; background: blue, green, red, yellow, pink, purple;
            style: photo, cartoon, manga, pixel).

    Returns:
        `str`: the rewrite, then one line per attribute, then a last line saying whether all matched.
    """
    from .minisd.data import BACKGROUNDS, FUR_COLOURS, STYLES

    text = _check_text(text)
    choices = {"fur": list(FUR_COLOURS), "background": list(BACKGROUNDS), "style": list(STYLES)}
    meant = {k: v for k, v in (("fur", fur), ("background", background), ("style", style)) if v is not None}
    understood = parse_prompt(text)
    lines = [f"you wrote:          {text}", f"the stand-in says:  {rewrite_prompt(text)}"]
    right = 0
    for what, value in meant.items():
        got = understood[what]
        source = f"from your word '{got['from']}'" if got["from"] else "as a default (it found no word for it)"
        if value not in choices[what]:
            lines.append(f"? {what}: '{value}' is not one of the model's words for it; choose one of "
                         f"{', '.join(choices[what])} for my_{what}.")
        elif got["value"] == value:
            right += 1
            lines.append(f"✓ {what}: read as '{got['value']}' {source}, as you meant.")
        else:
            lines.append(f"✗ {what}: read as '{got['value']}' {source}, but you meant '{value}'. "
                         f"Try another word for it in my_prompt.")
    if meant:
        lines.append(f"The stand-in understood {right} of the {len(meant)} things you meant"
                     + (": well done." if right == len(meant) else "."))
    return "\n".join(lines)
