"""Cross-attention maps: where in the picture each word of the prompt is looked at.

`CrossAttentionRecorder` is a diffusers attention processor that computes ``softmax(Q Kᵀ / √d) V``
by hand and keeps the attention weights; `record_cross_attention` installs it on the U-Net's
cross-attention layers (``attn2``) for the length of a ``with`` block and puts the original
processors back afterwards; `token_heatmaps` averages the kept maps over heads, layers and steps,
`overlay` lays one over a picture and `subject_mask` finds the cat.

Taught in: chapter 3 (How language models condition the picture); the names are also reachable as
``cu.conditioning.X``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from .errors import CourseInputError

__all__ = ["CrossAttentionRecorder", "RecordedAttention", "overlay", "record_cross_attention", "subject_mask",
           "token_heatmaps"]


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
