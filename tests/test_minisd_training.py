"""The embedded model's training machinery (minisd/train.py): the loop every stage shares, and the U-Net's EMA."""

import numpy as np
import pytest
import torch

from course_utils.minisd import train as T
from course_utils.minisd.config import MiniSDConfig
from course_utils.minisd.ema import UNetEMA


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
    with pytest.raises(RuntimeError, match="before EMAModel"):
        again.load_state_dict({"weight": torch.zeros(10)})


def test_the_loop_leaves_the_model_in_eval_mode_and_returns_its_generator(tmp_path):
    cfg = MiniSDConfig(work_dir=tmp_path)
    model = torch.nn.Linear(2, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    gen, elapsed = T._train(cfg, "tiny", model, opt,
                            lambda rng, gen: model(torch.randn(3, 2, generator=gen)).pow(2).mean(),
                            steps=3, lr=0.1, seeds=(0, 7))
    want = torch.Generator().manual_seed(7)
    for _ in range(3):
        torch.randn(3, 2, generator=want)
    assert not model.training and torch.equal(torch.randn(5, generator=gen), torch.randn(5, generator=want))
    assert elapsed() >= 0 and not (tmp_path / "tiny.ckpt").exists()  # fewer steps than checkpoint_every
    assert np.loadtxt(tmp_path / "tiny_loss.csv", delimiter=",", skiprows=1).shape == (3,)  # step 0 only
