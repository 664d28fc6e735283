"""What the four families' training loops share: the result they return, mini-batches, small MLPs, seeds, one thread.

The networks are so small that splitting their matrix products between CPU cores costs more
than it saves, and on a busy machine a two-thread product can wait many times longer for the
second core than it computes. Training and sampling therefore run on one thread and give the
caller's `torch.get_num_threads()` back afterwards (see `one_thread`).

Taught in: chapter 1 (A short history of generative models).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn as nn

from ..device import torch_threads
from ..errors import CourseInputError

__all__ = ["StepCallback", "Trained", "batches", "check_trained", "leaky", "mlp", "one_thread", "seeded"]

# Called after each sampling step as callback(step_index, pictures so far in [0, 1], (n, 1, H, W)).
StepCallback = Callable[[int, torch.Tensor], None]


@dataclass
class Trained:
    """A trained model, its loss curves and how long training took.

    Attributes:
        model (`torch.nn.Module`): the network that makes pictures (for a GAN, the generator).
        losses (`dict[str, list[float]]`): one curve per name, one value per training step.
        seconds (`float`): wall-clock training time on this machine.
        config (dataclass): the settings it was trained with.
        extra (`dict`): anything else worth keeping (the discriminator, the noise schedule, ...).
    """

    model: nn.Module
    losses: dict[str, list[float]]
    seconds: float
    config: object
    extra: dict = field(default_factory=dict)


def check_trained(trained, family: str, model_type: type) -> nn.Module:
    """The network of `trained` (a `Trained` or the network itself), which must be a `model_type`."""
    model = trained.model if isinstance(trained, Trained) else trained
    if not isinstance(model, model_type):
        raise CourseInputError(
            f"this sampler needs a trained {family} model (what train_{family.lower()}() returns), "
            f"got {type(model).__name__}."
        )
    return model


def one_thread(fn):
    """Run `fn` on one CPU thread, then give the caller's thread count back.

    The matrices of these tiny networks are too small to be worth splitting between cores; on a
    shared CPU with OpenMP's default busy waiting, a two-thread product of a 64 × 256 by a 256 × 256
    matrix was measured 4 to 70 times slower than a one-thread one (each product waits for the second
    core). One thread also makes the results independent of how many cores the machine has.
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with torch_threads(1):
            return fn(*args, **kwargs)

    return wrapper


def batches(data: torch.Tensor, batch: int, steps: int, generator: torch.Generator):
    """`steps` mini-batches of `batch` pictures drawn at random from `data`."""
    for _ in range(steps):
        yield data[torch.randint(len(data), (batch,), generator=generator)]


def mlp(*widths: int, act: Callable[[], nn.Module] = nn.SiLU) -> nn.Sequential:
    """Linear layers of the given widths with an activation between them (none after the last)."""
    layers: list[nn.Module] = []
    for i in range(len(widths) - 1):
        layers.append(nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


def seeded(seed: int, build: Callable):
    """`build()` with the initial weights drawn from `seed`; torch's global random state is left as it was."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build()


def leaky() -> nn.Module:
    """The GAN's activation: LeakyReLU with slope 0.2, as in DCGAN."""
    return nn.LeakyReLU(0.2)
