"""Chapter 6's numbers: parameters, FLOPs, memory scaling and the "will it run?" estimate.

Every model is built from its published config on the meta device: nothing is downloaded and no
weights are allocated.
"""

from __future__ import annotations

import sys

import pytest
import torch

from course_utils import compute
from course_utils.errors import CourseInputError, CourseSetupError

M = 1e6


@pytest.mark.parametrize(("component", "millions"), [("unet", 859.5), ("vae", 83.7), ("text_encoder", 123.1)])
def test_sd15_parameter_counts(component, millions):
    n = compute.count_parameters(compute.build_on_meta("sd15", component))
    assert abs(n / M - millions) < 0.1


def test_sdxl_unet_parameter_count():
    unet = compute.build_on_meta("sdxl", "unet")
    assert abs(compute.count_parameters(unet) / M - 2567.5) < 0.1
    assert next(unet.parameters()).device.type == "meta"


def test_text_towers_of_sd21_and_sdxl():
    te21 = compute.build_on_meta("sd21", "text_encoder")
    assert te21.config.hidden_size == 1024 and te21.config.num_hidden_layers == 23
    te2 = compute.build_on_meta("sdxl", "text_encoder_2")
    assert type(te2).__name__ == "CLIPTextModelWithProjection"
    assert te2.config.hidden_size == 1280 and te2.config.num_hidden_layers == 32


def test_parameter_table_rows_add_up():
    rows = compute.parameter_table(("sd15",))
    by = {r["component"]: r for r in rows}
    assert set(by) == {"unet", "vae", "text_encoder", "total"}
    assert by["total"]["parameters"] == sum(by[c]["parameters"] for c in ("unet", "vae", "text_encoder"))
    assert by["unet"]["fp32_gib"] == pytest.approx(2 * by["unet"]["fp16_gib"])
    assert by["unet"]["fp16_gib"] == pytest.approx(859_520_964 * 2 / 2**30)


def test_sd15_unet_flops_at_64x64():
    # verified with FlopCounterMode: 803,273,441,280 FLOPs per call (batch 1, 77 tokens)
    flops = compute.unet_flops("sd15", (64, 64))
    assert flops == pytest.approx(0.8033e12, rel=0.01)
    assert compute.unet_flops("sd15", 64, batch=2) == pytest.approx(2 * flops)  # guidance: 1.61 TFLOP


def test_sdxl_unet_flops_at_128x128():
    assert compute.unet_flops("sdxl", 128) == pytest.approx(6.76e12, rel=0.01)


def test_unet_flops_of_a_module_matches_its_key():
    assert compute.unet_flops(compute.build_on_meta("sd15", "unet"), 32) == compute.unet_flops("sd15", 32)


def test_vae_decode_flops_sd15_512():
    assert compute.vae_decode_flops("sd15", 512) == pytest.approx(2.51e12, rel=0.01)


def test_attention_memory_formula_and_sd15_levels():
    assert compute.attention_memory(4096, heads=8, batch=1, dtype_bytes=2) == 4096**2 * 8 * 2
    levels = compute.attention_levels("sd15", 512)
    assert [lv["tokens"] for lv in levels] == [4096, 1024, 256, 64]
    assert [lv["latent_hw"] for lv in levels] == [(64, 64), (32, 32), (16, 16), (8, 8)]


def test_doubling_the_side_quadruples_tokens_and_multiplies_attention_by_16():
    small, big = compute.attention_levels("sd15", 512), compute.attention_levels("sd15", 1024)
    for a, b in zip(small, big):
        assert b["tokens"] == 4 * a["tokens"]
        assert b["score_bytes"] == 16 * a["score_bytes"]


@pytest.mark.parametrize("model", ["sd15", "sdxl"])
def test_activations_grow_with_the_pixel_count_and_attention_with_its_square(model):
    a = compute.activation_memory(model, 512)
    b = compute.activation_memory(model, 1024)  # 4 × the pixels
    assert b["unet_feature_maps"] == 4 * a["unet_feature_maps"]
    assert b["vae_decode"] == 4 * a["vae_decode"]
    assert b["attention_scores"] == 16 * a["attention_scores"]
    assert compute.activation_memory(model, 512, batch=2)["unet_feature_maps"] == 2 * a["unet_feature_maps"]


def test_weight_memory():
    assert compute.weight_memory(1000, torch.float16) == 2000
    assert compute.weight_memory(1000, "float32") == 4000
    with pytest.raises(CourseInputError, match="params"):
        compute.weight_memory(-1)


def test_measure_peak_memory_counts_live_tensors_only():
    weights = torch.ones(1024, 1024)  # exists before: not counted

    def work():
        a = torch.ones(1024, 1024)  # 4 MiB
        b = a @ weights  # 4 MiB more while `a` lives
        del a
        return b.sum()

    assert compute.measure_peak_memory(work) == 2 * 4 * 2**20


def test_measure_peak_memory_on_the_meta_device_allocates_nothing():
    def work():
        with torch.device("meta"):
            torch.empty(1 << 40, dtype=torch.uint8)  # a terabyte, on paper

    assert compute.measure_peak_memory(work) == 1 << 40


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="method='rss' reads /proc")
def test_measure_peak_memory_rss_sees_a_large_allocation():
    peak = compute.measure_peak_memory(lambda: torch.ones(16 * 2**20), method="rss")  # 64 MiB
    assert 60 * 2**20 < peak < 200 * 2**20


def test_time_per_call_is_a_positive_median():
    assert compute.time_per_call(lambda: sum(range(1000)), repeats=3) > 0
    with pytest.raises(CourseInputError, match="repeats"):
        compute.time_per_call(lambda: None, repeats=0)


def test_gpu_table_and_lower_bound():
    assert compute.GPUS["a100-80gb"].fp16_tflops == 312.0
    assert compute.lower_bound_seconds(312e12, "a100-80gb") == pytest.approx(1.0)
    with pytest.raises(CourseInputError, match="gpu"):
        compute.lower_bound_seconds(1e12, "voodoo3")


@pytest.mark.parametrize("device", ["cpu", "t4", "rtx4090"])
def test_estimate_returns_positive_numbers(device):
    e = compute.estimate("sd15", 512, 30, device)
    for field in ("flops_per_step", "flops_total", "weights_gib", "activations_gib", "attention_naive_gib",
                  "memory_gib", "seconds_typical"):
        assert e[field] > 0, field
    assert e["flops_per_step"] == pytest.approx(2 * 0.8033e12, rel=0.01)  # guidance: a batch of 2
    if device == "cpu":
        assert e["dtype"] == "float32" and e["seconds_lower_bound"] is None
    else:
        assert e["dtype"] == "float16"
        assert 0 < e["seconds_lower_bound"] < e["seconds_typical"]
        assert e["fits"] is True


def test_estimate_scales_with_steps_and_guidance():
    a = compute.estimate("sd15", 512, 10, "t4")
    b = compute.estimate("sd15", 512, 20, "t4")
    c = compute.estimate("sd15", 512, 10, "t4", guidance=False)
    assert b["flops_total"] - a["flops_total"] == pytest.approx(10 * a["flops_per_step"])  # the VAE runs once
    assert c["flops_per_step"] == pytest.approx(a["flops_per_step"] / 2)


@pytest.mark.parametrize(
    ("kwargs", "arg"),
    [
        ({"resolution": 500}, "resolution"),  # not a multiple of 8
        ({"resolution": (512, 513)}, "resolution"),
        ({"resolution": 8}, "resolution"),  # too small
        ({"steps": 0}, "steps"),
        ({"steps": 2.5}, "steps"),
        ({"model_key": "sd99"}, "model_key"),
        ({"model_key": None}, "model_key"),
        ({"device_or_gpu": "voodoo3"}, "device_or_gpu"),
        ({"batch": 0}, "batch"),
    ],
)
def test_estimate_refuses_bad_input(kwargs, arg):
    call = {"model_key": "sd15", "resolution": 512, "steps": 30, "device_or_gpu": "t4", **kwargs}
    with pytest.raises(CourseInputError, match=arg):
        compute.estimate(**call)


def test_unknown_component_is_refused():
    with pytest.raises(CourseInputError, match="component"):
        compute.build_on_meta("sd15", "text_encoder_2")


def test_embedded_model_is_listed_only_when_its_folder_exists():
    present = (compute.EMBEDDED_DIR / "unet" / "config.json").is_file()
    assert ("embedded" in compute.available_models()) == present
    if present:
        e = compute.estimate("embedded", None, 20, "cpu")
        assert e["flops_total"] > 0 and e["memory_gib"] > 0
    else:
        with pytest.warns(UserWarning, match="embedded"):
            rows = compute.parameter_table(("sd15", "embedded"))
        assert {r["model"] for r in rows} == {"sd15"}


def test_embedded_path_with_a_stand_in_model(tiny_model_dir, monkeypatch):
    # a tiny random pipeline in diffusers' folder format stands in for assets/models/minisd-cats
    monkeypatch.setattr(compute.configs, "EMBEDDED_DIR", tiny_model_dir)
    assert "embedded" in compute.available_models()
    rows = compute.parameter_table(("embedded",))
    assert {r["component"] for r in rows} == {"unet", "vae", "text_encoder", "total"}
    assert compute.unet_flops("embedded") > 0  # its own latent size and prompt length
    assert compute.attention_levels("embedded", 64)[0]["tokens"] == 16 * 16  # a 2-level VAE: 64 px -> 32
    e = compute.estimate("embedded", None, 20, "cpu")
    assert e["resolution"] == (64, 64) and e["flops_total"] > 0 and e["memory_gib"] > 0


def test_the_shipped_compile_figures_read_back_with_their_machine(tmp_path):
    machine, rows = compute.compile_figures()
    assert machine.startswith("Machine:") and [r.model.split(",")[0] for r in rows] == ["20-step model",
                                                                                          "few-step student"]
    for r in rows:
        assert 0 < r.compiled and 0 < r.eager and r.first_warm_cache <= r.first_cold_cache
        if r.pays_cold is not None:
            gain = r.eager - r.compiled  # the table rounds both to 1 ms, so the gain is known to about 1 ms
            assert abs(r.pays_cold - (r.first_cold_cache - r.compiled) / gain) <= 1 + r.pays_cold * 0.0011 / gain
        assert r.sentence().startswith(r.model)
    with pytest.raises(CourseSetupError, match="make bench-compile"):
        compute.compile_figures(tmp_path / "compile.md")
    (tmp_path / "compile.md").write_text("Machine: x\n\nno table\n")
    with pytest.raises(CourseSetupError, match="no table"):
        compute.compile_figures(tmp_path / "compile.md")
