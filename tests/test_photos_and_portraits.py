"""Close-ups in the cat world, real photos for the autoencoder, and the capstone's measured recipes."""


import numpy as np
import pytest
from PIL import Image

from course_utils import capstone
from course_utils.errors import CourseInputError
from course_utils.minisd import data as D
from course_utils.minisd import metrics as Mx
from course_utils.minisd import photos as P


def test_random_full_body_pictures_never_become_close_ups():
    rng = np.random.default_rng(0)
    assert {D.random_spec(rng).pose for _ in range(300)} <= set(D.POSES)
    assert D.PORTRAIT not in D.POSES


def test_close_up_captions_say_so_and_fit_the_tokenizer():
    from transformers import CLIPTokenizer

    from course_utils.minisd.config import MODEL_DIR

    tok = CLIPTokenizer.from_pretrained(MODEL_DIR / "tokenizer")
    rng = np.random.default_rng(1)
    for _ in range(400):
        spec = D.portrait_spec(rng)
        cap = D.caption(spec, rng, drop_p=0.12, fur_drop_p=0.04)
        assert "close-up" in cap or "face" in cap, cap
        assert len(tok(cap).input_ids) <= tok.model_max_length, cap  # never truncated
    prompt = D.prompt_for("ginger", "green", "pixel", "tabby", close_up=True)
    assert prompt == "a close-up of a tabby ginger cat in 16-bit pixel art style on a green background"


def test_a_close_up_fills_the_frame_and_has_a_face():
    rng = np.random.default_rng(2)
    for style in D.STYLES:
        spec = D.portrait_spec(rng, style=style, fur="black", background="yellow", pattern="solid", held_out=None)
        a = np.asarray(D.render(spec, seed=0), float)
        yellow = np.abs(a - D.BACKGROUNDS["yellow"]).sum(-1) < 60 if style != "manga" else a.mean(-1) > 200
        cat_share = 1 - yellow.mean()
        assert cat_share > 0.45, (style, cat_share)  # a full-body cat covers about a fifth of the picture
        assert D.render(spec, seed=0).tobytes() == D.render(spec, seed=0).tobytes()


def test_held_out_photos_are_never_training_photos_and_mau_is_one():
    assert not set(P.HELD_OUT) & set(P.TRAIN)
    assert "chelsea" in P.HELD_OUT
    import course_utils as cu

    mau = cu.fit_square(cu.load_image(cu.images.MAU_PATH), 64)
    assert Mx.grey_ssim(mau, P.held_out_photos(64)["chelsea"]) > 0.9  # the course's MAU is scikit-image's chelsea


def test_photo_crops_are_deterministic_and_varied():
    a, b = P.photo_crops(6, seed=3), P.photo_crops(6, seed=3)
    assert a.shape == (6, 64, 64, 3) and a.dtype == np.uint8
    assert (a == b).all()
    assert len({x.tobytes() for x in a}) == 6


def test_identity_and_colour_measures():
    rng = np.random.default_rng(0)
    img = Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8))
    assert Mx.grey_ssim(img, img) == pytest.approx(1.0)
    assert Mx.colour_error(img, img) == pytest.approx(0.0, abs=1e-6)
    flat = Image.new("RGB", (64, 64), (128, 128, 128))
    assert Mx.grey_ssim(img, flat) < 0.1
    assert Mx.colour_error(Image.new("RGB", (8, 8), (200, 30, 30)), Image.new("RGB", (8, 8), (30, 30, 200))) > 30


def test_best_strength_is_the_lowest_that_keeps_both():
    from course_utils.minisd.evaluate import best_strength

    rows = [{"strength": 0.2, "identity": 0.8, "style_pct": 50.0},
            {"strength": 0.4, "identity": 0.6, "style_pct": 80.0},
            {"strength": 0.6, "identity": 0.52, "style_pct": 100.0},
            {"strength": 0.8, "identity": 0.3, "style_pct": 100.0}]
    assert best_strength(rows) == 0.4
    assert best_strength([{"strength": 0.9, "identity": 0.2, "style_pct": 100.0}]) is None


def test_the_recipe_falls_back_to_the_lowest_strength_where_the_style_holds():
    from course_utils.minisd.evaluate import recipe_choice

    weak = [{"strength": 0.3, "identity": 0.45, "style_pct": 50.0},
            {"strength": 0.5, "identity": 0.3, "style_pct": 80.0},
            {"strength": 0.7, "identity": 0.2, "style_pct": 100.0}]
    res = {"photo_image_to_image": {"chelsea/pixel/64": weak, "chelsea/pixel/128": weak[1:],
                                    "coffee/pixel/64": [{"strength": 0.1, "identity": 0.9, "style_pct": 100.0}]}}
    choice = recipe_choice(res, "pixel")
    assert (choice["strength"], choice["size"], choice["tier"]) == (0.5, 64, 2)
    res["photo_image_to_image"]["chelsea/pixel/128"] = [{"strength": 0.4, "identity": 0.55, "style_pct": 75.0}]
    assert recipe_choice(res, "pixel") == {"strength": 0.4, "size": 128, "identity": 0.55, "style_pct": 75.0,
                                           "tier": 1}
    assert recipe_choice(res, "manga") is None
    res["photo_image_to_image"]["chelsea/manga/128"] = [{"strength": 0.3, "identity": 0.3, "style_pct": 90.0}]
    assert recipe_choice(res, "manga") is None  # a larger size only where it meets both bounds
    res["photo_image_to_image"]["chelsea/manga/64"] = [{"strength": 0.3, "identity": 0.4, "style_pct": 25.0},
                                                       {"strength": 0.6, "identity": 0.1, "style_pct": 62.5},
                                                       {"strength": 0.9, "identity": 0.05, "style_pct": 62.5}]
    assert (recipe_choice(res, "manga")["strength"], recipe_choice(res, "manga")["tier"]) == (0.6, 3)


def test_recipes():
    from course_utils import models

    class Pipe:  # stands for a loaded pipeline: the registry says which model it runs
        pass

    embedded = models.remember(Pipe(), models.REGISTRY["embedded"])
    sd = models.remember(Pipe(), models.REGISTRY["sd15"])
    for style in capstone.STYLES:
        r = capstone.recipe(style, embedded)
        assert 0.1 <= r.strength <= 1.0 and r.size in (64, 128)
        assert 0 < r.identity < 1 and 0 < r.style_pct <= 100  # what was measured, whatever it is
        assert "tabby ginger cat" in r.prompt and str(r.strength) in r.describe()
    sd = capstone.recipe("manga", sd)
    assert sd.size == 512 and sd.identity is None and "not measured" in sd.describe()
    with pytest.raises(CourseInputError, match="watercolour"):
        capstone.recipe("watercolour", embedded)


def test_every_preset_outline_stands_out_on_its_own_shirt():
    from course_utils import styles as S

    for name, look in S.PRESETS.items():
        assert S.outline_contrast(look["outline"], look["shirt_colour"]) >= S.MIN_OUTLINE_CONTRAST, name
    assert S.outline_contrast((0, 0, 0), (30, 30, 36)) < S.MIN_OUTLINE_CONTRAST  # black on charcoal vanishes
    with pytest.raises(CourseInputError, match="shirt"):
        S.outline_contrast((0, 0, 0), "charcoal")


def test_the_badge_keeps_mau_and_identity_compares_any_size():
    import course_utils as cu

    mau = cu.mau()
    assert capstone.identity(mau, mau) == pytest.approx(1.0)
    badge = capstone.badge_sprite(mau, "arcade")
    assert badge.mode == "RGBA" and len({c for _, c in badge.getcolors(4096) if c[3] == 255}) <= 15
    blank = Image.new("RGB", (300, 300), (128, 128, 128))
    assert capstone.identity(mau, badge) > capstone.identity(mau, blank) + 0.3


def _photo_stage_moves(tmp_path, *options: str) -> tuple[set[str], object]:
    """Run the vae_photos stage 3 steps on a few drawn cats (with `options` on the command line) from the
    shipped autoencoder; returns the names of the weights it moved and the config."""
    import json
    import shutil

    import torch
    from diffusers import AutoencoderKL

    from course_utils.minisd import train as T
    from course_utils.minisd.config import MODEL_DIR

    cfg, _ = T.parse_args(["--work-dir", str(tmp_path), "--vae-photo-steps", "3", *options])
    cfg.vae_photo_crops, cfg.vae_batch, cfg.vae_keep_bank, cfg.vae_keep_batch = 16, 4, 16, 2
    shutil.copytree(MODEL_DIR / "vae", tmp_path / "vae")
    for part in ("unet", "tokenizer"):
        (tmp_path / part).symlink_to(MODEL_DIR / part)
    (tmp_path / "clip").symlink_to(MODEL_DIR / "text_encoder")
    for name, close_ups in (("data", False), ("portraits", True)):
        imgs, specs = D.make_dataset(8, seed=1, close_ups=close_ups)
        np.savez(tmp_path / f"{name}.npz", images=imgs, specs=json.dumps([s.as_dict() for s in specs]))
    before = AutoencoderKL.from_pretrained(tmp_path / "vae").state_dict()
    after = AutoencoderKL.from_pretrained(T.stage_vae_photos(cfg)).state_dict()
    return {k for k in before if not torch.equal(before[k], after[k])}, cfg


def test_the_photo_stage_trains_the_encoder_and_keeps_the_decoder(tmp_path):
    # Every picture text-to-image makes is drawn by the decoder: as shipped, the photo stage leaves it as it was
    moved, _ = _photo_stage_moves(tmp_path)
    assert moved and all(k.startswith(("encoder.", "quant_conv.")) for k in moved), sorted(moved)[:5]
    assert not (tmp_path / "decoder_bank.pt").exists()


def test_the_photo_stage_trains_both_halves_and_holds_what_text_to_image_uses(tmp_path):
    # With the decoder switched on, the photo stage trains both halves; with the anchor and the decoder bank,
    # its losses include the drawn cats' first-stage latents and the first decoder's pictures of the U-Net's
    # own latents
    import torch
    from diffusers import AutoencoderKL

    moved, cfg = _photo_stage_moves(tmp_path, "--vae-photo-decoder", "--vae-photo-ssim", "0.1", "--vae-anchor", "1",
                                    "--vae-keep-decoder", "1")
    assert (cfg.vae_photo_decoder, cfg.vae_photo_ssim, cfg.vae_anchor_weight, cfg.vae_keep_decoder) == (True, 0.1, 1, 1)
    assert any(k.startswith("encoder.") for k in moved) and any(k.startswith("decoder.") for k in moved)
    z, pics = torch.load(tmp_path / "decoder_bank.pt", weights_only=True)
    assert z.shape == (16, 4, 16, 16) and pics.shape == (16, 3, 64, 64)
    first = AutoencoderKL.from_pretrained(tmp_path / "vae")
    with torch.no_grad():  # the bank holds the first decoder's pictures of those latents
        assert torch.allclose(first.decode(z[:2]).sample.clamp(-1, 1), pics[:2], atol=1e-4)


def test_the_ssim_loss_is_scikit_images_ssim_of_the_grey_levels():
    import torch
    from PIL import ImageFilter
    from skimage.metrics import structural_similarity

    from course_utils.images import to_tensor
    from course_utils.minisd import photos as P
    from course_utils.minisd import train as T

    w = torch.tensor([0.299, 0.587, 0.114], dtype=torch.float64).view(3, 1, 1)
    photo = P.held_out_photos()["coffee"]
    for radius in (0.5, 1.2, 3.0):
        a, b = to_tensor(photo).double(), to_tensor(photo.filter(ImageFilter.GaussianBlur(radius))).double()
        ga, gb = (a[0] * w).sum(0).numpy(), (b[0] * w).sum(0).numpy()
        want = structural_similarity(ga, gb, data_range=2, use_sample_covariance=False, win_size=7)
        assert 1 - float(T.grey_ssim_loss(a, b)) == pytest.approx(want, abs=1e-6)
    assert float(T.grey_ssim_loss(a, a)) == pytest.approx(0.0, abs=1e-9)
