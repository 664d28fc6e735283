"""The embedded model's training machinery (minisd/loop.py): the loop every stage shares, and the U-Net's EMA."""

import numpy as np
import pytest
import torch

from course_utils.minisd import train as T
from course_utils.minisd.config import MiniSDConfig
from course_utils.minisd.ema import UNetEMA


class _Stop(Exception):
    pass


def _run(work, steps: int = 60, stop_at: int | None = None):
    """Train a tiny regression with `train.train_loop` (and an EMA) in `work`; return the loss of every step taken,
    the weights and the EMA's weights. `stop_at`: interrupt the run after that step."""
    cfg = MiniSDConfig(work_dir=work)
    cfg.checkpoint_every = 20
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    x = torch.randn(64, 4, generator=torch.Generator().manual_seed(1))
    y = x.sum(1, keepdim=True).sin()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    ema = UNetEMA(model.parameters(), decay=0.999)
    losses = {}

    def loss_fn(rng, gen):  # a random batch and random noise, so that resuming must restore both generators
        idx = torch.from_numpy(rng.integers(0, len(x), 8))
        loss = torch.nn.functional.mse_loss(model(x[idx]), y[idx] + 0.1 * torch.randn(8, 1, generator=gen))
        losses[len(losses) + first[0]] = loss.item()
        return loss

    def after_step(step):
        ema.step(model.parameters())
        if step == stop_at:
            raise _Stop

    ck = T.load_ckpt(work / "toy.ckpt")
    first = [ck["step"] if ck else 0]
    T.train_loop(cfg, "toy", model, opt, loss_fn, steps=steps, lr=1e-2, warmup=10, seeds=(5, 6), state={"ema": ema},
                 after_step=after_step)
    return losses, [p.detach().clone() for p in model.parameters()], [p.clone() for p in ema.shadow_params]


def test_a_resumed_run_takes_the_same_steps_as_an_uninterrupted_one(tmp_path):
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    losses, weights, averaged = _run(tmp_path / "a")
    assert sorted(losses) == list(range(60))
    with pytest.raises(_Stop):
        _run(tmp_path / "b", stop_at=33)  # the last checkpoint holds 20 steps
    resumed, weights_b, averaged_b = _run(tmp_path / "b")
    assert sorted(resumed) == list(range(20, 60))  # from the checkpoint on, not from the start
    assert resumed == {s: losses[s] for s in range(20, 60)}
    assert all(torch.equal(a, b) for a, b in zip(weights, weights_b))
    assert all(torch.equal(a, b) for a, b in zip(averaged, averaged_b))
    log = (tmp_path / "b" / "toy_loss.csv").read_text().splitlines()
    assert log[0] == "step,loss,seconds" and log[-1].split(",")[:2] == ["50", f"{losses[50]:.6f}"]
    assert not (tmp_path / "a" / "toy_loss.csv").read_text().count("\n25,") - 1  # logged once without a resume


def test_the_unet_ema_warms_up_as_the_model_was_trained():
    """min(cap, (1 + s) / (10 + s)) after loop step s: 0.1 after the first, where EMAModel's own warm-up copies."""
    torch.manual_seed(0)
    p = torch.nn.Parameter(torch.randn(100))
    for cap in (0.999, 0.5):
        ema = UNetEMA([p], decay=cap)
        old = p.detach().clone()
        for step in range(30):
            with torch.no_grad():
                p.add_(torch.randn(100))
            ema.step([p])
            d = min(cap, (1 + step) / (10 + step))
            assert ema.cur_decay_value == d
            old.lerp_(p.detach(), 1 - d)  # the hand-written average it replaces
            torch.testing.assert_close(ema.shadow_params[0], old, rtol=0, atol=1e-5)


def test_a_checkpoint_restores_the_ema_and_refuses_the_old_format():
    p = torch.nn.Parameter(torch.randn(10))
    ema = UNetEMA([p], decay=0.999)
    for _ in range(3):
        ema.step([p])
    again = UNetEMA([torch.nn.Parameter(torch.zeros(10))], decay=0.999)
    again.load_state_dict(ema.state_dict())
    assert again.optimization_step == 3 and torch.equal(again.shadow_params[0], ema.shadow_params[0])
    with pytest.raises(RuntimeError, match="without EMAModel's state"):
        again.load_state_dict({"weight": torch.zeros(10)})


def test_the_loop_leaves_the_model_in_eval_mode_and_returns_its_generator(tmp_path):
    cfg = MiniSDConfig(work_dir=tmp_path)
    model = torch.nn.Linear(2, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    gen, elapsed = T.train_loop(cfg, "tiny", model, opt,
                                lambda rng, gen: model(torch.randn(3, 2, generator=gen)).pow(2).mean(),
                                steps=3, lr=0.1, seeds=(0, 7))
    want = torch.Generator().manual_seed(7)
    for _ in range(3):
        torch.randn(3, 2, generator=want)
    assert not model.training and torch.equal(torch.randn(5, generator=gen), torch.randn(5, generator=want))
    assert elapsed() >= 0 and not (tmp_path / "tiny.ckpt").exists()  # fewer steps than checkpoint_every
    assert np.loadtxt(tmp_path / "tiny_loss.csv", delimiter=",", skiprows=1).shape == (3,)  # step 0 only


def _unet_work_dir(work, snapshot: bool) -> MiniSDConfig:
    """A work folder with the shipped tokenizer, text encoder and autoencoder and 8 drawn cats, for 2 U-Net
    steps of batch 4 from random weights, a checkpoint after each."""
    import json

    from course_utils.minisd import data as D
    from course_utils.minisd.config import MODEL_DIR

    work.mkdir()
    for part, shipped in (("tokenizer", "tokenizer"), ("clip", "text_encoder"), ("vae", "vae")):
        (work / part).symlink_to(MODEL_DIR / shipped)
    imgs, specs = D.make_dataset(8, seed=1)
    np.savez(work / "data.npz", images=imgs, specs=json.dumps([s.as_dict() for s in specs]))
    cfg, _ = T.parse_args(["--work-dir", str(work), "--unet-steps", "2", *(["--snapshot"] if snapshot else [])])
    cfg.unet_batch, cfg.checkpoint_every = 4, 1
    return cfg


def test_the_snapshot_flag_saves_the_moving_average_and_leaves_training_alone(tmp_path):
    from diffusers import UNet2DConditionModel

    assert not T.parse_args([])[0].unet_snapshot
    with_snapshot = T.stage_unet(_unet_work_dir(tmp_path / "a", snapshot=True))
    without = T.stage_unet(_unet_work_dir(tmp_path / "b", snapshot=False))
    assert not (tmp_path / "b" / "unet_snapshot").exists()
    final = UNet2DConditionModel.from_pretrained(with_snapshot).state_dict()
    snap = UNet2DConditionModel.from_pretrained(tmp_path / "a" / "unet_snapshot").state_dict()  # after step 2
    plain = UNet2DConditionModel.from_pretrained(without).state_dict()
    assert all(torch.equal(final[k], snap[k]) and torch.equal(final[k], plain[k]) for k in final)
    assert (tmp_path / "a" / "unet.ckpt").exists()
