"""`make gpu-check` on a machine without a GPU: its dry mode runs the same code at tiny sizes."""

import pytest
import torch

from course_utils import gpu_check as G


def test_the_dry_run_measures_every_case_and_writes_a_table(tmp_path):
    path = G.main(["--dry", "--out", str(tmp_path / "check.md")])
    text = path.read_text()
    assert "dry run" in text and "torch " in text
    rows = [line for line in text.splitlines() if line.startswith("| sd")]
    assert len(rows) == 6  # sd15 and sdxl, each: SDPA, naive, SDPA compiled
    assert {r.split("|")[4].strip() for r in rows} == {"SDPA", "naive"}
    for r in rows:
        steps_per_s = float(r.split("|")[6])
        assert steps_per_s > 0
    again = G.main(["--dry", "--no-notebooks", "--out", str(tmp_path / "check.md")])
    assert again != path and path.read_text() == text  # an earlier report is kept


def test_the_sdxl_inputs_match_its_unet():
    unet = G.build("sdxl", "unet", torch.device("cpu"), torch.float32, dry=True)
    args, kwargs = G.unet_inputs(unet, 8, 77)
    assert set(kwargs["added_cond_kwargs"]) == {"text_embeds", "time_ids"}
    with torch.inference_mode():
        assert unet(*args, **kwargs).sample.shape == (2, 4, 8, 8)


def test_without_a_gpu_the_real_check_says_what_to_do(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(SystemExit, match="needs a CUDA GPU.*--dry"):
        G.main([])
