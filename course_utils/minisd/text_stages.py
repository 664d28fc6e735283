"""The text stages of the embedded model: ``tokenizer`` (a BPE trained on captions), ``clip`` (the text
encoder and an image tower, contrastive) and ``judge`` (the image tower tuned further, for scoring only)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch

from . import data as D
from .config import MiniSDConfig
from .data_stages import batch_to_tensor, load_data
from .loop import train_device, train_loop, write_timing


# --- stage: tokenizer ---------------------------------------------------------------------------
def stage_tokenizer(cfg: MiniSDConfig) -> Path:
    """Train a byte-pair encoding on captions, in the vocabulary format of CLIP's tokenizer."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import CLIPTokenizer

    out = cfg.work_dir / "tokenizer"
    if (out / "tokenizer_config.json").exists():
        return out
    t0 = time.perf_counter()
    rng = np.random.default_rng(cfg.seed)
    corpus = [D.caption(D.random_spec(rng, held_out=None), rng, drop_p=0.2) for _ in range(20_000)]
    # every letter and digit alone and word-final, so any word a learner types can be encoded
    chars = "abcdefghijklmnopqrstuvwxyz0123456789"
    corpus += [" ".join(chars)] * 5 + [" ".join(c + c for c in chars)] * 2
    tok = Tokenizer(models.BPE(end_of_word_suffix="</w>", unk_token="<|endoftext|>"))
    # Split like CLIP: words, single digits, punctuation (CLIP's tokenizer does the same).
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Whitespace(), pre_tokenizers.Digits(individual_digits=True)])
    trainer = trainers.BpeTrainer(vocab_size=400, min_frequency=2, end_of_word_suffix="</w>",
                                  special_tokens=["<|startoftext|>", "<|endoftext|>"],
                                  initial_alphabet=list(chars + ",.-!?'"), show_progress=False)
    tok.train_from_iterator([c.lower() for c in corpus], trainer)
    model = json.loads(tok.to_str())["model"]
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model["merges"]]
    vocab = dict(model["vocab"])
    for c in chars + ",.-!?'":  # CLIP's vocabulary holds each symbol both word-inside and word-final
        for t in (c, c + "</w>"):
            vocab.setdefault(t, len(vocab))
    clip_tok = CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=cfg.max_length)
    clip_tok.save_pretrained(out)
    write_timing(cfg, "tokenizer", time.perf_counter() - t0)
    return out


def load_tokenizer(cfg: MiniSDConfig):
    from transformers import CLIPTokenizer

    return CLIPTokenizer.from_pretrained(cfg.work_dir / "tokenizer")


def tokenize(tok, captions: list[str]) -> torch.Tensor:
    return tok(captions, padding="max_length", max_length=tok.model_max_length, truncation=True,
               return_tensors="pt").input_ids


# --- stage: clip ----------------------------------------------------------------------------------
def build_clip(cfg: MiniSDConfig, tok):
    from transformers import CLIPConfig, CLIPModel, CLIPTextConfig, CLIPVisionConfig

    text = CLIPTextConfig(
        vocab_size=len(tok), hidden_size=cfg.text_width, intermediate_size=4 * cfg.text_width,
        num_hidden_layers=cfg.text_layers, num_attention_heads=cfg.text_heads,
        max_position_embeddings=cfg.max_length, projection_dim=cfg.projection_dim,
        bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
        hidden_act="quick_gelu")
    vision = CLIPVisionConfig(
        image_size=D.SIZE, patch_size=cfg.vision_patch, num_channels=3, hidden_size=128, intermediate_size=512,
        num_hidden_layers=cfg.vision_layers, num_attention_heads=4, projection_dim=cfg.projection_dim,
        hidden_act="quick_gelu")
    config = CLIPConfig(text_config=text.to_dict(), vision_config=vision.to_dict(),
                        projection_dim=cfg.projection_dim)
    torch.manual_seed(cfg.seed)
    return CLIPModel(config)


def _contrastive_loss(cfg: MiniSDConfig, model, tok, images: np.ndarray, specs, dev: torch.device,
                      rng: np.random.Generator) -> torch.Tensor:
    """CLIP's contrastive loss on a random batch of pictures, each with a freshly written caption."""
    idx = rng.integers(0, len(images), cfg.clip_batch)
    caps = [D.caption(specs[i], rng, drop_p=cfg.caption_attr_drop / 2) for i in idx]
    return model(input_ids=tokenize(tok, caps).to(dev), pixel_values=batch_to_tensor(images[idx]).to(dev),
                 return_loss=True).loss


def stage_clip(cfg: MiniSDConfig) -> Path:
    out = cfg.work_dir / "clip"
    if (out / "config.json").exists():
        return out
    dev = train_device()
    tok = load_tokenizer(cfg)
    images, specs = load_data(cfg)
    model = build_clip(cfg, tok).to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.clip_lr, weight_decay=0.05)
    _, elapsed = train_loop(cfg, "clip", model, opt,
                            lambda rng, gen: _contrastive_loss(cfg, model, tok, images, specs, dev, rng),
                            steps=cfg.clip_steps, lr=cfg.clip_lr, seeds=(cfg.seed + 1, 0))
    model.cpu().save_pretrained(out, safe_serialization=True)
    tok.save_pretrained(out)
    write_timing(cfg, "clip", elapsed())
    return out


# --- stage: judge --------------------------------------------------------------------------------
def stage_judge(cfg: MiniSDConfig) -> Path:
    """Tune CLIP's image tower on pictures of every combination, held-out ones included, for judging.

    The generator still never sees a held-out combination: the U-Net trains on the training pictures
    only, and CLIP's text tower (the pipeline's text encoder) is frozen here. Only the image tower and
    its projection, which score pictures and condition nothing, learn what a held-out picture looks
    like: a judge that misreads a real ginger sprite cannot tell whether the model drew one. A few
    minutes long (fewer steps than `checkpoint_every`), so it writes no checkpoint: an interrupted run
    starts the stage again. Its time includes drawing its pictures.
    """
    from transformers import CLIPModel

    out = cfg.work_dir / "judge"
    if (out / "config.json").exists():
        return out
    t0 = time.perf_counter()
    dev = train_device()
    tok = load_tokenizer(cfg)
    images, specs = D.make_dataset(cfg.judge_images, seed=cfg.seed * 100 + 99, held_out=None)
    close, close_specs = D.make_portraits(cfg.judge_portraits, seed=cfg.seed * 100 + 98, held_out=None)
    images, specs = np.concatenate([images, close]), specs + close_specs
    model = CLIPModel.from_pretrained(cfg.work_dir / "clip").to(dev)
    for p in (*model.text_model.parameters(), *model.text_projection.parameters(), model.logit_scale):
        p.requires_grad_(False)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=cfg.judge_lr, weight_decay=0.05)
    train_loop(cfg, "judge", model, opt, lambda rng, gen: _contrastive_loss(cfg, model, tok, images, specs, dev, rng),
               steps=cfg.judge_steps, lr=cfg.judge_lr, warmup=50, seeds=(cfg.seed + 3, 0))
    model.cpu().save_pretrained(out, safe_serialization=True)
    write_timing(cfg, "judge", time.perf_counter() - t0)
    return out
