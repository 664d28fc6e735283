"""The U-Net stage's exponential moving average of the weights: diffusers' `EMAModel`, with this model's warm-up."""

from __future__ import annotations

from diffusers.training_utils import EMAModel


class UNetEMA(EMAModel):
    """diffusers' `EMAModel` with the decay this model was trained with: min(cap, (1 + s) / (10 + s)) after
    loop step s (0, 1, ...), so 0.1 after the first.

    `EMAModel.step` counts its `optimization_step` from 1, and its own warm-up (``use_ema_warmup=False``)
    returns 0 for the first update, a plain copy, and (1 + s) / (10 + s) only one step later; counting its
    step back by one gives the decay above from the first update. Its state (`state_dict`, with the step
    count) goes into the stage's checkpoint; a checkpoint that holds only averaged weights is refused."""

    def get_decay(self, optimization_step: int) -> float:
        step = optimization_step - 1  # the loop's step
        return min(self.decay, (1 + step) / (10 + step))

    def load_state_dict(self, state_dict: dict) -> None:
        if "shadow_params" not in state_dict:
            raise RuntimeError("this U-Net checkpoint holds averaged weights without EMAModel's state: "
                               "delete it (and the stage's loss log) to train the stage again")
        device = self.shadow_params[0].device
        super().load_state_dict(state_dict)
        self.to(device=device)  # checkpoints load onto the CPU
