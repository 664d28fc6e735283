"""Tokens and text embeddings: what a tokenizer and a text encoder make of a prompt.

- `token_table` lists the pieces, ids and padding a tokenizer makes of a prompt, and
  `word_positions` finds the token positions of a word inside the padded sequence;
  `unknown_words` lists the words the tokenizer has no whole piece for;
- `encode_prompts` runs the text encoder as Stable Diffusion pipelines do and returns the
  *sequence* of token embeddings (one vector per token, not one per prompt).

Every prompt is checked by `check_text`. Taught in: chapter 3 (How language models condition the
picture); the names are also reachable as ``cu.conditioning.X``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import torch

from .errors import CourseInputError

__all__ = ["check_text", "encode_prompts", "token_table", "unknown_words", "word_positions"]


def check_text(text, name: str = "prompt") -> str:
    """`text`, refused unless it is a str of at most 2000 characters (`name` is the argument's name)."""
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
    prompt = check_text(prompt)
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
    prompt, word = check_text(prompt), check_text(word, "word")
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
    prompts = [check_text(p) for p in prompts]
    tok = pipe.tokenizer
    ids = tok(prompts, padding="max_length", max_length=tok.model_max_length, truncation=True,
              return_tensors="pt").input_ids
    return pipe.text_encoder(ids.to(pipe.text_encoder.device))[0]



def unknown_words(tokenizer, prompt: str) -> list[str]:
    """
    The words of `prompt` the tokenizer has no whole piece for (they reach the encoder as bits of words).

    A known word is one piece, or pieces that each end a word ("16-bit" -> ``1``, ``6``, ``-``, ``bit``
    are all whole); an unknown one has at least one piece that is only part of a word.

    Taught in: chapter 3 (practical path: the prompt box).
    """
    prompt = check_text(prompt)
    return [w for w in prompt.replace(",", " ").split()
            if any(not p.endswith("</w>") for p in tokenizer.tokenize(w))]
