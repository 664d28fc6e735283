"""The install step's choice of torch build (course_utils/install_torch.py): CPU unless there is an NVIDIA GPU."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from course_utils import install_torch as it

ROOT = Path(__file__).resolve().parent.parent


def test_the_pin_is_requirements_exact_torch_line():
    pin = it.pinned_torch()
    assert pin.startswith("torch==") and pin.count(".") == 2
    assert pin in (ROOT / "requirements.txt").read_text()


def test_no_pin_is_a_clear_exit(tmp_path):
    req = tmp_path / "requirements.txt"
    req.write_text("numpy==2.4.6\n")
    with pytest.raises(SystemExit, match="pins no torch"):
        it.pinned_torch(req)


@pytest.mark.parametrize("env,gpu,want", [({}, False, "cpu"), ({}, True, "cuda"),
                                          ({"COURSE_TORCH": "cuda"}, False, "cuda"),
                                          ({"COURSE_TORCH": "CPU"}, True, "cpu"),
                                          ({"COURSE_TORCH": "auto"}, True, "cuda")])
def test_choice(env, gpu, want):
    assert it.choose(env, gpu=gpu) == want


def test_a_misspelt_choice_says_what_is_understood():
    with pytest.raises(SystemExit, match="cpu, cuda"):
        it.choose({"COURSE_TORCH": "rocm"}, gpu=False)


def test_cpu_build_comes_from_the_cpu_index_and_cuda_from_the_configured_one():
    pin = it.pinned_torch()
    cpu = it.pip_args("cpu", pin)
    assert cpu[cpu.index("--index-url") + 1] == it.CPU_INDEX and cpu[-1] == pin
    assert it.pip_args("cuda", pin) == [pin]


def test_this_machine_without_gpu_gets_no_nvidia_packages():
    """The acceptance check of the install step: a dry run here (no NVIDIA GPU, Python 3.11, whose CPU wheel
    this machine has) resolves torch without any nvidia-* package."""
    if it.has_nvidia_gpu():
        pytest.skip("this machine has an NVIDIA GPU: the CUDA build is the right choice here")
    out = subprocess.run([sys.executable, str(ROOT / "course_utils" / "install_torch.py"), "--dry-run"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.startswith("torch: no NVIDIA GPU here")
    report = json.loads(out.stdout[out.stdout.index("{"):])
    names = [item["metadata"]["name"] for item in report["install"]]
    assert "torch" in names
    if "CPU index cannot be reached" not in out.stdout:  # the fallback is allowed to take PyPI's CUDA build
        assert not [n for n in names if n.startswith("nvidia-")], names
