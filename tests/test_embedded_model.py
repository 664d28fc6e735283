"""The shipped embedded model: loads offline with plain diffusers, is deterministic, follows prompts."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from course_utils.minisd import data as D
from course_utils.minisd.config import MODEL_DIR
from course_utils.minisd.metrics import classify_pixels

pytestmark = pytest.mark.skipif(not (MODEL_DIR / "model_index.json").exists(),
                                reason="the embedded model is not in assets/models (run `make train-model`)")


@pytest.fixture(scope="module")
def embedded_pipe():
    from diffusers import StableDiffusionPipeline

    p = StableDiffusionPipeline.from_pretrained(MODEL_DIR, local_files_only=True, use_safetensors=True,
                                                safety_checker=None, feature_extractor=None,
                                                requires_safety_checker=False)
    p.set_progress_bar_config(disable=True)
    return p


def test_folder_is_diffusers_format_safetensors_only_and_small():
    index = json.loads((MODEL_DIR / "model_index.json").read_text())
    assert index["_class_name"] == "StableDiffusionPipeline"
    for part in ("unet", "vae", "text_encoder", "tokenizer", "scheduler"):
        assert (MODEL_DIR / part).is_dir(), part
    files = [p for p in MODEL_DIR.rglob("*") if p.is_file()]
    assert not [p for p in files if p.suffix in {".bin", ".pt", ".pth", ".ckpt", ".pkl"}]
    assert any(p.suffix == ".safetensors" for p in files)
    total = sum(p.stat().st_size for p in files)
    assert total <= 40 * 2**20, f"{total / 2**20:.1f} MiB"


def test_latent_scale_was_measured():
    cfg = json.loads((MODEL_DIR / "vae" / "config.json").read_text())
    assert 0.05 < cfg["scaling_factor"] < 20 and cfg["scaling_factor"] != 0.18215


def test_loads_as_image_to_image_sharing_modules(embedded_pipe):
    from diffusers import StableDiffusionImg2ImgPipeline

    i2i = StableDiffusionImg2ImgPipeline(**embedded_pipe.components)
    img = D.render(D.random_spec(np.random.default_rng(0)), seed=0)
    out = i2i("a black cat in manga style on a red background", image=img, strength=0.5, num_inference_steps=10,
              generator=torch.Generator().manual_seed(0)).images[0]
    assert out.size == (64, 64) and i2i.unet is embedded_pipe.unet


def test_same_seed_same_bytes(embedded_pipe):
    def run():
        return embedded_pipe("a grey cat in cartoon style on a pink background", num_inference_steps=20,
                    generator=torch.Generator().manual_seed(5)).images[0].tobytes()

    assert run() == run()


def test_follows_the_background_colour_of_the_prompt(embedded_pipe):
    bgs = list(D.BACKGROUNDS)
    prompts = [D.prompt_for("ginger", bg, "cartoon") for bg in bgs]
    gens = [torch.Generator().manual_seed(i) for i in range(len(prompts))]
    imgs = embedded_pipe(prompts, num_inference_steps=20, guidance_scale=7.5, generator=gens).images
    got = [classify_pixels(i)["background"] for i in imgs]
    assert sum(g == b for g, b in zip(got, bgs)) >= len(bgs) - 1, list(zip(bgs, got))


def test_model_card_states_the_figures():
    card = (MODEL_DIR / "README.md").read_text()
    for words in ("Training", "Parameters", "Licence", "Limitations", "adherence"):
        assert words.lower() in card.lower(), words
    assert (MODEL_DIR / "samples.png").exists()
    assert Path(MODEL_DIR / "clip" / "config.json").exists()


def test_judge_reads_prompts_with_the_pipelines_own_text_encoder(embedded_pipe):
    """The judge's image tower may be tuned on held-out pictures; its text tower, the text encoder
    that conditions the U-Net, must be the one in the pipeline, weight for weight."""
    from course_utils.minisd.metrics import ClipJudge

    judge = ClipJudge.load(MODEL_DIR)
    enc = embedded_pipe.text_encoder.state_dict()
    tower = judge.model.text_model.state_dict()
    assert tower.keys() == enc.keys()
    for k, w in tower.items():
        assert torch.equal(w, enc[k]), k


def test_export_refuses_a_judge_tuned_from_another_clip(tmp_path):
    """A judge left over from an earlier CLIP would score prompts with another text encoder."""
    from transformers import CLIPModel

    from course_utils.minisd import train as T
    from course_utils.minisd.config import MiniSDConfig

    work = tmp_path / "work"
    work.mkdir()
    for part, shipped in (("tokenizer", "tokenizer"), ("vae_photos", "vae"), ("unet", "unet")):
        (work / part).symlink_to(MODEL_DIR / shipped)
    (work / "clip").symlink_to(MODEL_DIR / "clip")
    cfg = MiniSDConfig(work_dir=work, out_dir=tmp_path / "out")
    clip = CLIPModel.from_pretrained(MODEL_DIR / "clip")
    with torch.no_grad():  # a judge whose image tower moved: fine
        clip.visual_projection.weight.mul_(1.01)
    clip.save_pretrained(work / "judge")
    T.stage_export(cfg)
    exported = CLIPModel.from_pretrained(cfg.out_dir / "clip")
    assert torch.equal(exported.visual_projection.weight, clip.visual_projection.weight)
    with torch.no_grad():  # a judge whose text tower moved: refused
        clip.text_model.final_layer_norm.bias.add_(0.01)
    clip.save_pretrained(work / "judge")
    with pytest.raises(RuntimeError, match="tuned from another CLIP"):
        T.stage_export(cfg)


def test_unet_conditioning_options_run_in_the_plain_pipeline_and_are_counted(embedded_pipe):
    # The shipped U-Net adds a pooling of the prompt to the timestep embedding and applies it after the
    # ResNet blocks' group norm (MiniSDConfig.unet_pool_heads, unet_time_scale_shift); Stable Diffusion 1.x
    # does neither. Both settings must run in the plain pipeline, and chapter 6's FLOP counter must count them.
    import dataclasses

    from diffusers import StableDiffusionPipeline

    from course_utils import compute
    from course_utils.minisd.config import MiniSDConfig
    from course_utils.minisd.train import build_unet

    cfg = MiniSDConfig()
    shipped = embedded_pipe.unet.config
    assert shipped.addition_embed_type == "text" and shipped.addition_embed_type_num_heads == cfg.unet_pool_heads
    assert shipped.resnet_time_scale_shift == cfg.unet_time_scale_shift == "scale_shift"
    # the model card describes the layout from the config, so the config must build the shipped layout
    layout = ("down_block_types", "up_block_types", "block_out_channels", "attention_head_dim", "layers_per_block")
    built = build_unet(cfg).config
    assert {k: list(np.atleast_1d(built[k])) for k in layout} == {k: list(np.atleast_1d(shipped[k])) for k in layout}
    sd1 = build_unet(dataclasses.replace(cfg, unet_pool_heads=0, unet_time_scale_shift="default")).eval()
    assert sd1.config.addition_embed_type is None and sd1.config.resnet_time_scale_shift == "default"
    for unet in (build_unet(cfg).eval(), sd1):
        other = StableDiffusionPipeline(**{**embedded_pipe.components, "unet": unet}, requires_safety_checker=False)
        other.set_progress_bar_config(disable=True)
        img = other("a black cat", num_inference_steps=2, generator=torch.Generator().manual_seed(0)).images[0]
        assert img.size == (D.SIZE, D.SIZE)
    hw = D.SIZE // 4
    extra = compute.unet_flops(embedded_pipe.unet, latent_hw=hw) - compute.unet_flops(sd1, latent_hw=hw)
    assert extra > 0  # the pooling's and the scale-and-shift projections are counted


def test_pixel_rules_read_grey_and_white_cats_after_the_vae(embedded_pipe):
    # The VAE never saw a grey cartoon cat (a held-out pair) and washes out its slight blue tint; the
    # flat grey that is left must not pass for a white cat's deepest shade (see metrics._vote_fur)
    from course_utils.minisd.evaluate import vae_round_trip

    rng = np.random.default_rng(3)
    for fur, styles in (("grey", ("cartoon",) * 2), ("white", ("photo", "cartoon", "pixel"))):
        specs = [D.random_spec(rng, fur=fur, style=st, pattern="solid", held_out=None)
                 for st in styles for _ in range(8)]
        trips = vae_round_trip(embedded_pipe, [D.render(s, seed=i) for i, s in enumerate(specs)])
        reads = [classify_pixels(t)["fur"] for t in trips]
        assert reads == [fur] * len(specs), (fur, reads)


def test_shipped_configs_carry_no_path_of_the_machine_that_trained_them():
    for config in MODEL_DIR.rglob("*.json"):
        data = json.loads(config.read_text())
        assert "_name_or_path" not in data or not Path(str(data["_name_or_path"])).is_absolute(), config
