"""Train the embedded model, stage by stage, on a CPU (or a GPU when there is one).

    python -m course_utils.minisd.train                # every stage, resuming where it stopped
    python -m course_utils.minisd.train --stage vae    # one stage

Stages: ``data`` (draw and cache the pictures), ``tokenizer`` (a BPE trained on captions),
``clip`` (text encoder + image tower, contrastive), ``portraits`` (draw close-ups of cats' faces),
``judge`` (the image tower tuned further on every combination and on close-ups, for scoring only),
``vae`` (autoencoder), ``unet`` (the denoiser, with caption dropout for classifier-free guidance),
``vae_photos`` (the autoencoder's encoder trained further on real photos as well), ``unet_portraits``
(optional, off as shipped: the denoiser trained further on close-ups too), ``unet_lcm`` (a few-step student
distilled from the denoiser, see distill.py) and ``export``
(diffusers' folder format, safetensors only). Every long stage writes checkpoints into ``build/minisd``
(``--work-dir``) and a loss log (``*_loss.csv``), and resumes from its last checkpoint when started again.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from collections.abc import Callable
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from course_utils.diffusion import q_sample

from . import data as D
from .config import MiniSDConfig

STAGES = ("data", "tokenizer", "clip", "portraits", "judge", "vae", "unet", "vae_photos", "unet_portraits",
          "unet_lcm", "export")


# --- helpers ------------------------------------------------------------------------------------
def train_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def autocast(cfg: MiniSDConfig, dev: torch.device):
    """bfloat16 autocast for training where the hardware computes in bfloat16 (a GPU, or a CPU with
    AVX-512 BF16 / AMX: about 20 % faster here); float32 elsewhere. The weights stay float32 and the
    shipped model runs in float32 (it was trained in bfloat16 autocast)."""
    on = cfg.bf16 and (dev.type == "cuda" or torch.ops.mkldnn._is_mkldnn_bf16_supported())
    return torch.autocast(dev.type, dtype=torch.bfloat16, enabled=on)


def _to_tensor(imgs_u8: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W, 3) -> float (N, 3, H, W) in [-1, 1]."""
    return torch.from_numpy(imgs_u8).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


def save_ckpt(path: Path, **state) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)  # atomic: an interrupted save never leaves a broken checkpoint


def load_ckpt(path: Path):
    return torch.load(path, map_location="cpu", weights_only=True) if path.exists() else None


class _LossLog:
    def __init__(self, path: Path, resume: bool):
        self.f = open(path, "a" if resume else "w")
        if not resume:
            self.f.write("step,loss,seconds\n")
        self.t0 = time.perf_counter()

    def write(self, step: int, loss: float, seconds_before: float) -> None:
        self.f.write(f"{step},{loss:.6f},{seconds_before + time.perf_counter() - self.t0:.1f}\n")
        self.f.flush()


def _lr(step: int, total: int, base: float, warmup: int = 200) -> float:
    """Linear warm-up, then cosine decay to 10 % of the base rate."""
    if step < warmup:
        return base * (step + 1) / warmup
    p = (step - warmup) / max(1, total - warmup)
    return base * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * p)))


def train_loop(cfg: MiniSDConfig, name: str, model: torch.nn.Module, opt: torch.optim.Optimizer,
           loss_fn: Callable[[np.random.Generator, torch.Generator], torch.Tensor], *, steps: int, lr: float,
           warmup: int = 200, seeds: tuple[int, int] = (0, 0), state: dict | None = None,
           after_step: Callable[[int], None] | None = None, on_checkpoint: Callable[[], None] | None = None):
    """The training loop every stage shares: `steps` optimiser steps of ``loss_fn(rng, gen)``.

    Resumes from ``<name>.ckpt`` (the model, the optimiser and every object in `state`, e.g. an EMA), sets the
    learning rate by `_lr`, clips the gradient norm to 1, calls ``after_step(step)`` after each update, logs
    the loss every 25 steps to ``<name>_loss.csv`` and checkpoints every ``cfg.checkpoint_every`` steps
    (then calls `on_checkpoint`). `rng` (NumPy) and `gen` (torch) are seeded `seeds`; a checkpoint keeps
    their states, so a resumed run draws what an uninterrupted one would (one written before it did is resumed
    with ``seeds + start``, start being its step). Returns `gen` and a function giving the seconds trained so
    far (those before a resume included), for `write_timing`; the model is left in eval mode."""
    state = {"model": model, "opt": opt, **(state or {})}
    ck_path = cfg.work_dir / f"{name}.ckpt"
    ck = load_ckpt(ck_path)
    start, seconds = (ck["step"], ck["seconds"]) if ck else (0, 0.0)
    for key, obj in state.items() if ck else ():
        obj.load_state_dict(ck[key])
    log = _LossLog(cfg.work_dir / f"{name}_loss.csv", resume=ck is not None)
    elapsed = lambda: seconds + time.perf_counter() - log.t0  # noqa: E731
    rng, gen = np.random.default_rng(seeds[0] + start), torch.Generator().manual_seed(seeds[1] + start)
    if ck and "rng" in ck:
        rng.bit_generator.state = ck["rng"]
        gen.set_state(ck["gen"])
    params = [p for group in opt.param_groups for p in group["params"]]
    model.train()
    running = None
    bar = tqdm(range(start, steps), initial=start, total=steps, desc=name)
    for step in bar:
        for group in opt.param_groups:
            group["lr"] = _lr(step, steps, lr, warmup=warmup)
        loss = loss_fn(rng, gen)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if after_step is not None:
            after_step(step)
        running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
        if step % 25 == 0:
            log.write(step, loss.item(), seconds)
            bar.set_postfix(loss=f"{running:.4f}")
        if (step + 1) % cfg.checkpoint_every == 0:
            save_ckpt(ck_path, step=step + 1, seconds=elapsed(), rng=rng.bit_generator.state, gen=gen.get_state(),
                       **{k: v.state_dict() for k, v in state.items()})
            if on_checkpoint is not None:
                on_checkpoint()
    log.f.close()
    model.eval()
    return gen, elapsed


def _render_chunk(args):
    seed, n, close_ups = args
    return D.make_dataset(n, seed=seed, close_ups=close_ups)


def _draw_and_cache(cfg: MiniSDConfig, name: str, n: int, first_seed: int, close_ups: bool, desc: str) -> Path:
    """Draw `n` pictures in 8 processes and cache them with their specs in ``<work_dir>/<name>.npz``."""
    path = cfg.work_dir / f"{name}.npz"
    if path.exists():
        return path
    t0 = time.perf_counter()
    chunks = 8
    per = n // chunks
    with Pool(min(chunks, os.cpu_count() or 1)) as pool:
        parts = list(tqdm(pool.imap(_render_chunk, [(first_seed + i, per, close_ups) for i in range(chunks)]),
                          total=chunks, desc=desc))
    images = np.concatenate([p[0] for p in parts])
    specs = [s for p in parts for s in p[1]]
    np.savez(path, images=images, specs=json.dumps([s.as_dict() for s in specs]))
    write_timing(cfg, name, time.perf_counter() - t0)
    return path


# --- stage: data --------------------------------------------------------------------------------
def stage_data(cfg: MiniSDConfig) -> Path:
    return _draw_and_cache(cfg, "data", cfg.n_images, cfg.seed * 100, close_ups=False, desc="drawing cats")


def load_data(cfg: MiniSDConfig, name: str = "data"):
    z = np.load(cfg.work_dir / f"{name}.npz")
    specs = [D.CatSpec(**d) for d in json.loads(str(z["specs"]))]
    return z["images"], specs


# --- stage: portraits ---------------------------------------------------------------------------
def stage_portraits(cfg: MiniSDConfig) -> Path:
    """Close-ups of cats' faces (training combinations only): for the judge, the autoencoder's photo stage
    and the optional close-up stage of the U-Net."""
    return _draw_and_cache(cfg, "portraits", cfg.n_portraits, cfg.seed * 100 + 50, close_ups=True,
                           desc="drawing close-ups")


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
    return model(input_ids=tokenize(tok, caps).to(dev), pixel_values=_to_tensor(images[idx]).to(dev),
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


# --- stage: vae -----------------------------------------------------------------------------------
def build_vae(cfg: MiniSDConfig):
    from diffusers import AutoencoderKL

    n = len(cfg.vae_channels)
    torch.manual_seed(cfg.seed)
    return AutoencoderKL(
        in_channels=3, out_channels=3, latent_channels=cfg.latent_channels,
        down_block_types=("DownEncoderBlock2D",) * n, up_block_types=("UpDecoderBlock2D",) * n,
        block_out_channels=cfg.vae_channels, layers_per_block=1, norm_num_groups=16,
        sample_size=D.SIZE)


def grey_ssim_loss(a: torch.Tensor, b: torch.Tensor, window: int = 7) -> torch.Tensor:
    """1 - SSIM of the grey levels of two batches in [-1, 1]: 7 x 7 uniform windows, data range 2, population
    variances (scikit-image's ``structural_similarity(..., data_range=2, use_sample_covariance=False)`` on
    the same grey levels). A loss that rewards keeping local light, dark and contrast, which L1 and squared
    error weigh the same everywhere (Zhao et al. 2017 train image restoration with L1 + SSIM)."""
    w = torch.tensor([0.299, 0.587, 0.114], device=a.device).view(1, 3, 1, 1)
    x, y = (a * w).sum(1, keepdim=True), (b * w).sum(1, keepdim=True)
    c1, c2 = (0.01 * 2) ** 2, (0.03 * 2) ** 2  # data range 2
    mean = lambda t: F.avg_pool2d(t, window, stride=1)  # noqa: E731
    mx, my = mean(x), mean(y)
    vx, vy, cxy = mean(x * x) - mx * mx, mean(y * y) - my * my, mean(x * y) - mx * my
    ssim = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return 1 - ssim.mean()


def _vae_loss(cfg: MiniSDConfig, vae, x: torch.Tensor, gen: torch.Generator, dev, *, ssim_weight: float = 0.0,
              anchor: torch.Tensor | None = None,
              keep: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
    """The autoencoder's loss on pixels `x` (a sample of the posterior is decoded).
    `anchor`: latents (posterior means) the first ``len(anchor)`` pictures must keep, weighted by
    ``cfg.vae_anchor_weight`` in the U-Net's units (scaled latents). `keep`: latents and the pictures the
    decoder must still draw from them, weighted by ``cfg.vae_keep_decoder``."""
    with autocast(cfg, dev):
        post = vae.encode(x).latent_dist
        z = post.mean + post.std * torch.randn(post.mean.shape, generator=gen).to(dev)
        rec = vae.decode(z).sample.float()
    # L1 keeps edges sharper than squared error; the tiny KL term keeps the latent well-behaved
    loss = F.l1_loss(rec, x) + 0.5 * F.mse_loss(rec, x) + cfg.vae_kl_weight * post.kl().mean()
    if ssim_weight:
        loss = loss + ssim_weight * grey_ssim_loss(rec, x)
    if anchor is not None:
        sf = vae.config.scaling_factor
        loss = loss + cfg.vae_anchor_weight * F.mse_loss(post.mean[:len(anchor)].float() * sf, anchor * sf)
    if keep is not None:
        z, target = keep
        with autocast(cfg, dev):
            drawn = vae.decode(z).sample.float()
        loss = loss + cfg.vae_keep_decoder * F.l1_loss(drawn, target)
    return loss


def stage_vae(cfg: MiniSDConfig) -> Path:
    out = cfg.work_dir / "vae"
    if (out / "config.json").exists():
        return out
    dev = train_device()
    images, _ = load_data(cfg)
    vae = build_vae(cfg).to(dev)
    opt = torch.optim.AdamW(vae.parameters(), lr=cfg.vae_lr, weight_decay=0.0)

    def loss_fn(rng, gen):
        x = _to_tensor(images[rng.integers(0, len(images), cfg.vae_batch)]).to(dev)
        return _vae_loss(cfg, vae, x, gen, dev)

    gen, elapsed = train_loop(cfg, "vae", vae, opt, loss_fn, steps=cfg.vae_steps, lr=cfg.vae_lr,
                          seeds=(cfg.seed + 2, cfg.seed))
    # Measure the latent scale: Stable Diffusion multiplies latents by 1/std so they have unit variance.
    with torch.no_grad():
        zs = torch.cat([vae.encode(_to_tensor(images[i:i + 256]).to(dev)).latent_dist.sample(gen)
                        for i in range(0, 4096, 256)])
    vae.register_to_config(scaling_factor=float(1.0 / zs.std()))
    vae.cpu().save_pretrained(out, safe_serialization=True)
    write_timing(cfg, "vae", elapsed())
    return out


def _photo_loss(cfg: MiniSDConfig, vae, dev, first, bank):
    """The `vae_photos` stage's loss function: half of each batch drawn cats, half crops of photos, with the
    anchor to the first stage's latents and the decoder bank when they are switched on."""
    from . import photos as P

    drawn = np.concatenate([load_data(cfg)[0], load_data(cfg, "portraits")[0]])
    real = P.photo_crops(cfg.vae_photo_crops, seed=cfg.seed + 7)
    half = cfg.vae_batch // 2

    def loss_fn(rng, gen):
        x = _to_tensor(np.concatenate([drawn[rng.integers(0, len(drawn), cfg.vae_batch - half)],
                                       real[rng.integers(0, len(real), half)]])).to(dev)
        anchor = None
        if cfg.vae_anchor_weight:  # the drawn cats keep the latents the U-Net was trained on
            with torch.no_grad(), autocast(cfg, dev):
                anchor = first.encode(x[:cfg.vae_batch - half]).latent_dist.mean.float()
        keep = None
        if bank is not None:  # the U-Net's own latents decode as the first stage's decoder drew them
            i = torch.from_numpy(rng.integers(0, len(bank[0]), cfg.vae_keep_batch))
            keep = (bank[0][i].to(dev), bank[1][i].to(dev))
        return _vae_loss(cfg, vae, x, gen, dev, ssim_weight=cfg.vae_photo_ssim, anchor=anchor, keep=keep)

    return loss_fn


def stage_vae_photos(cfg: MiniSDConfig) -> Path:
    """The autoencoder trained further, from the `vae` stage's weights, on drawn cats (full-body and
    close-ups) and on crops of real photos (`photos.py`; MAU's photo and the other held-out photos
    never among them), half of each batch from each. Drawn cats alone taught it drawn-cat colours only:
    MAU's photo came back as a pink smear."""
    from diffusers import AutoencoderKL

    out = cfg.work_dir / "vae_photos"
    if (out / "config.json").exists():
        return out
    dev = train_device()
    vae = AutoencoderKL.from_pretrained(cfg.work_dir / "vae").to(dev)
    first = AutoencoderKL.from_pretrained(cfg.work_dir / "vae").to(dev).eval().requires_grad_(False) \
        if cfg.vae_anchor_weight or cfg.vae_keep_decoder else None
    bank = _decoder_bank(cfg, first, dev) if cfg.vae_keep_decoder else None
    if not cfg.vae_photo_decoder:
        # Only the encoder learns: the decoder, and with it everything text-to-image draws, stays the first
        # stage's. The encoder learns to find, for a photo, the latent that this decoder turns back into it.
        for part in (vae.decoder, vae.post_quant_conv):
            part.requires_grad_(False)
    opt = torch.optim.AdamW([p for p in vae.parameters() if p.requires_grad], lr=cfg.vae_photo_lr, weight_decay=0.0)
    _, elapsed = train_loop(cfg, "vae_photos", vae, opt, _photo_loss(cfg, vae, dev, first, bank),
                        steps=cfg.vae_photo_steps, lr=cfg.vae_photo_lr, warmup=50, seeds=(cfg.seed + 7, cfg.seed + 7))
    # The latent scale is kept from the `vae` stage (measured there on the drawn cats), so that the
    # U-Net's latents keep their size; the next stage trains the U-Net in these latents.
    vae.cpu().save_pretrained(out, safe_serialization=True)
    write_timing(cfg, "vae_photos", elapsed())
    return out


def _decoder_bank(cfg: MiniSDConfig, first, dev) -> tuple[torch.Tensor, torch.Tensor]:
    """Latents that the `unet` stage's U-Net draws (random training prompts, some empty; 20 DDIM steps,
    guidance 7.5) and what the first stage's decoder makes of them, cached in ``decoder_bank.pt``.

    Text-to-image decodes these, not encodings of real pictures: a decoder retrained on photos can keep
    every drawn cat's round trip and still draw the U-Net's latents softer. Holding it to the first
    decoder's pictures of them keeps text-to-image closer to what it was (figures in the model card)."""
    from diffusers import StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextModel

    path = cfg.work_dir / "decoder_bank.pt"
    if path.exists():
        return torch.load(path, weights_only=True)
    pipe = StableDiffusionPipeline(
        vae=first, text_encoder=CLIPTextModel.from_pretrained(cfg.work_dir / "clip"), tokenizer=load_tokenizer(cfg),
        unet=UNet2DConditionModel.from_pretrained(cfg.work_dir / "unet"), scheduler=build_scheduler(cfg, "ddim"),
        safety_checker=None, feature_extractor=None, requires_safety_checker=False).to(dev)
    pipe.set_progress_bar_config(disable=True)
    rng = np.random.default_rng(cfg.seed + 11)
    prompts = ["" if rng.random() < 0.1 else D.caption(D.random_spec(rng, held_out=False), rng, drop_p=0.1)
               for _ in range(cfg.vae_keep_bank)]
    zs = []
    for i in tqdm(range(0, len(prompts), 16), desc="latents for the decoder"):
        with torch.inference_mode():
            zs.append(pipe(prompts[i:i + 16], num_inference_steps=20, guidance_scale=7.5, output_type="latent",
                           generator=torch.Generator().manual_seed(cfg.seed + i)).images.cpu())
    z = torch.cat(zs) / first.config.scaling_factor
    with torch.inference_mode():
        pics = torch.cat([first.decode(z[i:i + 64].to(dev)).sample.clamp(-1, 1).cpu() for i in range(0, len(z), 64)])
    torch.save((z, pics), path)
    return z, pics


# --- stage: unet ----------------------------------------------------------------------------------
def build_unet(cfg: MiniSDConfig):
    from diffusers import UNet2DConditionModel

    torch.manual_seed(cfg.seed)
    pooled = dict(addition_embed_type="text", addition_embed_type_num_heads=cfg.unet_pool_heads) \
        if cfg.unet_pool_heads else {}
    return UNet2DConditionModel(
        sample_size=D.SIZE // 4, in_channels=cfg.latent_channels, out_channels=cfg.latent_channels,
        down_block_types=cfg.unet_down, up_block_types=cfg.unet_up,
        block_out_channels=cfg.unet_channels, layers_per_block=1, norm_num_groups=16,
        # Beware diffusers' naming: for this U-Net, `attention_head_dim` is read as the NUMBER of heads
        # per level (and `num_attention_heads` is refused), so the heads are given here.
        cross_attention_dim=cfg.text_width, attention_head_dim=list(cfg.unet_heads),
        resnet_time_scale_shift=cfg.unet_time_scale_shift, **pooled)


def min_snr_weight(alpha_bar: torch.Tensor, gamma: float) -> torch.Tensor:
    """Loss weight min(SNR, γ) / SNR per picture for ε-prediction ("Min-SNR", Hang et al. 2023).

    SNR = ᾱ / (1 − ᾱ). The nearly clean timesteps (large SNR), where the loss is easy and teaches only
    fine detail, count less, so more of the training goes to the noisy ones that decide colour and
    layout. ``gamma = 0`` gives weight 1 everywhere: the plain DDPM loss.
    """
    if not gamma:
        return torch.ones_like(alpha_bar)
    snr = alpha_bar / (1 - alpha_bar)
    return snr.clamp(max=gamma) / snr


def build_scheduler(cfg: MiniSDConfig, kind: str = "ddim"):
    from diffusers import DDIMScheduler, DDPMScheduler

    common = dict(num_train_timesteps=cfg.num_train_timesteps, beta_start=cfg.beta_start,
                  beta_end=cfg.beta_end, beta_schedule=cfg.beta_schedule, clip_sample=False,
                  prediction_type="epsilon")
    if kind == "ddpm":
        return DDPMScheduler(**common)
    return DDIMScheduler(**common, set_alpha_to_one=False, steps_offset=1)


def encode_all(cfg, vae, images, dev, name: str = "latents") -> torch.Tensor:
    path = cfg.work_dir / f"{name}.pt"
    if path.exists():
        return torch.load(path, weights_only=True)
    gen = torch.Generator().manual_seed(cfg.seed + 3)
    out = []
    with torch.no_grad():
        for i in tqdm(range(0, len(images), 256), desc="encoding latents"):
            post = vae.encode(_to_tensor(images[i:i + 256]).to(dev)).latent_dist
            out.append((post.mean.cpu() , post.std.cpu()))
    mean = torch.cat([m for m, _ in out])
    std = torch.cat([s for _, s in out])
    lat = torch.stack([mean, std], 1) * vae.config.scaling_factor  # (N, 2, C, h, w)
    del gen
    torch.save(lat, path)
    return lat


def stage_unet(cfg: MiniSDConfig, init_from: Path | None = None) -> Path:
    """The denoiser, from random weights (or `init_from`), on the full-body pictures."""
    return _train_unet(cfg, "unet", init_from=init_from, vae_name="vae", steps=cfg.unet_steps, lr=cfg.unet_lr,
                       warmup=300)


def stage_unet_portraits(cfg: MiniSDConfig) -> Path | None:
    """The denoiser trained further, from the `unet` stage's weights, on full-body pictures and close-ups
    (a `portrait_share` of each batch), in the latents of the photo-trained autoencoder (`vae_photos`).
    It learns what a face filling the frame looks like in each style, which image-to-image of a close-up
    photo (MAU's) needs, and it relearns the slightly moved latents of the new autoencoder."""
    if not cfg.portrait_steps:  # off as shipped (the model card says why)
        return None
    return _train_unet(cfg, "unet_portraits", init_from=cfg.work_dir / "unet", vae_name="vae_photos",
                       steps=cfg.portrait_steps, lr=cfg.portrait_lr, warmup=100, portraits=True)


def _captions(cfg: MiniSDConfig, specs, rng: np.random.Generator, n_full: int | None) -> tuple[np.ndarray, list[str]]:
    """A U-Net batch: picture indices and their captions (`caption_drop` of them empty). With `n_full`, the
    pictures from that index on are close-ups, and a `portrait_share` of the batch is drawn from them."""
    if n_full is not None:  # a share of each batch from the close-ups, the rest from the full-body pictures
        k = int(rng.binomial(cfg.unet_batch, cfg.portrait_share))
        idx = np.concatenate([rng.integers(0, n_full, cfg.unet_batch - k), rng.integers(n_full, len(specs), k)])
    else:
        idx = rng.integers(0, len(specs), cfg.unet_batch)
    caps = ["" if rng.random() < cfg.caption_drop else
            D.caption(specs[i], rng, drop_p=cfg.caption_attr_drop, fur_drop_p=cfg.caption_fur_drop) for i in idx]
    return idx, caps


def _eps_loss(cfg: MiniSDConfig, unet, text_encoder, tok, lat: torch.Tensor, specs, dev, n_full: int | None):
    """The U-Net stage's loss function: the simple DDPM loss, ε-prediction, on a sample of the VAE posterior
    of each picture (`lat` holds means and standard deviations), optionally weighted (see min_snr_weight)."""
    abar = build_scheduler(cfg, "ddpm").alphas_cumprod.to(dev)

    def loss_fn(rng, gen):
        idx, caps = _captions(cfg, specs, rng, n_full)
        with torch.no_grad(), autocast(cfg, dev):
            cond = text_encoder(tokenize(tok, caps).to(dev)).last_hidden_state.float()
        m, s = lat[idx, 0], lat[idx, 1]
        x0 = (m + s * torch.randn(m.shape, generator=gen)).to(dev)  # a sample of the VAE posterior
        noise = torch.randn(x0.shape, generator=gen).to(dev)
        t = torch.randint(0, cfg.num_train_timesteps, (len(idx),), generator=gen).to(dev)
        xt = q_sample(x0, t, noise, abar)  # q(x_t | x_0) in closed form, chapter 2's function
        with autocast(cfg, dev):
            pred = unet(xt, t, cond).sample.float()
        w = min_snr_weight(abar[t], cfg.unet_snr_gamma)
        return (F.mse_loss(pred, noise, reduction="none").mean((1, 2, 3)) * w).mean()

    return loss_fn


def _unet_latents(cfg: MiniSDConfig, vae_name: str, portraits: bool, dev):
    """The training pictures' latents in the autoencoder `vae_name` (cached), their specs, and with
    `portraits` the close-ups' appended (then also the number of full-body pictures before them)."""
    from diffusers import AutoencoderKL

    vae = AutoencoderKL.from_pretrained(cfg.work_dir / vae_name).to(dev).eval()
    images, specs = load_data(cfg)
    lat = encode_all(cfg, vae, images, dev, name="latents" if vae_name == "vae" else f"latents_{vae_name}")
    if not portraits:
        return lat, specs, None
    close, close_specs = load_data(cfg, "portraits")
    close_lat = encode_all(cfg, vae, close, dev, name=f"latents_portraits_{vae_name}")
    return torch.cat([lat, close_lat]), specs + close_specs, len(images)


def _train_unet(cfg: MiniSDConfig, name: str, *, init_from: Path | None, vae_name: str, steps: int, lr: float,
                warmup: int, portraits: bool = False) -> Path:
    from transformers import CLIPTextModel

    from .ema import UNetEMA

    out = cfg.work_dir / name
    if (out / "config.json").exists():
        return out
    dev = train_device()
    tok = load_tokenizer(cfg)
    text_encoder = CLIPTextModel.from_pretrained(cfg.work_dir / "clip").to(dev).eval()
    lat, specs, n_full = _unet_latents(cfg, vae_name, portraits, dev)
    unet = build_unet(cfg).to(dev)
    if init_from is not None:  # continue from trained weights (e.g. the shipped model) instead of random ones
        from diffusers import UNet2DConditionModel

        unet.load_state_dict(UNet2DConditionModel.from_pretrained(init_from).state_dict())
    ema = UNetEMA(unet.parameters(), decay=cfg.ema_decay)

    def snapshot() -> None:  # the EMA weights so far, for `--from-snapshot`
        if cfg.unet_snapshot:
            ema.store(unet.parameters())
            ema.copy_to(unet.parameters())
            unet.save_pretrained(cfg.work_dir / f"{name}_snapshot", safe_serialization=True)
            ema.restore(unet.parameters())

    opt = torch.optim.AdamW(unet.parameters(), lr=lr, weight_decay=0.01)
    _, elapsed = train_loop(cfg, name, unet, opt, _eps_loss(cfg, unet, text_encoder, tok, lat, specs, dev, n_full),
                        steps=steps, lr=lr, warmup=warmup, seeds=(cfg.seed + 4, cfg.seed + 4), state={"ema": ema},
                        after_step=lambda step: ema.step(unet.parameters()), on_checkpoint=snapshot)
    ema.copy_to(unet.parameters())  # the shipped weights are the moving average
    unet.cpu().save_pretrained(out, safe_serialization=True)
    write_timing(cfg, name, elapsed())
    return out


# --- stage: export ------------------------------------------------------------------------------
def stage_export(cfg: MiniSDConfig, unet_dir: Path | None = None) -> Path:
    """Assemble the pipeline in diffusers' folder format under assets/models/, safetensors only."""
    from diffusers import AutoencoderKL, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPModel, CLIPTextModel

    tok = load_tokenizer(cfg)
    pipe = StableDiffusionPipeline(
        vae=AutoencoderKL.from_pretrained(cfg.work_dir / "vae_photos"),
        text_encoder=CLIPTextModel.from_pretrained(cfg.work_dir / "clip"),
        tokenizer=tok,
        unet=UNet2DConditionModel.from_pretrained(unet_dir or cfg.work_dir / ("unet_portraits" if cfg.portrait_steps
                                                                            else "unet")),
        scheduler=build_scheduler(cfg, "ddim"),
        safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    cfg.out_dir.mkdir(parents=True, exist_ok=True)
    pipe.save_pretrained(cfg.out_dir, safe_serialization=True)
    _strip_local_paths(cfg.out_dir)
    # The image tower, for scoring pictures against prompts (CLIP score). Only the vision half and
    # the two projections are needed beside the pipeline's text encoder, but the whole CLIP model
    # is kept so that `CLIPModel.from_pretrained` works as usual.
    judge = cfg.work_dir / "judge"
    clip = CLIPModel.from_pretrained(judge if (judge / "config.json").exists() else cfg.work_dir / "clip")
    text = pipe.text_encoder.state_dict()
    if any(not torch.equal(w, text[k]) for k, w in clip.text_model.state_dict().items()):
        raise RuntimeError(f"{judge} was tuned from another CLIP than {cfg.work_dir / 'clip'}: delete it and run "
                           "the stage judge again (python -m course_utils.minisd.train --stage judge --stage export)")
    clip.save_pretrained(cfg.out_dir / "clip", safe_serialization=True)
    lcm = cfg.work_dir / "unet_lcm"
    if (lcm / "config.json").exists():  # the few-step student and its scheduler, beside the 20-step model
        from .distill import lcm_scheduler

        UNet2DConditionModel.from_pretrained(lcm).save_pretrained(cfg.out_dir / "unet_lcm", safe_serialization=True)
        lcm_scheduler(cfg).save_pretrained(cfg.out_dir / "scheduler_lcm")
        _strip_local_paths(cfg.out_dir)
    timing = cfg.work_dir / "timing.json"
    if timing.exists():
        (cfg.out_dir / "training_time.json").write_text(timing.read_text())
    return cfg.out_dir


def _strip_local_paths(folder: Path) -> None:
    """Drop the training machine's folder names (``_name_or_path``) from the exported configs: a shipped
    model should not carry the path it was built in."""
    for config in folder.glob("*/config.json"):
        data = json.loads(config.read_text())
        if data.pop("_name_or_path", None) is not None:
            config.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def write_timing(cfg: MiniSDConfig, stage: str, seconds: float) -> None:
    path = cfg.work_dir / "timing.json"
    t = json.loads(path.read_text()) if path.exists() else {}
    t[stage] = {"seconds": round(seconds, 1), "device": str(train_device()), "threads": torch.get_num_threads()}
    path.write_text(json.dumps(t, indent=1))


def _stage_unet_lcm(cfg: MiniSDConfig):
    from .distill import stage_unet_lcm

    return stage_unet_lcm(cfg)


# Options that set a MiniSDConfig field when given: option -> field. Those in _IF_NONZERO are ignored when 0 (as
# the defaults), those in _AT_LEAST_0 must not be negative.
_FIELDS = {"work_dir": "work_dir", "out_dir": "out_dir", "unet_steps": "unet_steps", "vae_steps": "vae_steps",
           "vae_batch": "vae_batch", "vae_photo_steps": "vae_photo_steps", "portrait_steps": "portrait_steps",
           "lcm_steps": "lcm_steps", "vae_photo_decoder": "vae_photo_decoder", "vae_photo_ssim": "vae_photo_ssim",
           "vae_anchor": "vae_anchor_weight", "vae_keep_decoder": "vae_keep_decoder", "snr_gamma": "unet_snr_gamma",
           "fur_drop": "caption_fur_drop", "pool_heads": "unet_pool_heads", "time_scale_shift": "unet_time_scale_shift",
           "bf16": "bf16", "snapshot": "unet_snapshot"}
_IF_NONZERO = ("unet_steps", "vae_steps", "vae_batch", "vae_photo_steps", "portrait_steps")
_AT_LEAST_0 = ("lcm_steps", "vae_photo_ssim", "vae_anchor", "vae_keep_decoder")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--stage", choices=STAGES, action="append", help="run only these stages")
    p.add_argument("--work-dir", type=Path,
                   help="data cache, checkpoints and loss logs (default build/minisd); a variant trained in its own "
                        "folder leaves the main run alone. Stages found there already are not trained again, so "
                        "copies of tokenizer/, clip/, vae/ and data.npz let a U-Net variant reuse them")
    p.add_argument("--out-dir", type=Path,
                   help="where the export stage writes the model (default assets/models/minisd-cats, the shipped one)")
    p.add_argument("--unet-steps", type=int, help="override the number of U-Net steps")
    p.add_argument("--vae-steps", type=int, help="override the number of VAE steps")
    p.add_argument("--vae-batch", type=int, help="override the VAE's batch size")
    p.add_argument("--vae-photo-steps", type=int, help="override the number of steps of the vae_photos stage")
    _recipe_options(p)
    return p


def _recipe_options(p: argparse.ArgumentParser) -> None:
    """The options that change what is trained (the shipped recipe is every default)."""
    p.add_argument("--vae-photo-decoder", action=argparse.BooleanOptionalAction,
                   help="train the decoder too in the vae_photos stage (default: off, as shipped; see "
                        "the model card for what it measured)")
    p.add_argument("--vae-photo-ssim", type=float, help="weight of 1 - grey-level SSIM in the vae_photos loss")
    p.add_argument("--vae-anchor", type=float, help="weight: drawn cats keep their first-stage latents")
    p.add_argument("--vae-keep-decoder", type=float,
                   help="weight: the U-Net's own latents decode as the first stage's decoder drew them")
    p.add_argument("--portrait-steps", type=int, help="override the number of steps of the unet_portraits stage")
    p.add_argument("--lcm-steps", type=int, help="steps of the unet_lcm stage (0: no few-step student)")
    p.add_argument("--threads", type=int, help="torch threads (default: all cores)")
    p.add_argument("--snr-gamma", type=float, help="Min-SNR loss weighting for the U-Net (e.g. 5; default 0: off)")
    p.add_argument("--fur-drop", type=float,
                   help="chance to leave the fur colour out of a U-Net caption (default 0.04, as shipped; see "
                        "the model card)")
    p.add_argument("--pool-heads", type=int,
                   help="a pooling of the prompt added to the U-Net's timestep embedding, with this many heads "
                        "(default 4, as shipped; 0: off, as in Stable Diffusion 1.x; see the model card)")
    p.add_argument("--time-scale-shift", choices=("default", "scale_shift"),
                   help="how the U-Net's ResNet blocks take the timestep embedding (default scale_shift, as shipped; "
                        "'default' is Stable Diffusion 1.x's; see the model card)")
    p.add_argument("--cross-attention-16", action=argparse.BooleanOptionalAction,
                   help="cross-attention at the 16x16 level's down block as well as at 8x8 (default: on, as shipped; "
                        "--no-cross-attention-16 gives it to the 8x8 level only; see the model card)")
    p.add_argument("--bf16", action=argparse.BooleanOptionalAction,
                   help="train in bfloat16 autocast where the hardware supports it (default: on, as the shipped "
                        "model was trained; --no-bf16 trains in float32)")
    p.add_argument("--init-unet", type=Path,
                   help="start the U-Net from these weights (a diffusers unet folder, e.g. the shipped model's) "
                        "to train it further; use a fresh --work-dir or delete unet* in it")
    p.add_argument("--snapshot", action=argparse.BooleanOptionalAction,
                   help="at every checkpoint, also save the U-Net's moving average so far as <stage>_snapshot/ "
                        "(default: off)")
    p.add_argument("--from-snapshot", action="store_true",
                   help="export the U-Net's latest checkpoint snapshot (needs --snapshot while training)")


def parse_args(argv=None) -> tuple[MiniSDConfig, argparse.Namespace]:
    """The command line as a config (defaults: `MiniSDConfig`) and the remaining choices (stages, ...)."""
    p = _parser()
    a = p.parse_args(argv)
    cfg = MiniSDConfig()
    for opt, field in _FIELDS.items():
        value = getattr(a, opt)
        if value is None or (opt in _IF_NONZERO and not value):
            continue
        if opt in _AT_LEAST_0 and value < 0:
            p.error(f"--{opt.replace('_', '-')} must be at least 0, not {value}")
        if opt == "fur_drop" and not 0 <= value < 1:
            p.error(f"--fur-drop must be at least 0 and below 1, not {value}")
        setattr(cfg, field, value)
    if a.cross_attention_16 is not None:
        cfg.unet_down = ("CrossAttnDownBlock2D" if a.cross_attention_16 else "DownBlock2D", "CrossAttnDownBlock2D")
    return cfg, a


def main(argv=None) -> None:
    cfg, a = parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    cfg.work_dir.mkdir(parents=True, exist_ok=True)
    fns = {"data": stage_data, "tokenizer": stage_tokenizer, "clip": stage_clip, "portraits": stage_portraits,
           "judge": stage_judge, "vae": stage_vae, "unet": stage_unet, "vae_photos": stage_vae_photos,
           "unet_portraits": stage_unet_portraits, "unet_lcm": _stage_unet_lcm, "export": stage_export}
    if a.init_unet:
        fns["unet"] = lambda c: stage_unet(c, init_from=a.init_unet)
    if a.from_snapshot:
        fns["export"] = lambda c: stage_export(
            c, unet_dir=c.work_dir / ("unet_portraits_snapshot" if c.portrait_steps else "unet_snapshot"))
    for s in a.stage or STAGES:
        t0 = time.perf_counter()
        print(f"[minisd] stage {s} ...", flush=True)
        path = fns[s](cfg)
        print(f"[minisd] stage {s} done in {time.perf_counter() - t0:.0f} s -> {path}", flush=True)


if __name__ == "__main__":
    main()
