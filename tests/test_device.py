import pytest
import torch

from course_utils import device as D
from course_utils.errors import CourseInputError, CourseSetupError


def test_cpu_is_float32(monkeypatch):
    monkeypatch.delenv("COURSE_DTYPE", raising=False)
    assert D.get_dtype("cpu") == torch.float32


def test_half_precision_on_cpu_is_refused():
    with pytest.raises(CourseInputError, match="float32"):
        D.get_dtype("cpu", "float16")


def test_env_override(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert D.get_device() == torch.device("cpu")
    monkeypatch.setenv("COURSE_DEVICE", "banana")
    with pytest.raises(CourseInputError, match="COURSE_DEVICE='banana'"):
        D.get_device()


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without CUDA")
def test_cuda_without_gpu_says_what_to_do():
    with pytest.raises(CourseInputError, match="PyTorch sees none"):
        D.get_device("cuda")


def test_unknown_dtype():
    with pytest.raises(CourseInputError, match="dtype='float8'"):
        D.get_dtype("cpu", "float8")


def test_describe_is_one_line():
    line = D.describe("cpu")
    assert "\n" not in line and "float32" in line and "cores" in line


def test_cpu_description_names_the_cpu_and_the_features_that_change_its_speed():
    import platform

    from course_utils.device import cpu_description

    two_cpus = ("processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Processor\nflags\t\t: fpu avx2 avx512f avx512_bf16 "
                "amx_tile amx_bf16\n\nprocessor\t: 1\nmodel name\t: Intel(R) Xeon(R) Processor\nflags\t\t: fpu\n")
    assert cpu_description(two_cpus) == f"Intel(R) Xeon(R) Processor ({platform.machine()}; AVX-512, AVX-512 BF16, AMX)"
    amd = "model name\t: AMD EPYC 7B13\nflags\t\t: fpu avx2\n"
    assert cpu_description(amd) == f"AMD EPYC 7B13 ({platform.machine()})"
    assert cpu_description("").endswith(f"({platform.machine()})")  # no /proc/cpuinfo: still a line, no crash


def test_cpu_threads_one_for_a_small_model_all_for_a_big_one(monkeypatch):
    from course_utils.device import cpu_threads

    monkeypatch.delenv("COURSE_CPU_THREADS", raising=False)
    before = torch.get_num_threads()
    small = torch.nn.Linear(4, 4)
    with cpu_threads(small) as n:
        assert n == 1 and torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    big = torch.nn.Linear(8000, 8000, device="meta")  # 64 M parameters, nothing allocated
    with cpu_threads(big) as n:
        assert n == before
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    monkeypatch.setenv("COURSE_CPU_THREADS", "2")
    with cpu_threads(small) as n:
        assert n == 2
    for bad in ("many", "0", "3", "999", "1.5"):  # 3 and 999: more threads than the 2 cores
        monkeypatch.setenv("COURSE_CPU_THREADS", bad)
        with pytest.raises(CourseSetupError, match=f"COURSE_CPU_THREADS='{bad}' must be .* from 1 to 2"):
            with cpu_threads(small):
                pass
        assert torch.get_num_threads() == before


@pytest.mark.parametrize("bf16, expected", [(True, torch.bfloat16), (False, torch.float16)])
def test_cuda_uses_bfloat16_where_the_card_supports_it(monkeypatch, bf16, expected):
    monkeypatch.delenv("COURSE_DTYPE", raising=False)
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: bf16)
    assert D.get_device().type == "cuda"
    assert D.get_dtype() == expected
    assert D.get_dtype("cuda", "float16") == torch.float16  # asked for: kept


def test_apple_mps_is_chosen_without_cuda_and_computes_in_float16(monkeypatch):
    monkeypatch.delenv("COURSE_DTYPE", raising=False)
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert D.get_device().type == "mps"
    assert D.get_dtype() == torch.float16
    assert D.get_dtype("mps", "float32") == torch.float32
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    with pytest.raises(CourseInputError, match="MPS, which is not available"):
        D.get_device("mps")
