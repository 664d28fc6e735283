import time

import pytest
import torch

import course_utils.models as M
from course_utils.errors import CourseInputError, CourseSetupError


@pytest.fixture(autouse=True)
def _fresh(monkeypatch):
    monkeypatch.delenv("COURSE_MODEL", raising=False)
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    M.clear_cache()
    yield
    M.clear_cache()


def test_registry_has_real_models_and_embedded():
    assert {"embedded", "sd15", "sd-turbo"} <= set(M.REGISTRY)
    assert M.REGISTRY["sd15"].source == "stable-diffusion-v1-5/stable-diffusion-v1-5"
    assert "non-commercial" in M.REGISTRY["sd-turbo"].licence.lower()
    assert M.REGISTRY["sd-turbo"].guidance == 0.0


def test_auto_on_cpu_chooses_embedded_without_network(monkeypatch):
    calls = []
    monkeypatch.setattr(M, "hub_reachable", lambda *a, **k: calls.append(1) or False)
    info, reason = M.choose_model("auto", "cpu")
    assert info.key == "embedded" and "without a CUDA GPU" in reason
    assert calls == []  # a CPU learner never waits on the network


def test_offline_real_model_fails_fast_with_advice():
    t0 = time.perf_counter()
    with pytest.raises(CourseSetupError, match="hf download .*embedded"):
        M.load_pipeline("sd15", device="cpu", verbose=False)
    assert time.perf_counter() - t0 < 1.0


def test_hub_reachable_is_quick_when_offline_flag_set():
    t0 = time.perf_counter()
    assert M.hub_reachable() is False
    assert time.perf_counter() - t0 < 0.1


def test_hub_reachable_answers_within_a_second_without_flag(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("HF_ENDPOINT", "https://127.0.0.1:9")  # nothing listens there
    t0 = time.perf_counter()
    assert M.hub_reachable(timeout=0.5) is False
    assert time.perf_counter() - t0 < 1.0


def test_unknown_model_and_task_are_refused():
    with pytest.raises(CourseInputError, match="model='nonsense'"):
        M.load_pipeline("nonsense", device="cpu")
    with pytest.raises(CourseInputError, match="task='painting'"):
        M.load_pipeline("embedded", task="painting", device="cpu")


def test_missing_embedded_model_says_how_to_restore(monkeypatch, tmp_path):
    missing = tmp_path / "nope"
    monkeypatch.setitem(M.REGISTRY, "embedded", M.ModelInfo("embedded", str(missing), "minisd", "MIT", 64, 20, 7.5))
    with pytest.raises(CourseSetupError, match="embedded model is missing"):
        M.load_pipeline("auto", device="cpu", verbose=False)


def test_local_folder_loads_and_tasks_share_modules(tiny_model_dir, capsys):
    t2i = M.load_pipeline(str(tiny_model_dir), device="cpu")
    assert "because you asked for it" in capsys.readouterr().out
    i2i = M.load_pipeline(str(tiny_model_dir), task="image-to-image", device="cpu", verbose=False)
    assert type(t2i).__name__ == "StableDiffusionPipeline"
    assert type(i2i).__name__ == "StableDiffusionImg2ImgPipeline"
    assert i2i.unet is t2i.unet and i2i.vae is t2i.vae and i2i.text_encoder is t2i.text_encoder
    assert M.load_pipeline(str(tiny_model_dir), device="cpu", verbose=False) is t2i  # loaded once
    assert t2i.unet.dtype == torch.float32


def test_course_model_env_overrides(monkeypatch, tiny_model_dir):
    monkeypatch.setenv("COURSE_MODEL", str(tiny_model_dir))
    info, reason = M.choose_model("auto", "cpu")
    assert info.source == str(tiny_model_dir.resolve()) and "COURSE_MODEL" in reason


def test_folder_without_model_index_is_refused(tmp_path):
    with pytest.raises(CourseSetupError, match="no model_index.json"):
        M.load_pipeline(str(tmp_path), device="cpu", verbose=False)
