"""The Hugging Face hub and model folders: is the hub reachable, what a download costs, is a model in
the local cache, is a folder damaged. Answers within a bounded time, never hangs.

Taught in: chapter 0 (welcome: offline is detected at once) and chapter 4 (a model's parts).
`models` uses these to choose and load a model.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from pathlib import Path


# --- offline detection ----------------------------------------------------------------------------
def hub_offline_flag() -> bool:
    """True when the learner switched the hub off (``HF_HUB_OFFLINE=1``)."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def hub_endpoint() -> tuple[str, str, int]:
    """The hub's address: ``HF_ENDPOINT`` (a mirror) or huggingface.co, as (base URL, host, port)."""
    from urllib.parse import urlsplit

    base = (os.environ.get("HF_ENDPOINT", "").strip() or "https://huggingface.co").rstrip("/")
    parts = urlsplit(base if "://" in base else "https://" + base)
    try:
        port = parts.port or (80 if parts.scheme == "http" else 443)
    except ValueError:  # a port that is not a number
        port = 443
    return f"{parts.scheme}://{parts.netloc}{parts.path}", parts.hostname or "", port


def _resolve(host: str, port: int, timeout: float) -> list:
    """``socket.getaddrinfo`` with a deadline: the system's own lookup can wait half a minute on a
    network that drops packets, so it runs in a background thread that is abandoned at `timeout`."""
    found: list = []

    def lookup():
        try:
            found.extend(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except (OSError, UnicodeError):
            pass

    worker = threading.Thread(target=lookup, daemon=True)
    worker.start()
    worker.join(timeout)
    return list(found) if not worker.is_alive() else []


def hub_reachable(timeout: float = 0.5) -> bool:
    """Can the Hugging Face hub be reached? Answers within about `timeout` seconds, never hangs.

    The name lookup (DNS) and a TCP connection to the hub's port share the time; no request is sent.
    `hub_answers` asks the hub itself before a download.
    """
    if hub_offline_flag():
        return False
    deadline = time.monotonic() + timeout
    _, host, port = hub_endpoint()
    for family, kind, proto, _, addr in _resolve(host, port, timeout)[:2]:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        try:
            with socket.socket(family, kind, proto) as s:
                s.settimeout(left)
                s.connect(addr)
                return True
        except OSError:
            continue
    return False


def hub_answers(source: str, timeout: float = 3.0) -> tuple[bool, str]:
    """Does the hub answer for model `source`? An HTTP HEAD of its page in the hub's API, within
    `timeout` seconds. Returns ``(ok, why)``: why names the status or the failure in words."""
    import urllib.error
    import urllib.request

    base, _, _ = hub_endpoint()
    request = urllib.request.Request(f"{base}/api/models/{source}", method="HEAD",
                                     headers={"User-Agent": "course_utils"})
    token = os.environ.get("HF_TOKEN", "").strip()
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return True, f"the hub answered (HTTP {answer.status})"
    except urllib.error.HTTPError as e:
        if e.code in (401, 403):
            return False, (f"the hub answered HTTP {e.code}: this model needs you to accept its licence on its "
                           "page and log in (`hf auth login`)")
        if e.code == 404:
            return False, f"the hub answered HTTP 404: there is no model called {source!r}"
        return False, f"the hub answered HTTP {e.code} ({e.reason})"
    except (urllib.error.URLError, OSError, ValueError) as e:
        reason = getattr(e, "reason", e)
        return False, f"the hub did not answer within {timeout:g} s ({reason})"


#: The folders of a pipeline the course loads (with model_index.json beside them).
PIPELINE_PARTS = ("unet", "vae", "text_encoder", "tokenizer", "scheduler")


def _downloaded(name: str, variant: str | None) -> bool:
    """Would the course's `from_pretrained` call download this file of a hub repository?"""
    if name == "model_index.json":
        return True
    part, _, file = name.partition("/")
    if part not in PIPELINE_PARTS or "/" in file:
        return False
    if file.endswith(".safetensors"):
        return (f".{variant}." in file) if variant else file.count(".") == 1
    return file.endswith((".json", ".txt"))


def download_size(source: str, variant: str | None = None, timeout: float = 3.0) -> int | None:
    """Bytes the course would download for hub model `source` (the files of `PIPELINE_PARTS`, in
    safetensors, `variant` ones if given), asked from the hub's API; None if it does not say."""
    import urllib.request

    base, _, _ = hub_endpoint()
    request = urllib.request.Request(f"{base}/api/models/{source}?blobs=true", headers={"User-Agent": "course_utils"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            siblings = json.loads(answer.read().decode()).get("siblings", [])
        sizes = [int(s.get("size") or 0) for s in siblings if _downloaded(str(s.get("rfilename", "")), variant)]
    except (OSError, ValueError, AttributeError, TypeError):
        return None
    return sum(sizes) or None


def weights_variant(folder: Path) -> str | None:
    """"fp16" when every part of a model folder holds float16 weights (``*.fp16.safetensors``) and
    not every part holds the full ones: the files diffusers must be told to load."""
    parts = [folder / p for p in ("unet", "vae", "text_encoder") if (folder / p).is_dir()]
    full = all(any(f.name.count(".") == 1 for f in p.glob("*.safetensors")) for p in parts)
    half = all(any(f.name.endswith(".fp16.safetensors") for f in p.glob("*.safetensors")) for p in parts)
    return "fp16" if half and not full else None


_WEIGHT_SUFFIXES = (".safetensors", ".bin")


def _damaged_json(path: Path, root: Path) -> str | None:
    try:
        json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return f"{path.relative_to(root)} is missing"
    except (OSError, ValueError) as e:
        return f"{path.relative_to(root)} is not readable JSON ({type(e).__name__})"
    return None


def _damaged_weights(folder: Path, root: Path) -> str | None:
    files = [p for p in folder.iterdir() if p.name.endswith(_WEIGHT_SUFFIXES) and p.is_file()]
    if not files:
        return f"{folder.relative_to(root)}/ holds no weights file (*.safetensors)"
    from safetensors import safe_open

    for p in files:
        if p.suffix != ".safetensors":
            continue
        try:  # reads the header and checks that the file is as long as it says: a cut-off download fails
            with safe_open(str(p), "pt") as f:
                f.keys()
        except Exception as e:  # safetensors raises its own error type for a damaged header
            return f"{p.relative_to(root)} is damaged ({str(e).splitlines()[0][:80]})"
    return None


#: Parts of a pipeline the course never loads (it passes None for them), so they need not be on disk.
UNUSED_PARTS = ("safety_checker", "feature_extractor", "image_encoder")


def check_model_folder(folder: str | Path) -> list[str]:
    """What is missing or damaged in a diffusers model folder: one short sentence per problem.

    An empty list means every part named by ``model_index.json`` is there with a readable config and
    complete weights (safetensors headers are checked against the file size, so an interrupted
    download or a cut-off copy is found); the tokenizer must have its vocabulary. Only file headers
    are read: the check takes milliseconds.
    """
    root = Path(folder).expanduser()
    problem = _damaged_json(root / "model_index.json", root)
    if problem:
        return [problem]
    index = json.loads((root / "model_index.json").read_text(encoding="utf-8"))
    if not isinstance(index, dict):
        return ["model_index.json does not describe a pipeline"]
    out = []
    for name, spec in index.items():
        if (name.startswith("_") or name in UNUSED_PARTS or not isinstance(spec, list) or len(spec) != 2
                or spec[0] is None):
            continue
        part = root / name
        if not part.is_dir():
            out.append(f"{name}/ is missing")
            continue
        if "Tokenizer" in str(spec[1]):
            vocab = (part / "tokenizer.json").is_file() or (
                (part / "vocab.json").is_file() and (part / "merges.txt").is_file())
            out += [] if vocab else [f"{name}/ has no vocabulary (tokenizer.json, or vocab.json and merges.txt)"]
            out += [p for p in (_damaged_json(f, root) for f in part.glob("*.json")) if p]
        elif "Scheduler" in str(spec[1]):
            out += [p for p in [_damaged_json(part / "scheduler_config.json", root)] if p]
        else:
            out += [p for p in (_damaged_json(part / "config.json", root), _damaged_weights(part, root)) if p]
    return out


def cached_snapshot(source: str) -> Path | None:
    """The local cache's folder for a hub model (where its model_index.json lies), or None."""
    try:
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(source, "model_index.json")
    except Exception:  # an unusual cache layout is a cache miss, not a crash
        return None
    return Path(found).parent if isinstance(found, str) else None


def is_cached(source: str) -> bool:
    """Are a model's files complete on this disk? Looks only at the disk, never the network.

    For a hub model, every part's config and weights must be in the cache: a download interrupted
    after ``model_index.json`` leaves a partial snapshot, which is not "cached".
    """
    folder = Path(source) if Path(source).is_dir() else cached_snapshot(source)
    return folder is not None and not check_model_folder(folder)
