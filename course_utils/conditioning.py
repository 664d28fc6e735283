"""How a prompt steers the picture: tokens, text embeddings, cross-attention maps, scoring, rewriting.

Taught in: chapter 3 (How language models condition the picture), on both paths.

Four groups of helpers live here:

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
  expand a short prompt into a detailed one.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from .device import cpu_threads
from .errors import CourseInputError

__all__ = [
    "CrossAttentionRecorder",
    "RecordedAttention",
    "draw_prompts",
    "encode_prompts",
    "load_judge",
    "overlay",
    "parse_prompt",
    "rank_by_clip",
    "record_cross_attention",
    "rewrite_prompt",
    "subject_mask",
    "token_heatmaps",
    "token_table",
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
    from .models import load_pipeline, picture_size

    if isinstance(prompts, str) or not isinstance(prompts, Sequence) or not 1 <= len(prompts) <= MAX_IMAGES:
        raise CourseInputError(f"prompts must be a list of 1 to {MAX_IMAGES} prompts, got {prompts!r}.")
    pipe = pipe or load_pipeline(verbose=False)
    info = getattr(pipe, "course_model", None)
    steps = steps if steps is not None else getattr(info, "steps", 20)
    guidance = guidance if guidance is not None else getattr(info, "guidance", 7.5)
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
