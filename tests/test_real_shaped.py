"""The Stable-Diffusion-1.5-shaped test model: SD 1.5's interface, built offline in seconds."""

import json

import pytest

import course_utils as cu
import course_utils.models as M
from course_utils.minisd import real_shaped


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return real_shaped.build(tmp_path_factory.mktemp("real-shaped") / "model")


def test_it_has_stable_diffusion_15s_interface(folder):
    assert M.check_model_folder(folder) == []
    index = json.loads((folder / "model_index.json").read_text())
    assert index["scheduler"] == ["diffusers", "PNDMScheduler"]
    pipe = M.load_pipeline(str(folder), device="cpu", verbose=False)
    sd15_unet = json.loads((real_shaped.CONFIGS / "unet.json").read_text())
    assert pipe.tokenizer.model_max_length == 77 and pipe.text_encoder.config.hidden_size == 768
    assert pipe.unet.config.cross_attention_dim == 768 and pipe.unet.config.in_channels == 4
    assert list(pipe.unet.config.down_block_types) == sd15_unet["down_block_types"]
    assert pipe.vae_scale_factor == 8 and cu.picture_size(pipe) == real_shaped.RESOLUTION == 128
    assert pipe.scheduler.config.steps_offset == 1 and pipe.scheduler.config.skip_prk_steps
    assert sum(p.numel() for p in pipe.unet.parameters()) < 5e6  # narrow: seconds per picture on a CPU
    r = cu.text_to_image("a cat", pipe=pipe, steps=3, seed=0)
    assert r.image.size == (128, 128) and r.params["denoising_steps_run"] == 4  # PNDM's extra step


def test_real_model_cells_run_with_it_and_not_with_the_embedded_model(folder, monkeypatch):
    monkeypatch.delenv("COURSE_MODEL", raising=False)
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert cu.real_model_ready() is False  # the embedded model on a CPU: the cells show what they would do
    monkeypatch.setenv("COURSE_MODEL", str(folder))
    assert cu.real_model_ready() is True
    assert cu.real_model_ready(gpu_only=True) is False  # cells that need a second hub model wait for a GPU
    monkeypatch.setattr(M, "SMALL_MODEL_BYTES", 1)
    assert cu.real_model_ready() is False  # a full-size model on a CPU would take minutes per picture


def test_no_notebook_tests_for_cuda_itself():
    from pathlib import Path

    root = Path(cu.__file__).resolve().parents[1] / "notebooks"
    offenders = [p.name for p in root.rglob("*.ipynb") if "cuda.is_available" in p.read_text()]
    assert not offenders, f"use cu.real_model_ready() instead: {offenders}"
