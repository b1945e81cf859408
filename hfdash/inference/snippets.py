"""'Copy as code': a runnable Python snippet that makes the same call as a playground pane.

Hosted panes get `huggingface_hub.InferenceClient` (provider or base URL), local panes `transformers`.
A snippet never contains a token or key: it reads them from the environment of whoever runs it, and
sends them where the Playground does (`hfdash.auth.token_goes_to`): HF_TOKEN to Hugging Face's own
hosts, or to a Space / Inference Endpoint the user opted in for; SERVER_API_KEY to a server that has a key.
"""

from __future__ import annotations

import pprint
from pathlib import PurePath

from hfdash.inference.base import BackendSpec, GenerationParams, Message
from hfdash.inference.hosted import routed
from hfdash.vocab import EMBEDDED_MODEL

SERVER_KEY_ENV = "SERVER_API_KEY"


def code_snippet(spec: BackendSpec, messages: list[Message], params: GenerationParams, *,
                 sends_token: bool = False, has_server_key: bool = False) -> str:
    """`sends_token`: the HF token goes to this base URL (an HF host, or one the user opted in for);
    `has_server_key`: the server has an API key of its own."""
    if spec.kind == "local":
        return _transformers_snippet(spec, messages, params)
    return _client_snippet(spec, messages, params, sends_token=sends_token, has_server_key=has_server_key)


def _messages_literal(messages: list[Message]) -> str:
    return pprint.pformat([m.to_json() for m in messages], width=100, sort_dicts=False)


def _kwargs(pairs: list[tuple[str, object]], indent: str) -> str:
    return "".join(f"\n{indent}{name}={value!r}," for name, value in pairs)


def _client_snippet(spec: BackendSpec, messages: list[Message], params: GenerationParams, *,
                    sends_token: bool, has_server_key: bool) -> str:
    if spec.base_url and sends_token:
        client = f'InferenceClient(base_url={spec.base_url!r}, api_key=os.environ["HF_TOKEN"])'
    elif spec.base_url and has_server_key:
        client = f'InferenceClient(base_url={spec.base_url!r}, api_key=os.environ["{SERVER_KEY_ENV}"])'
    elif spec.base_url:
        # As in the Playground, this server gets no Hugging Face token; the empty header stops
        # huggingface_hub from adding a saved one by itself.
        client = f'InferenceClient(base_url={spec.base_url!r}, headers={{"authorization": ""}})'
    else:
        client = f'InferenceClient(provider={routed(spec)[0]!r}, api_key=os.environ["HF_TOKEN"])'
    call: list[tuple[str, object]] = []
    if spec.model:
        call.append(("model", spec.model if spec.base_url else routed(spec)[1]))
    call += [("max_tokens", params.max_new_tokens), ("temperature", params.temperature), ("top_p", params.top_p)]
    if params.seed is not None:
        call.append(("seed", params.seed))
    if params.stop:
        call.append(("stop", list(params.stop)))
    imports = "" if "os.environ" not in client else "import os\n\n"
    return f"""{imports}from huggingface_hub import InferenceClient

client = {client}
messages = {_messages_literal(messages)}
stream = client.chat_completion(
    messages,{_kwargs(call, "    ")}
    stream=True,
)
for chunk in stream:
    if chunk.choices:
        print(chunk.choices[0].delta.content or "", end="", flush=True)
print()
"""


# The snippet's own imports (it runs in the user's Python, not here).
TRANSFORMERS_IMPORTS = ("import os\n\nimport torch\n"
                        "from transformers import AutoModelForCausalLM, AutoTokenizer, TextStreamer\n")


def _transformers_snippet(spec: BackendSpec, messages: list[Message], params: GenerationParams) -> str:
    source = spec.model or EMBEDDED_MODEL
    gguf = ""
    if source.endswith(".gguf"):  # transformers reads a GGUF file as (folder, gguf_file=name)
        path = PurePath(source)
        source, gguf = str(path.parent), f", gguf_file={path.name!r}"
    dtype_arg = '"auto"' if spec.dtype == "auto" else f"torch.{spec.dtype}"
    device = "" if spec.device == "auto" else f".to({spec.device!r})"
    generate: list[tuple[str, object]] = [("max_new_tokens", params.max_new_tokens)]
    if params.greedy:
        generate.append(("do_sample", False))
    else:
        generate += [("do_sample", True), ("temperature", params.temperature), ("top_p", params.top_p)]
    if params.stop:
        generate.append(("stop_strings", list(params.stop)))
    seed = f"torch.manual_seed({params.seed})\n" if params.seed is not None else ""
    return TRANSFORMERS_IMPORTS + f"""
source = {source!r}
token = os.environ.get("HF_TOKEN")  # only gated models need one
tokenizer = AutoTokenizer.from_pretrained(source, token=token{gguf})
model = AutoModelForCausalLM.from_pretrained(source, token=token, dtype={dtype_arg}{gguf}){device}
messages = {_messages_literal(messages)}
inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                       return_dict=True).to(model.device)
{seed}model.generate(
    **inputs,{_kwargs(generate, "    ")}
    tokenizer=tokenizer,
    streamer=TextStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True),
)
"""
