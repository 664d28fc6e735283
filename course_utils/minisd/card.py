"""Write the embedded model's card (``assets/models/minisd-cats/README.md``) from measured figures.

    python -m course_utils.minisd.card

It reads what training, evaluation and the benchmark wrote into the model folder
(``training_time.json``, ``eval.json``, ``bench.md``) and counts the parameters itself, so the card
never states a figure that was not measured.
"""

from __future__ import annotations

import json

from . import data as D
from .config import MODEL_DIR, MiniSDConfig


def _params() -> dict[str, int]:
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPModel, CLIPTextModel

    n = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    clip = CLIPModel.from_pretrained(MODEL_DIR / "clip")
    return {"U-Net": n(UNet2DConditionModel.from_pretrained(MODEL_DIR / "unet")),
            "VAE": n(AutoencoderKL.from_pretrained(MODEL_DIR / "vae")),
            "text encoder": n(CLIPTextModel.from_pretrained(MODEL_DIR / "text_encoder")),
            "image tower (for scoring only)": n(clip.vision_model) + n(clip.visual_projection)}


def _fast_section(cfg: MiniSDConfig) -> str:
    """The few-step student (distill.py), with its measured adherence and speed; empty without one."""
    from course_utils.models import student_shipped

    if not student_shipped():
        return ""
    ev = json.loads((MODEL_DIR / "eval.json").read_text()) if (MODEL_DIR / "eval.json").exists() else {}
    rows = []
    for steps, r in ev.get("fast", {}).items():
        for name, what in (("seen", "seen"), ("held_out", "held-out")):
            full = ev[f"adherence_{name}_g7.5"]
            rows.append(f"| {steps} | {what} | {r[name]['pixels']['all']:.1f} % | {r[name]['clip']['all']:.1f} % | "
                        f"{full['pixels']['all']:.1f} % | {full['clip']['all']:.1f} % |")
    table = "\n".join(["| student steps | combinations | pixel rules | tiny CLIP | 20-step model, pixel rules | "
                       "20-step model, tiny CLIP |", "|---|---|---|---|---|---|", *rows]) if rows else \
        "(run `make eval-model`)"
    return f"""## The few-step model (distilled)

`unet_lcm/` and `scheduler_lcm/` hold a student of the U-Net that draws in 1 to 4 steps without guidance
(`course_utils/minisd/distill.py`, the `unet_lcm` stage): latent consistency distillation (Luo et al. 2023,
as in diffusers' `train_lcm_distill_sd_wds.py`) from the shipped U-Net, which it starts as a copy of.
{cfg.lcm_steps:,} steps of batch {cfg.lcm_batch} (learning rate {cfg.lcm_lr:g}): a training latent is noised
to a timestep of a {cfg.lcm_grid}-step DDIM grid, the teacher takes one DDIM step with guidance
{cfg.lcm_guidance:g} on it, and the student's estimate of x0 there must match that of an exponential moving
average of itself (decay {cfg.lcm_target_decay:g}) one step further on (pseudo-Huber distance). For
{100 * cfg.lcm_shuffle:.0f} % of the batch the caption is another training picture's: the teacher's path then leads
from that noisy latent to the caption's picture, which taught the student to follow the words over the noise it
starts from (with matching captions only, and guidance 7.5 over 2,000 steps, it followed held-out
combinations by tiny CLIP 64 % of the time at 4 steps; see the table for this one). Load it with plain
diffusers:

```python
from diffusers import LCMScheduler, StableDiffusionPipeline, UNet2DConditionModel
path = "assets/models/minisd-cats"
pipe = StableDiffusionPipeline.from_pretrained(
    path, unet=UNet2DConditionModel.from_pretrained(path, subfolder="unet_lcm"),
    scheduler=LCMScheduler.from_pretrained(path, subfolder="scheduler_lcm"))
image = pipe("a ginger cat in manga style on a blue background", num_inference_steps=4,
             guidance_scale=1.0).images[0]
```

or `cu.load_pipeline("embedded-fast")`. Adherence on the prompts and seeds of the Metrics section (`make
eval-model`), beside the 20-step model at guidance 7.5:

{table}

Its speed is in the `make bench` table under Metrics (the rows starting with "fast"). The same prompts and
seeds, top row the 20-step model at guidance 7.5, then the student at 4, 2 and 1 steps:

![the 20-step model and the few-step student](fast_samples.png)

"""


def write_card() -> str:
    cfg = MiniSDConfig()
    params = _params()
    size = sum(p.stat().st_size for p in MODEL_DIR.rglob("*") if p.is_file() and p.suffix == ".safetensors")
    tfile = MODEL_DIR / "training_time.json"
    timing = json.loads(tfile.read_text()) if tfile.exists() else {}
    ev = (MODEL_DIR / "eval.md").read_text() if (MODEL_DIR / "eval.md").exists() else "(run `make eval-model`)"
    bench = (MODEL_DIR / "bench.md").read_text() if (MODEL_DIR / "bench.md").exists() else "(run `make bench`)"
    vae_scale = json.loads((MODEL_DIR / "vae" / "config.json").read_text())["scaling_factor"]
    t_rows = "\n".join(f"| {k} | {v['seconds'] / 60:.1f} min | {v['device']}, {v['threads']} "
                       f"thread{'s' if v['threads'] != 1 else ''}{'; ' + v['note'] if v.get('note') else ''} |"
                       for k, v in timing.items())
    total = sum(v["seconds"] for v in timing.values()) / 60 if timing else 0
    held = ", ".join(f"{a.split(':')[1]} {'+'} {b.split(':')[1]}" for a, b in D.HELD_OUT)
    snr = f"Min-SNR loss weighting (γ = {cfg.unet_snr_gamma:g}), " if cfg.unet_snr_gamma else ""
    bf16 = ", bfloat16 autocast in training" if cfg.bf16 else ""
    conditioning = ""
    if cfg.unet_pool_heads:
        conditioning = ("\n  The prompt also reaches every ResNet block: an attention"
                        "\n  pooling of the token embeddings is added to the timestep embedding (diffusers'"
                        f"\n  `addition_embed_type=\"text\"`, {cfg.unet_pool_heads} heads, as in DeepFloyd IF).")
    if cfg.unet_time_scale_shift == "scale_shift":
        conditioning += ("\n  Each ResNet block applies that embedding after its group norm, as a scale and a shift"
                         "\n  (`resnet_time_scale_shift=\"scale_shift\"`, ADM's adaptive group norm), not before it as"
                         "\n  Stable Diffusion 1.x does. Neither is in SD 1.x; both are measured under Limitations.")
    if "CrossAttn" in cfg.unet_down[0]:
        levels = (f"convolutions at\n  both, cross-attention at 8 x 8 ({cfg.unet_heads[-1]} heads of width "
                  f"{cfg.unet_channels[-1] // cfg.unet_heads[-1]}) and on the way down at 16 x 16 ({cfg.unet_heads[0]} "
                  f"head{'s' if cfg.unet_heads[0] > 1 else ''} of width {cfg.unet_channels[0] // cfg.unet_heads[0]})")
    else:
        levels = (f"convolutions at\n  16 x 16, convolutions and cross-attention ({cfg.unet_heads[-1]} heads of width"
                  f"\n  {cfg.unet_channels[-1] // cfg.unet_heads[-1]}) at 8 x 8")
    tuned = "judge" in timing
    fur_drop = (f" (for the U-Net, {cfg.caption_fur_drop:.0%} of the time the fur colour too)"
                if cfg.caption_fur_drop > 0 else "")
    held_note = " (only the judge's image tower, which conditions nothing, sees them: see Metrics)" if tuned else ""
    judge_note = (f": its text tower is the pipeline's text encoder, and its image tower was tuned for "
                  f"{cfg.judge_steps} more steps on {cfg.judge_images:,} pictures of every combination, held-out "
                  f"ones included, with the text tower frozen (stage `judge`), so that it reads held-out "
                  f"pictures as well as seen ones" if tuned else "")
    from . import photos as P

    photo_list = ", ".join(P.TRAIN)
    fast = _fast_section(cfg)
    held_photos = ", ".join("chelsea (MAU)" if n == "chelsea" else n for n in P.HELD_OUT)
    card = f"""# minisd-cats: the course's embedded text-to-image model

A small model built like Stable Diffusion 1.x (CLIP text encoder, KL autoencoder,
text-conditioned U-Net, DDIM scheduler, all plain diffusers and transformers classes), trained by
the course on procedurally drawn cats so that every chapter can generate real pictures on a CPU
without a network. Load it with plain diffusers:

```python
from diffusers import StableDiffusionPipeline
pipe = StableDiffusionPipeline.from_pretrained("assets/models/minisd-cats", local_files_only=True)
image = pipe("a ginger cat in manga style on a blue background").images[0]   # 64 x 64
```

## Data

{cfg.n_images:,} pictures of 64 x 64 pixels drawn by `course_utils/minisd/data.py` (deterministic
for a seed): {len(D.FUR_COLOURS)} fur colours ({", ".join(D.FUR_COLOURS)}), {len(D.PATTERNS)} coat
patterns, {len(D.BACKGROUNDS)} background colours ({", ".join(D.BACKGROUNDS)}), {len(D.EYE_COLOURS)} eye
colours, 2 poses, varied size and position, and 4 styles: photo-like, flat cartoon, manga (black ink
and screentone on tinted paper) and 16-bit pixel art. Captions are written afresh at every use from
templates with synonyms and varied word order; {cfg.caption_attr_drop:.0%} of the time each of pattern,
background and style is left out{fur_drop}, and {cfg.caption_drop:.0%} of captions
are empty (for classifier-free guidance). Held out of the generator's training entirely: {held}{held_note}.

## Architecture and parameters

| part | parameters | notes |
|---|---|---|
""" + "\n".join(f"| {k} | {v / 1e6:.2f} M | |" for k, v in params.items()) + f"""

- Text encoder: `CLIPTextModel`, {cfg.text_layers} layers, width {cfg.text_width}, {cfg.max_length} tokens;
  tokenizer: a byte-pair encoding trained on the captions, in CLIP's format. Trained contrastively
  with a ViT image tower (`clip/`, kept for scoring pictures against prompts).
- VAE: `AutoencoderKL`, channels {cfg.vae_channels}, 64 x 64 x 3 pixels to 16 x 16 x 4 latents,
  {cfg.vae_steps:,} steps of batch {cfg.vae_batch}{bf16}; latent scaling factor measured on the
  training pictures: {vae_scale:.4f}.
- U-Net: `UNet2DConditionModel`, two levels with channels {cfg.unet_channels}: {levels},
  and a middle block with cross-attention.{conditioning}
  It is shallow on purpose: on a CPU the time of a call this small goes mostly to the number of
  layers, not their width. Epsilon prediction, scaled-linear betas ({cfg.beta_start} to {cfg.beta_end},
  {cfg.num_train_timesteps} steps),
  {cfg.unet_steps:,} steps of batch {cfg.unet_batch}, {snr}EMA weights{bf16}.
- Files: safetensors only, {size / 2**20:.1f} MiB in all.

## Training

`make train-model` (`python -m course_utils.minisd.train`) runs the stages data, tokenizer, clip,
judge, vae, unet, vae_photos, unet_lcm and export, with seeds, progress bars, checkpoints every
{cfg.checkpoint_every} steps, resume, and loss logs in `build/minisd/*_loss.csv`. Measured training time:

| stage | time | where |
|---|---|---|
{t_rows}
| **all** | **{total:.0f} min** | |

The stages above ran on two hosts with 2 cores each: the U-Net on a Xeon with AMX (matrix units that run
bfloat16 products in hardware), the others on an earlier, slower host. Every stage timed on the Xeon, 2
threads (the U-Net is the shipped one; the other stages ran there again only to be timed, and their weights
are not shipped; "latents" is the VAE encoding of the training pictures, part of the U-Net stage; the later
stages, `portraits` and `vae_photos`, are in the table above, timed on the Xeon):

| data | tokenizer | clip | judge | vae | latents | unet | **all** |
|---|---|---|---|---|---|---|---|
| 0.9 min | 0.0 min | 4.8 min | 1.2 min | 25.5 min | 0.8 min | 54.6 min | **88 min** |

On the earlier host, the layout without cross-attention at 16 x 16 took 54 to 62 min to train, against 40
to 42 on the Xeon. Scaled by that ratio, the shipped U-Net would take about 70 to 85 min there, and the
whole run about 135 to 150 min with the photo stage, over two hours (an estimate, not a measurement).

## Photos and close-ups: the later stages

Trained on drawn cats alone, the autoencoder turned any photo into drawn-cat colours (MAU's photo came
back as a pink smear, CIEDE2000 17.5), and the U-Net, which had only seen whole cats on plain walls,
redrew a close-up of a face as a whole cat seen from behind. Two more stages address what image-to-image
of a real photo needs; the first is part of the shipped model, the second is not yet:

- `vae_photos`: the autoencoder's {"encoder and decoder" if cfg.vae_photo_decoder else "encoder (not its decoder)"}
  trained {cfg.vae_photo_steps:,} more steps (learning rate {cfg.vae_photo_lr:g}, batch {cfg.vae_batch}), half of
  each batch drawn cats (full-body and close-ups), half crops of public-domain photos that scikit-image and
  matplotlib ship ({photo_list}; random squares from an eighth of the photo to all of it, flips, hue,
  saturation and brightness shifts; grey photos tinted at random). Held out of training, and measured:
  {held_photos}. The latent scale stays the first stage's. The decoder is kept because every picture the
  U-Net makes is drawn by it: trained on photos as well (2,000 steps, measured once), it gave MAU back
  better (grey SSIM 0.79, CIEDE2000 6.4) but drew the U-Net's cats softer: with the same U-Net, seen
  adherence by the pixel rules fell from 94 to 74 % on 96 prompts (sprites and photo-style cats read as
  cartoons). With the decoder kept, the
  encoder learns, for a photo, the latent this decoder turns back into it.
- `unet_portraits` (optional, `--portrait-steps N`): the U-Net trained further from the first stage's
  EMA weights with close-ups of faces as a share of each batch ({cfg.n_portraits:,} drawn by
  `data.make_portraits`: eyes, nose, whiskers, cheek and forehead stripes, in all four styles, from a
  face with its ears and chest to one filling the frame, captioned "a close-up of ..." or "... cat's face").
  **Off as shipped.** Three runs taught it close-ups, and image-to-image then put the eyes where MAU's
  are, but each cost whole cats about 20 points of seen adherence by the pixel rules (69-75 % against
  94 % on 96 prompts; the first two also with the photo-trained decoder; a quarter to a half of each
  batch close-ups, learning rate 1.5e-4 to 3e-4, 1,500
  steps): sprites and photo-style cats came out as flat cartoons, and now and then a face appeared where
  a whole cat was asked for. A close-up stage that keeps every bound is still to be found; the data,
  the stage and the judge that reads close-ups are here for it.

The shipped autoencoder was trained this way from the previous release's, which the first stage (`vae`)
reproduces; the shipped U-Net is the first stage's, unchanged; the judge's image tower was tuned from
the previous judge, on {cfg.judge_portraits:,} close-ups as well. The figures are in the tables under
Metrics. What the model keeps of MAU (photo | autoencoder round trip | image-to-image at strengths 0.2,
0.4, 0.6, 0.8 and 1.0, seed 0;
top row manga, bottom row 16-bit pixel art, each at its chosen working size; the prompts are
`evaluate.tradeoff_prompt`'s):

![MAU through the model](photo_strengths.png)

{fast}## Metrics

Measured by `make eval-model` at 20 DDIM steps and guidance 7.5 unless a row says otherwise.
"Pixel rules" reads fur, background and style off the pixels with fixed rules (no model);
"tiny CLIP" is this model's own CLIP, zero-shot{judge_note}. Both are first checked on generator pictures,
of seen and of held-out combinations.
In manga style, fur is judged as a tone (dark, mid, light), since ink has no hue.

{ev}

Speed and memory (`make bench`):

{bench}

These figures depend on the processor more than on anything in the course, and the host's load moves
them too: the earlier U-Net took 0.199 s per picture in one `make bench` and 0.248 s in a later
measurement, on a CPU of the same model (a 2-core Xeon with AMX). Another
2-core host, whose speed probe read 0.34 s before and 0.31 s after (its CPU model was not recorded),
measured the earlier U-Net, which had cross-attention at 8 x 8 only: start to first picture 5.12 s
(imports 3.05, loading 1.82, first picture 0.27), over the 5-second bound; one picture 0.299 s; a batch
of 8 0.978 s; peak memory 465 MiB. The shipped U-Net takes 15 to 35 % longer per picture than that one
(two measurements on the Xeon above), so on that host it would miss the 0.3-second bound. Most of a
cold start is importing the libraries, not the model: diffusers imports `torch._dynamo`, and the Stable
Diffusion pipeline's module imports transformers' image processors and, for its single-file loader,
SciPy, whichever model it then loads. On that host those imports took about 4.7 of the 5.1 seconds.

## Licence

MIT, like the course. The training data is drawn by the course's own code.

## Limitations

- It knows only what the drawn data shows: whole cats, {len(D.FUR_COLOURS)} fur colours,
  {len(D.BACKGROUNDS)} plain backgrounds, 4 styles. Other words are tokenized but mean nothing to it.
- It draws no photo it has not been taught to: the autoencoder keeps much of a real photo (see the round
  trips under Metrics), but the U-Net repaints in the way of its drawings, so image-to-image of a photo
  trades MAU's features for the style quickly (the image-to-image table under Metrics, and the picture
  under "Photos and close-ups"). It has not learnt close-ups of faces (see that section).
- 64 x 64 pixels, and the small VAE blurs fine detail (screentone dots, sprite pixels). It also
  caps what the pixel rules can read: every picture the model makes is decoded by the VAE, and the
  row "after the VAE" above shows how often the rules still read generator pictures right after a
  trip through it. How long the VAE trains sets that ceiling: with 2,400 steps of batch 16 the
  rules read the style right on only about 81 % of round trips (sprite pixels blurred into smooth
  shapes), with 4,000 of batch 32 on 99 %.
- Trained for only {cfg.unet_steps:,} U-Net steps on a 2-core CPU: the style is not always the one
  asked for, least of all for combinations it never saw (see the metrics). Training longer is not
  a sure cure: this U-Net, trained for 1,300 more steps from its own weights
  (`python -m course_utils.minisd.train --init-unet assets/models/minisd-cats/unet --unet-steps N`
  with a fresh `build/minisd/unet*`), fitted the seen combinations better, composed the held-out
  ones worse, and left guidance less to do (this was measured on an earlier U-Net).
- How the prompt and the timestep reach the ResNet blocks mattered more than training longer.
  Measured with the same data, CLIP, VAE and 5,000 steps, on 96 seen and 48 held-out prompts (the
  first half of those `make eval-model` draws now), as pixel rules / tiny CLIP:

  | U-Net (cross-attention at 8 x 8 only) | seen, g 7.5 | held-out, g 7.5 | seen, g 1.0 |
  |---|---|---|---|
  | as in SD 1.x (timestep added before the norm, no pooled prompt) | 88 / 97 % | 90 / 81 % | 79 / 80 % |
  | + pooled prompt (4 heads) | 91 / 98 % | 81 / 75 % | 75 / 84 % |
  | scale and shift after the norm, no pooled prompt | 88 / 97 % | 85 / 83 % | 79 / 82 % |
  | scale and shift + pooled prompt (**the base**) | 93 / 99 % | 83 / 85 % | 81 / 83 % |
  | base + Min-SNR loss weighting (gamma 5) | 96 / 100 % | 79 / 73 % | 92 / 90 % |
  | base, 20 % empty captions instead of 10 % | 86 / 96 % | 77 / 73 % | 70 / 72 % |
  | base, last weights instead of their moving average (EMA) | 93 / 98 % | 79 / 77 % | 85 / 91 % |
  | base, 6,000 steps (70 min) | 93 / 99 % | 85 / 88 % | 91 / 94 % |
  | base, fur colour left out of 12 % of captions (`--fur-drop 0.12`) | 92 / 99 % | 81 / 69 % | 65 / 69 % |
  | base, fur colour left out of 5 % of captions | 93 / 98 % | 79 / 79 % | 74 / 74 % |
  | base, fur colour left out of 4 % of captions | 91 / 98 % | 83 / 77 % | 78 / 75 % |

  On these prompts, two of the U-Nets keep every adherence figure at 7.5 above its bound by both
  judges: the base, and the one trained for 6,000 steps, to which guidance adds almost
  nothing (2 points). Min-SNR weighting (`--snr-gamma 5`) fits the seen combinations best, but the
  tiny CLIP reads only 73 % of held-out pictures right, and guidance 1.0 is only 4 points below 7.5
  (10 by the tiny CLIP): guidance would have little left to show in chapter 7. Twice as many empty
  captions lowered every adherence figure: in the same 5,000 steps the U-Net saw fewer captioned
  pictures. The moving average of the weights is what composes held-out combinations and leaves
  guidance work to do: with the last weights, guidance 1.0 is only 7 points below 7.5 on seen
  prompts (tiny CLIP). Its decay warms up as (1 + step) / (10 + step) and reaches 0.998 at the last
  step; the cap of {cfg.ema_decay:g} binds only after step 8,991, so a cap of 0.9995 trained
  byte-identical weights (on the same machine, from the same data and latents).

  One reading: at 16 x 16, with 16 groups on 32 channels, a group norm holds two channels per group and
  subtracts their common mean, so half of what is added before it is lost, and the rest is rescaled
  by statistics of the whole picture. As SD 1.x does it, 8 of the 23 seen pictures on a red
  background went wrong somewhere, against 4 of the other 73 (3 of the 8 had their background read
  as pink: manga paper drawn too deep a pink beside a dark cat); with scale and shift, 2 of 23, and
  the pixel rules read every background right. Measure with `make eval-model` before keeping a change.

  Those rows carry chance: on 48 held-out pictures, 40 right (83 %) has a 95 % interval of 70 to
  91 %, so held-out differences of less than about 15 points between rows say little. That is why
  `make eval-model` draws twice as many (192 seen, 96 held-out) and prints each adherence bound with
  its interval (Wilson's, `evaluate.wilson_interval`). On those pictures three of the U-Nets read:

  | U-Net | seen, g 7.5 | held-out, g 7.5 | seen, g 1.0 | held-out, g 1.0 |
  |---|---|---|---|---|
  | base (fur colour always named) | 92 / 99 % | 78 / 83 % | 80 / 84 % | 62 / 60 % |
  | fur colour left out of 5 % of captions | 93 / 97 % | 77 / 77 % | 67 / 73 % | 51 / 47 % |
  | fur colour left out of 4 % of captions | 93 / 98 % | 81 / 79 % | 71 / 75 % | 52 / 50 % |

  All of them compose held-out combinations right about four times in five, on the 80 % bound
  itself; leaving the fur colour out of a few captions changes that little, but it doubles what
  guidance adds on seen prompts (from 12 to 22 and 26 points by the pixel rules).

  A recipe does not fix its U-Net, and the rows above differ by about as much as two trainings of
  one recipe do. Trained again on a 2-core CPU with AMX (matrix units that run the bfloat16
  products of training; the U-Net took 40 to 42 min there, against 54 to 62 before), from
  the same data, text encoder and VAE, two of these recipes read:

  | U-Net | seen, g 7.5 | held-out, g 7.5 | seen, g 1.0 | held-out, g 1.0 |
  |---|---|---|---|---|
  | base | 92 / 99 % | 78 / 83 % | 80 / 84 % | 62 / 60 % |
  | base recipe, trained again | 85 / 99 % | 77 / 90 % | 80 / 84 % | 60 / 59 % |
  | fur colour left out of 4 % of captions | 93 / 98 % | 81 / 79 % | 71 / 75 % | 52 / 50 % |
  | the same recipe, trained again | 90 / 98 % | 79 / 79 % | 70 / 80 % | 54 / 51 % |
  | the same recipe + cross-attention at 16 x 16 (**shipped**) | 92 / 98 % | 81 / 81 % | 67 / 71 % | 44 / 47 % |

  Between two trainings of the base recipe, seen adherence by the pixel rules moved 6 points and
  held-out adherence by the tiny CLIP 6 points: one training measures a recipe only to within several
  points, and all four U-Nets compose held-out combinations about four times in five. What held in
  both trainings is the effect of leaving the fur colour out: guidance then adds 19 to 22 points on
  seen prompts by the pixel rules, against 6 to 12 without. (A variant trains in a folder of its own:
  copy `tokenizer/`, `clip/`, `vae/` and `data.npz` from `build/minisd` into it, then
  `python -m course_utils.minisd.train --work-dir build/variant --stage unet`, with options such as
  `--fur-drop 0 --no-cross-attention-16` for the base recipe.)

  The shipped U-Net (the first stage, `unet`) is the 4 % recipe with cross-attention at the 16 x 16 level
  too, where a style's
  fine detail is drawn (screentone, sprite pixels, a photo's soft shading); before, only the pooled
  prompt reached that level. Trained once, on the AMX host, in 54.6 min (42.1 without it), it is the
  only U-Net here that keeps every adherence bound of `make eval-model` by both judges: held-out
  combinations at 81 % by both, and guidance adds 25 points on seen prompts (27 by the tiny CLIP).
  Its held-out figure lies within what two trainings of one recipe differ by, so one training does not
  show that the extra layer composes better; the larger guidance gap fits what leaving the fur colour
  out does in every training. It costs a transformer block at 16 x 16, 15 to 35 % more time per
  picture (see the speed figures above). `--no-cross-attention-16` trains the earlier layout.

  The first of these two tables shows a trade-off. Min-SNR weighting, the last weights and 6,000
  steps followed seen prompts at guidance 7.5 as well as the base U-Net or better, and at
  guidance 1.0 clearly better (85 to 92 % against 81 by the pixel rules): the better the U-Net
  follows a prompt on its own, the less guidance has to add. Even the base U-Net follows seen
  prompts well without guidance: on the 192 prompts of `make eval-model`, guidance adds 11.5 points
  by the pixel rules (91.7 against 80.2 %), short of the 15 the course asks for, and 15.1 by the
  tiny CLIP. Leaving the fur colour out of some captions goes the other way, as real captions do,
  which are never complete: the U-Net learns to draw a cat whose fur the caption does not name, so
  without guidance it follows the fur word less, and guidance adds 22 to 27 points on seen prompts;
  at 12 % it also composed held-out combinations worse (the tiny CLIP read 69 % of them right).

  The pixel rules were corrected after they had measured the rows above once: they read manga paper
  drawn a few levels darker than the generator's (under 188 of 255) as a cartoon's backdrop, and a
  dark tail crossing the floor line at one edge as pixel art's floor, while a cat standing over one
  edge hid a real floor (`metrics.is_paper` and `metrics.floor_step` say how they read them now).
  The corrected rules read the generator's own pictures as well or better, and all the figures here
  use them. Both misreadings struck pictures made without guidance more often, so the earlier rules
  put the base U-Net at 89.6 % seen at 7.5 and 69.8 % at 1.0: a gap of 20 points that was partly
  the rules' own.

  Guidance's effect also depends on the sampler. With DDIM's `eta=1` (fresh noise at every step,
  like DDPM) the base model follows seen prompts as well at guidance 1.0 as at 7.5 (89.5 / 96.9 %
  against 88.5 / 94.8 %, the same 96 pictures, measured with the earlier rules): the deterministic
  20-step path (`eta=0`, the default) is what drifts off the prompt without guidance.
- Image-to-image on a real photo (MAU) gives a drawn cat with the photo's layout and colours, not a
  faithful portrait: the model has never seen a photograph.
- A seed reproduces a picture only on the same hardware and library versions.
"""
    (MODEL_DIR / "README.md").write_text(card)
    return card


if __name__ == "__main__":
    print(write_card())
