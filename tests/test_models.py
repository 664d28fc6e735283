import time

import pytest
import torch

import course_utils.hub as H
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


# --- damaged model folders ----------------------------------------------------------------------------
def _copy(src, dst):
    import shutil

    shutil.copytree(src, dst)
    return dst


def _truncate(path):
    size = path.stat().st_size
    with open(path, "r+b") as f:
        f.truncate(size // 2)


DAMAGES = {
    "cut-off unet weights": (lambda d: _truncate(d / "unet" / "diffusion_pytorch_model.safetensors"),
                             "unet/diffusion_pytorch_model.safetensors is damaged"),
    "cut-off text encoder": (lambda d: _truncate(d / "text_encoder" / "model.safetensors"),
                             "text_encoder/model.safetensors is damaged"),
    "no vae weights": (lambda d: (d / "vae" / "diffusion_pytorch_model.safetensors").unlink(),
                       "vae/ holds no weights file"),
    "broken unet config": (lambda d: (d / "unet" / "config.json").write_text("{oops"),
                           "unet/config.json is not readable JSON"),
    "no tokenizer folder": (lambda d: __import__("shutil").rmtree(d / "tokenizer"), "tokenizer/ is missing"),
    "tokenizer without vocabulary": (lambda d: [p.unlink() for p in (d / "tokenizer").iterdir()
                                                if p.name in ("vocab.json", "merges.txt", "tokenizer.json")],
                                     "tokenizer/ has no vocabulary"),
    "no scheduler config": (lambda d: (d / "scheduler" / "scheduler_config.json").unlink(),
                            "scheduler/scheduler_config.json is missing"),
    "broken model_index": (lambda d: (d / "model_index.json").write_text("[1, 2"),
                           "model_index.json is not readable JSON"),
}


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_a_damaged_model_folder_is_named_at_load_time(tmp_path, tiny_model_dir, damage):
    folder = _copy(tiny_model_dir, tmp_path / "model")
    hurt, says = DAMAGES[damage]
    hurt(folder)
    assert says in "; ".join(H.check_model_folder(folder))
    with pytest.raises(CourseSetupError) as err:
        M.load_pipeline(str(folder), device="cpu", verbose=False)
    assert says in str(err.value) and ("load_pipeline('embedded')" in str(err.value))


def test_the_damaged_embedded_model_says_git_checkout(monkeypatch, tmp_path):
    folder = _copy(M.EMBEDDED_DIR, tmp_path / "minisd-cats")
    _truncate(folder / "unet" / "diffusion_pytorch_model.safetensors")
    monkeypatch.setitem(M.REGISTRY, "embedded", M.ModelInfo("embedded", str(folder), "minisd", "MIT", 64, 20, 7.5))
    with pytest.raises(CourseSetupError, match=r"unet/diffusion_pytorch_model.safetensors is damaged.*"
                                               r"git checkout -- assets/models"):
        M.load_pipeline("embedded", device="cpu", verbose=False)
    row = next(c for c in __import__("course_utils").check_setup() if c.name == "embedded model")
    assert row.ok  # the shipped one is fine


def test_the_shipped_embedded_model_is_complete():
    assert H.check_model_folder(M.EMBEDDED_DIR) == []


def test_any_error_inside_diffusers_becomes_a_setup_error(monkeypatch, tiny_model_dir):
    import diffusers

    def explode(*a, **k):
        raise KeyError("something deep inside")

    monkeypatch.setattr(diffusers.StableDiffusionPipeline, "from_pretrained", explode)
    with pytest.raises(CourseSetupError, match="KeyError: 'something deep inside'.*Copy the folder again"):
        M.load_pipeline(str(tiny_model_dir), device="cpu", verbose=False)


def test_a_tokenizer_that_lost_its_vocabulary_is_caught_after_loading(monkeypatch, tiny_model_dir):
    import diffusers

    real = diffusers.StableDiffusionPipeline.from_pretrained.__func__

    def shrunken(cls, *a, **k):
        pipe = real(cls, *a, **k)
        pipe.tokenizer = type(pipe.tokenizer)(vocab={"<|startoftext|>": 0, "<|endoftext|>": 1}, merges=[])
        return pipe

    monkeypatch.setattr(diffusers.StableDiffusionPipeline, "from_pretrained", classmethod(shrunken))
    with pytest.raises(CourseSetupError, match="tokenizer knows 2 tokens but the text encoder has"):
        M.load_pipeline(str(tiny_model_dir), device="cpu", verbose=False)


# --- the hub cache ------------------------------------------------------------------------------------
def _fake_cache(root, repo, files_from):
    """A Hugging Face cache holding `repo` with the files of the folder `files_from` (or only model_index)."""
    import shutil

    snap = root / f"models--{repo.replace('/', '--')}" / "snapshots" / ("a" * 40)
    snap.mkdir(parents=True)
    (root / f"models--{repo.replace('/', '--')}" / "refs").mkdir()
    (root / f"models--{repo.replace('/', '--')}" / "refs" / "main").write_text("a" * 40)
    for src in files_from.rglob("*"):
        if src.is_file():
            (snap / src.relative_to(files_from)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, snap / src.relative_to(files_from))
    return snap


def test_a_partial_download_is_not_cached_and_a_complete_one_is(monkeypatch, tmp_path, tiny_model_dir):
    import shutil

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "hub"))
    partial = tmp_path / "partial"
    partial.mkdir()
    shutil.copy(tiny_model_dir / "model_index.json", partial / "model_index.json")
    _fake_cache(tmp_path / "hub", "owner/partial", partial)
    _fake_cache(tmp_path / "hub", "owner/complete", tiny_model_dir)
    assert H.cached_snapshot("owner/partial") is not None
    assert not M.is_cached("owner/partial")  # only model_index.json arrived: not cached
    assert M.is_cached("owner/complete")
    with pytest.raises(CourseSetupError, match="not in the local cache and the hub cannot be reached"):
        M.load_pipeline("owner/partial", device="cpu", verbose=False)
    pipe = M.load_pipeline("owner/complete", device="cpu", verbose=False)
    assert pipe.unet is not None


# --- the network probe --------------------------------------------------------------------------------
def test_a_hanging_name_lookup_never_blocks_longer_than_the_timeout(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("HF_ENDPOINT", "https://hub.example.invalid")
    monkeypatch.setattr(H.socket, "getaddrinfo", lambda *a, **k: time.sleep(5) or [])
    t0 = time.perf_counter()
    assert M.hub_reachable(timeout=0.3) is False
    assert time.perf_counter() - t0 < 0.6


@pytest.mark.parametrize("endpoint, expected", [
    ("https://huggingface.co", ("https://huggingface.co", "huggingface.co", 443)),
    ("http://127.0.0.1:8123/", ("http://127.0.0.1:8123", "127.0.0.1", 8123)),
    ("http://mirror.example/hf", ("http://mirror.example/hf", "mirror.example", 80)),
    ("hf-mirror.example", ("https://hf-mirror.example", "hf-mirror.example", 443)),
])
def test_the_endpoint_is_read_with_its_port(monkeypatch, endpoint, expected):
    monkeypatch.setenv("HF_ENDPOINT", endpoint)
    assert H.hub_endpoint() == expected


@pytest.fixture
def fake_hub(monkeypatch):
    """A local HTTP server standing in for the hub: /api/models/<owner>/<status> answers with <status>."""
    import http.server
    import threading

    seen = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # the model's file list, as the hub's API gives it with ?blobs=true
            seen.append((self.command, self.path))
            files = {"model_index.json": 600, "unet/config.json": 1_000, "unet/diffusion_pytorch_model.safetensors":
                     3_400_000_000, "unet/diffusion_pytorch_model.fp16.safetensors": 1_700_000_000,
                     "unet/diffusion_pytorch_model.bin": 3_400_000_000, "vae/diffusion_pytorch_model.safetensors":
                     330_000_000, "vae/diffusion_pytorch_model.fp16.safetensors": 165_000_000,
                     "safety_checker/model.safetensors": 1_200_000_000, "v1-5-pruned.ckpt": 7_700_000_000}
            body = __import__("json").dumps({"siblings": [{"rfilename": k, "size": v} for k, v in files.items()]})
            self.send_response(200)
            self.end_headers()
            self.wfile.write(body.encode())

        def do_HEAD(self):
            seen.append((self.command, self.path))
            last = self.path.rstrip("/").rsplit("/", 1)[-1]
            if last == "silent":
                time.sleep(3)
            self.send_response(int(last) if last.isdigit() else 200)
            self.end_headers()

        def log_message(self, *a):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.server_port}")
    yield seen
    server.shutdown()


def test_hub_answers_with_a_head_request(fake_hub):
    assert M.hub_reachable(timeout=1.0) is True
    ok, why = H.hub_answers("owner/200", timeout=2)
    assert ok and "HTTP 200" in why
    assert fake_hub == [("HEAD", "/api/models/owner/200")]
    assert H.hub_answers("owner/404", timeout=2) == (False, "the hub answered HTTP 404: there is no model called "
                                                            "'owner/404'")
    ok, why = H.hub_answers("owner/401", timeout=2)
    assert not ok and "hf auth login" in why
    ok, why = H.hub_answers("owner/503", timeout=2)
    assert not ok and "HTTP 503" in why


def test_a_hub_that_does_not_answer_is_given_up_within_the_timeout(fake_hub):
    t0 = time.perf_counter()
    ok, why = H.hub_answers("owner/silent", timeout=0.4)
    assert not ok and "did not answer within 0.4 s" in why
    assert time.perf_counter() - t0 < 1.5


def test_no_download_starts_when_the_hub_does_not_answer(fake_hub, monkeypatch):
    import diffusers

    monkeypatch.setattr(diffusers.StableDiffusionPipeline, "from_pretrained",
                        lambda *a, **k: pytest.fail("a download was attempted"))
    with pytest.raises(CourseSetupError, match="HTTP 404: there is no model called 'owner/404'"):
        M.load_pipeline("owner/404", device="cpu", verbose=False)


# --- the CUDA branches, with the CUDA checks mocked ----------------------------------------------------
@pytest.fixture
def fake_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)


def test_cuda_chooses_the_real_model_when_cached(monkeypatch, fake_cuda):
    monkeypatch.setattr(M, "is_cached", lambda source: True)
    info, reason = M.choose_model("auto")
    assert info.key == "sd15" and "in the local cache" in reason


def test_cuda_chooses_the_real_model_when_the_hub_answers(monkeypatch, fake_cuda):
    monkeypatch.setattr(M, "is_cached", lambda source: False)
    monkeypatch.setattr(M, "hub_reachable", lambda *a, **k: True)
    info, reason = M.choose_model("auto")
    assert info.key == "sd15" and "downloads" in reason


def test_cuda_without_weights_or_network_falls_back_to_the_embedded_model(monkeypatch, fake_cuda):
    monkeypatch.setattr(M, "is_cached", lambda source: False)
    info, reason = M.choose_model("auto")
    assert info.key == "embedded" and "HF_HUB_OFFLINE is set" in reason
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(M, "hub_reachable", lambda *a, **k: False)
    info, reason = M.choose_model("auto")
    assert info.key == "embedded" and "cannot be reached" in reason


def test_the_download_size_counts_only_what_the_course_downloads(fake_hub):
    assert H.download_size("owner/model") == 600 + 1_000 + 3_400_000_000 + 330_000_000
    assert H.download_size("owner/model", "fp16") == 600 + 1_000 + 1_700_000_000 + 165_000_000  # half


def test_a_download_is_announced_with_its_size_and_asks_for_fp16_on_a_gpu(fake_hub, monkeypatch, capsys,
                                                                            tiny_model_dir):
    import diffusers

    calls = []
    monkeypatch.setattr(diffusers.StableDiffusionPipeline, "from_pretrained",
                        lambda source, **kw: calls.append(kw) or __import__("conftest").build_tiny_pipeline())
    info = M.ModelInfo("sd15", "owner/model", "Stable Diffusion 1.5", "", 512, 30, 7.5, fp16_variant=True)
    M.load_uncached(info, torch.device("cpu"), torch.float16)  # float16 as on a GPU: the fp16 files
    out = capsys.readouterr().out
    assert "Downloading Stable Diffusion 1.5 from the Hugging Face hub: 1.9 GB of float16 weights" in out
    assert "resumes" in out
    assert calls[-1]["variant"] == "fp16" and "local_files_only" not in calls[-1]
    M.load_uncached(info, torch.device("cpu"), torch.float32)
    assert calls[-1]["variant"] is None and "3.7 GB" in capsys.readouterr().out


def test_a_cache_of_float16_files_loads_with_its_variant(monkeypatch, tmp_path, tiny_model_dir):
    from conftest import build_tiny_pipeline

    half = tmp_path / "half"
    build_tiny_pipeline().save_pretrained(half, safe_serialization=True, variant="fp16")
    assert H.weights_variant(half) == "fp16" and H.weights_variant(tiny_model_dir) is None
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "hub"))
    _fake_cache(tmp_path / "hub", "owner/half", half)
    assert M.is_cached("owner/half")
    pipe = M.load_pipeline("owner/half", device="cpu", verbose=False)  # float16 files, float32 on the CPU
    assert pipe.unet.dtype == torch.float32


def test_model_defaults_come_from_the_model_and_fall_back_to_20_and_7_5(tiny_model_dir):
    pipe = M.load_pipeline(str(tiny_model_dir), device="cpu", verbose=False)
    assert M.model_defaults(pipe) == (30, 7.5)  # a local folder: Stable Diffusion's defaults
    assert M.model_info(pipe).source == str(tiny_model_dir)
    turbo = M.remember(type(pipe)(**pipe.components), M.REGISTRY["sd-turbo"])  # the same parts, as SD-Turbo
    assert M.model_defaults(turbo) == (2, 0.0)
    assert M.model_defaults(M.as_image_to_image(turbo)) == (2, 0.0)  # the image-to-image twin knows its model
    by_hand = type(pipe)(**pipe.components)  # a pipeline the course did not load
    assert M.model_info(by_hand).key == "unknown" and M.model_defaults(by_hand) == (20, 7.5)
