"""The few-step student (minisd/distill.py): its maths against diffusers', its training stage, and loading it."""

import json

import numpy as np
import pytest
import torch

from course_utils.minisd import data as D
from course_utils.minisd import distill
from course_utils.minisd.config import MODEL_DIR, MiniSDConfig
from course_utils.models import student_shipped

SHIPPED = student_shipped()


def test_the_boundary_scalings_are_the_lcm_schedulers():
    lcm = distill.lcm_scheduler(MiniSDConfig())
    for t in (0, 1, 19, 259, 999):
        want = lcm.get_scalings_for_boundary_condition_discrete(torch.tensor(t))
        got = distill.boundary_scalings(torch.tensor(t))
        assert [float(g) for g in got] == pytest.approx([float(w) for w in want], rel=1e-6)
    c_skip, c_out = distill.boundary_scalings(torch.tensor(0))
    assert (float(c_skip), float(c_out)) == (1.0, 0.0)  # f(x, 0) = x


def test_the_scheduler_samples_on_the_grid_the_student_learnt():
    cfg = MiniSDConfig()
    lcm = distill.lcm_scheduler(cfg)
    k = cfg.num_train_timesteps // cfg.lcm_grid
    for n in (1, 2, 4, 8):
        lcm.set_timesteps(n)
        ts = lcm.timesteps.tolist()
        assert len(ts) == n and ts == sorted(ts, reverse=True) and all((t + 1) % k == 0 for t in ts), ts


def _distill_work_dir(tmp_path, steps: int):
    """A work folder with the shipped teacher, tokenizer, text encoder and autoencoder, and 8 drawn cats."""
    from course_utils.minisd import train as T

    cfg, _ = T.parse_args(["--work-dir", str(tmp_path), "--lcm-steps", str(steps)])
    assert cfg.lcm_steps == steps
    cfg.lcm_batch = 4
    for part, shipped in (("unet", "unet"), ("tokenizer", "tokenizer"), ("clip", "text_encoder"),
                          ("vae_photos", "vae")):
        (tmp_path / part).symlink_to(MODEL_DIR / shipped)
    imgs, specs = D.make_dataset(8, seed=1)
    np.savez(tmp_path / "data.npz", images=imgs, specs=json.dumps([s.as_dict() for s in specs]))
    return cfg


def test_the_distillation_stage_trains_a_student_from_the_teacher(tmp_path):
    from diffusers import UNet2DConditionModel

    cfg = _distill_work_dir(tmp_path, 3)
    cfg.lcm_shuffle = 0.0  # matching captions only
    out = distill.stage_unet_lcm(cfg)
    assert (tmp_path / "latents_vae_photos.pt").exists()  # the teacher's training latents, encoded once
    student = UNet2DConditionModel.from_pretrained(out).state_dict()
    teacher = UNet2DConditionModel.from_pretrained(MODEL_DIR / "unet").state_dict()
    assert any(not torch.equal(student[k], teacher[k]) for k in teacher)
    assert (tmp_path / "unet_lcm_loss.csv").read_text().startswith("step,loss,seconds\n0,")
    assert distill.stage_unet_lcm(cfg) == out  # done once: a second run finds it


def test_shuffled_captions_train_the_student_too(tmp_path):
    from diffusers import UNet2DConditionModel

    cfg = _distill_work_dir(tmp_path, 2)
    cfg.lcm_shuffle = 0.5  # as shipped: half the captions another picture's
    student = UNet2DConditionModel.from_pretrained(distill.stage_unet_lcm(cfg)).state_dict()
    teacher = UNet2DConditionModel.from_pretrained(MODEL_DIR / "unet").state_dict()
    assert any(not torch.equal(student[k], teacher[k]) for k in teacher)


def test_the_compile_table_says_after_how_many_pictures_compiling_pays():
    from course_utils.minisd import bench

    rows = bench.compiled_table({"full": {"eager": 0.3, "compiled": 0.2, "first_cold_cache": 40.2,
                                          "first_warm_cache": 5.2},
                                 "fast": {"eager": 0.05, "compiled": 0.06, "first_cold_cache": 30.0,
                                          "first_warm_cache": 4.0}})
    assert rows[2].split("|")[6:8] == [" 400 ", " 50 "]  # (40.2 - 0.2) / 0.1 and (5.2 - 0.2) / 0.1
    assert rows[3].split("|")[6:8] == [" never ", " never "]  # slower once compiled: it never pays


def test_no_student_when_its_steps_are_zero(tmp_path):
    from course_utils.minisd import train as T

    cfg, _ = T.parse_args(["--work-dir", str(tmp_path), "--lcm-steps", "0"])
    assert distill.stage_unet_lcm(cfg) is None
    with pytest.raises(SystemExit):
        T.parse_args(["--lcm-steps", "-1"])


@pytest.mark.skipif(not SHIPPED, reason="the model folder has no few-step student")
def test_the_fast_model_loads_with_plain_diffusers_and_the_course():
    from diffusers import LCMScheduler, StableDiffusionPipeline, UNet2DConditionModel

    import course_utils as cu

    fast = cu.load_pipeline("embedded-fast", verbose=False)
    full = cu.load_pipeline("embedded", verbose=False)
    assert isinstance(fast.scheduler, LCMScheduler) and fast.unet is not full.unet
    assert cu.models.model_defaults(fast) == (4, 1.0)
    plain = StableDiffusionPipeline.from_pretrained(
        MODEL_DIR, unet=UNet2DConditionModel.from_pretrained(MODEL_DIR, subfolder="unet_lcm"),
        scheduler=LCMScheduler.from_pretrained(MODEL_DIR, subfolder="scheduler_lcm"), safety_checker=None,
        feature_extractor=None, requires_safety_checker=False)
    plain.set_progress_bar_config(disable=True)
    prompt = "a ginger cat in manga style on a blue background"
    a = plain(prompt, num_inference_steps=4, guidance_scale=1.0, generator=torch.Generator().manual_seed(3)).images[0]
    b = cu.text_to_image(prompt, pipe=fast, seed=3).image
    assert np.abs(np.asarray(a, float) - np.asarray(b, float)).max() <= 1  # the course's call is diffusers' call
    assert cu.models.check_model_folder(MODEL_DIR) == []


@pytest.mark.skipif(not SHIPPED, reason="the model folder has no few-step student")
def test_the_side_by_side_widget_redraws_both_and_times_them():
    import course_utils as cu

    duel = cu.widgets.fast_vs_full(seed=1)
    before = duel.image.value
    duel.set(seed=2, steps=2)
    assert duel.image.value != before and duel.last_error is None
    assert "quicker" in duel.message.value


@pytest.mark.skipif(not SHIPPED, reason="the model folder has no few-step student")
def test_the_race_says_what_chapter_7_reads_in_it():
    # chapter 7's prose (both paths) reads these verdicts in the race's table: keep them true
    from course_utils import parameters as P

    race = P.fast_vs_full_race()
    full, four, one, extra = (race.row(x) for x in (P.FULL, P.FAST.format(4, "s"), P.FAST.format(1, ""), P.EXTRA))
    assert full["seconds"] > 2 * four["seconds"]
    # "about as often" at 4 steps: at most two of the twelve pictures apart, by either judge
    assert abs(four["pixels"] - full["pixels"]) <= 2 / 12 + 1e-9 and abs(four["clip"] - full["clip"]) <= 2 / 12 + 1e-9
    # "a single pass gets far fewer right": at least three pictures fewer, by either judge
    assert one["pixels"] <= four["pixels"] - 3 / 12 and one["clip"] <= four["clip"] - 3 / 12
    assert race.variety["fast"] < race.variety["full"]
    assert extra["pixels"] < four["pixels"] and extra["clip"] < four["clip"]
    assert "1 step:" in race.verdicts() and "quicker per picture" in race.verdicts()


@pytest.mark.skipif(not SHIPPED, reason="the model folder has no few-step student")
def test_the_dashboard_offers_the_fast_model_at_its_own_defaults():
    import course_utils as cu

    dash = cu.widgets.parameter_dashboard(cu.load_pipeline("embedded", verbose=False))
    assert dash.controls["model"].layout.display == "flex" and dash.values()["model"] == "full"
    full_picture = dash.image.value
    assert dash.set(model="fast")
    assert (dash.values()["steps"], dash.values()["guidance"]) == (4, 1.0)
    assert dash.image.value != full_picture and "fast model" in dash.message.value and dash.last_error is None
    assert dash.set(model="full") and (dash.values()["steps"], dash.values()["guidance"]) == (20, 7.5)
    assert dash.image.value == full_picture  # from the cache: the same settings, the same picture
