import numpy as np
import pytest
import torch

from course_utils import parameters as P
from course_utils.errors import CourseInputError
from course_utils.generate import text_to_image
from course_utils.minisd import data as D
from course_utils.minisd import metrics as M

# the tiny random pipeline draws 16x16 pictures, too small for some of the pixel rules' windows
pytestmark = pytest.mark.filterwarnings("ignore:Mean of empty slice", "ignore:invalid value encountered")


def test_attribute_prompts_are_balanced_known_and_deterministic():
    ps = P.attribute_prompts(8, seed=3)
    assert [p.style for p in ps] == list(D.STYLES) * 2
    for p in ps:
        assert p.prompt == D.prompt_for(p.fur, p.background, p.style)
        assert p.fur in D.FUR_COLOURS and p.background in D.BACKGROUNDS
        spec = {"fur": p.fur, "background": p.background, "style": p.style}
        assert p.truth == {**M.expected(spec), "fur_name": p.fur}
        assert not D.is_held_out(D.CatSpec(p.fur, "solid", p.background, "green", p.style, "sitting",
                                           1.0, 0.5, 0.5, 1))
    assert P.attribute_prompts(8, seed=3) == ps and P.attribute_prompts(8, seed=4) != ps


def test_attribute_prompts_held_out():
    for p in P.attribute_prompts(8, seed=0, held_out=True):
        attrs = {f"fur:{p.fur}", f"bg:{p.background}", f"style:{p.style}"}
        assert any(a in attrs and b in attrs for a, b in D.HELD_OUT), p.prompt


def test_manga_truth_is_a_tone():
    manga = [p for p in P.attribute_prompts(12) if p.style == "manga"]
    assert manga and all(p.truth["fur"] in ("dark", "mid", "light") for p in manga)


@pytest.mark.parametrize("kwargs,match", [
    (dict(n=0), "n=0"), (dict(n=97), "n=97"), (dict(n=2.0), "n=2.0"), (dict(n=True), "n=True"),
    (dict(seed=-1), "seed=-1"), (dict(held_out="yes"), "held_out"),
])
def test_attribute_prompts_bad_inputs(kwargs, match):
    with pytest.raises(CourseInputError, match=match):
        P.attribute_prompts(**kwargs)


class PerfectJudge:
    """Reads every picture as following its prompt."""

    def classify(self, images, truths):
        return [{k: t[k] for k in M.ATTRIBUTES} for t in truths]


def test_sweep_shapes_rates_and_seeds(tiny_pipe):
    prompts = P.attribute_prompts(3, seed=1)
    sweep = P.adherence_sweep(tiny_pipe, prompts, [1.0, 4.0], steps=2, seed=5, judge=PerfectJudge(), batch_size=2)
    assert sweep.guidances == (1.0, 4.0) and sweep.steps == 2 and sweep.seed == 5
    for g in sweep.guidances:
        assert len(sweep.images[g]) == 3 and sweep.seconds[g] > 0
        assert set(sweep.pixels[g]) == {"fur", "background", "style", "all"}
        assert all(0.0 <= v <= 1.0 for v in sweep.pixels[g].values())
    assert np.array_equal(sweep.rate("clip"), [1.0, 1.0])
    assert sweep.rate("pixels", "fur").shape == (2,)
    # picture i comes from seed + i, as a single text_to_image call with that seed draws it
    single = text_to_image(prompts[2].prompt, pipe=tiny_pipe, steps=2, guidance=1.0, seed=7).image
    diff = np.abs(np.asarray(single, int) - np.asarray(sweep.images[1.0][2], int)).max()
    assert diff <= 2, f"picture 2 should match seed 7 drawn alone (max pixel difference {diff})"
    # the guidance changes the pictures; the same call again gives the same bytes
    assert sweep.images[1.0][0].tobytes() != sweep.images[4.0][0].tobytes()
    again = P.adherence_sweep(tiny_pipe, prompts[:1], [4.0], steps=2, seed=5)
    assert again.images[4.0][0].tobytes() == sweep.images[4.0][0].tobytes()
    assert again.clip is None
    with pytest.raises(CourseInputError, match="without a CLIP judge"):
        again.rate("clip")
    with pytest.raises(CourseInputError, match="judge="):
        again.rate("eyes")
    with pytest.raises(CourseInputError, match="attribute="):
        again.rate("pixels", "eyes")


@pytest.mark.parametrize("kwargs,match", [
    (dict(guidances=[]), "non-empty list"), (dict(guidances=7.5), "non-empty list"),
    (dict(guidances=[-1.0]), "from 0 to 50"), (dict(guidances=[float("nan")]), "from 0 to 50"),
    (dict(guidances=[3, 3.0]), "repeats"), (dict(guidances=["high"]), "from 0 to 50"),
    (dict(steps=0), "steps=0"), (dict(steps=2.5), "steps=2.5"), (dict(seed=-3), "seed=-3"),
    (dict(batch_size=0), "batch_size=0"), (dict(judge="clip"), "judge must be"),
    (dict(prompts=[]), "AttributePrompt"), (dict(prompts=["a cat"]), "AttributePrompt"),
    (dict(prompts="a cat"), "AttributePrompt"),
])
def test_sweep_bad_inputs(tiny_pipe, kwargs, match):
    args = dict(prompts=P.attribute_prompts(2), guidances=[1.0, 3.0], steps=2)
    args.update(kwargs)
    with pytest.raises(CourseInputError, match=match):
        P.adherence_sweep(tiny_pipe, args.pop("prompts"), args.pop("guidances"), **args)


def test_sweep_needs_a_pipeline():
    with pytest.raises(CourseInputError, match="pipe must be"):
        P.adherence_sweep("sd15", P.attribute_prompts(2), [1.0])


def test_sweep_uses_cpu_generators(tiny_pipe, monkeypatch):
    seen = []
    original = tiny_pipe.__class__.__call__

    def spy(self, *args, **kwargs):
        seen.append([g.initial_seed() for g in kwargs["generator"]])
        assert all(g.device == torch.device("cpu") for g in kwargs["generator"])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(tiny_pipe.__class__, "__call__", spy)
    P.adherence_sweep(tiny_pipe, P.attribute_prompts(3), [2.0], steps=1, seed=10, batch_size=2)
    assert seen == [[10, 11], [12]]
