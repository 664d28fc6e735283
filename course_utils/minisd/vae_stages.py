"""The autoencoder's stages: ``vae`` (trained on the drawn cats) and ``vae_photos`` (its encoder trained
further on photos as well, optionally with the decoder, a grey-level SSIM term, an anchor to the first
stage's latents and a bank of the U-Net's latents the decoder must keep drawing)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from . import data as D
from .config import MiniSDConfig
from .data_stages import batch_to_tensor, load_data
from .loop import autocast, train_device, train_loop, write_timing
from .text_stages import load_tokenizer
from .unet_stages import build_scheduler


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
        x = batch_to_tensor(images[rng.integers(0, len(images), cfg.vae_batch)]).to(dev)
        return _vae_loss(cfg, vae, x, gen, dev)

    gen, elapsed = train_loop(cfg, "vae", vae, opt, loss_fn, steps=cfg.vae_steps, lr=cfg.vae_lr,
                              seeds=(cfg.seed + 2, cfg.seed))
    # Measure the latent scale: Stable Diffusion multiplies latents by 1/std so they have unit variance.
    with torch.no_grad():
        zs = torch.cat([vae.encode(batch_to_tensor(images[i:i + 256]).to(dev)).latent_dist.sample(gen)
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
        x = batch_to_tensor(np.concatenate([drawn[rng.integers(0, len(drawn), cfg.vae_batch - half)],
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
                            steps=cfg.vae_photo_steps, lr=cfg.vae_photo_lr, warmup=50,
                            seeds=(cfg.seed + 7, cfg.seed + 7))
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
