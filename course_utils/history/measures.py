"""Measuring each family's weakness: variety (mode collapse), grey pixels (blur), closeness and coverage of the data.

Taught in: chapter 1 (A short history of generative models).
"""

from __future__ import annotations

import torch

from .data import KINDS, check_images

__all__ = ["diversity", "kind_coverage", "mid_grey_share", "nearest_distance"]


def diversity(images: torch.Tensor) -> float:
    """
    How different the pictures of a set are from each other: the mean share of pixels in which two
    different pictures disagree (pixels counted as cat above one half).

    A model that draws the same few pictures again and again (mode collapse) scores far below its
    training data. Taught in: chapter 1.
    """
    x = (check_images(images).flatten(1) > 0.5).double()
    n = len(x)
    if n < 2:
        return 0.0
    d = torch.cdist(x, x, p=1) / x.shape[1]  # share of disagreeing pixels, every pair
    return float(d.sum() / (n * (n - 1)))


def mid_grey_share(images: torch.Tensor, low: float = 0.2, high: float = 0.8) -> float:
    """
    The share of pixels that are neither clearly black nor clearly white (between `low` and `high`).

    The data are pure black and white, so they score 0; a blurry model scores high. Taught in: chapter 1.
    """
    x = check_images(images)
    return float(((x > low) & (x < high)).float().mean())


def nearest_distance(images: torch.Tensor, data: torch.Tensor) -> float:
    """
    How far the pictures are from being real cats: for each picture (pixels counted as cat above one
    half), the share of pixels in which it differs from the closest training picture; averaged.

    0 would mean every picture is a copy of a training cat, so read it together with `diversity`.
    Taught in: chapter 1.
    """
    x = (check_images(images).flatten(1) > 0.5).double()
    y = (check_images(data, "data").flatten(1) > 0.5).double()
    return float((torch.cdist(x, y, p=1).min(dim=1).values / x.shape[1]).mean())


def kind_coverage(images: torch.Tensor, data: torch.Tensor, kinds: torch.Tensor) -> torch.Tensor:
    """
    How the pictures spread over the four `KINDS` of cat: each picture takes the kind of its closest
    training picture. Taught in: chapter 1.

    Returns:
        `torch.Tensor` of shape `(4,)`, float64: the share of pictures of each kind (sums to 1).
    """
    x = (check_images(images).flatten(1) > 0.5).double()
    y = (check_images(data, "data").flatten(1) > 0.5).double()
    nearest = torch.cdist(x, y, p=1).argmin(dim=1)
    return torch.bincount(kinds[nearest], minlength=len(KINDS)).double() / len(x)
