"""`python -m hfdash chat PROMPT`: stream an answer to stdout, its stats (and notices) to stderr.

Exit codes: 0 done or stopped, 1 the answer came incomplete (partial text printed), 2 bad input or any
other error (one line on stderr).
"""

from __future__ import annotations

import argparse
import os
import sys

from hfdash.errors import BadParameters
from hfdash.inference.base import KINDS, Answer, BackendSpec, GenerationParams, Message

INCOMPLETE_EXIT = 1


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "chat", help="chat with a local or hosted model",
        description="Stream one answer to stdout and its stats to stderr. Without --model, "
                    "--backend local uses the embedded SmolLM2-135M-Instruct (no network, no token).")
    parser.add_argument("prompt", metavar="PROMPT")
    parser.add_argument("--backend", choices=KINDS,
                        help="default: hosted if --base-url or --provider is given, else local")
    parser.add_argument("--model", metavar="ID_OR_PATH", help="Hub repo id, local folder or .gguf file")
    parser.add_argument("--base-url", metavar="URL", help="an OpenAI-compatible server, e.g. http://host:8000/v1")
    parser.add_argument("--api-key-env", metavar="NAME",
                        help="the environment variable holding the --base-url server's API key (sent to that "
                             "server only; the Hugging Face token goes to Hugging Face's own hosts only)")
    parser.add_argument("--provider", metavar="NAME", help='Inference Providers: "auto" or a provider name')
    parser.add_argument("--system", metavar="TEXT", help="system prompt")
    parser.add_argument("--max-new-tokens", type=int, default=GenerationParams.max_new_tokens, metavar="N")
    parser.add_argument("--temperature", type=float, default=GenerationParams.temperature, metavar="T",
                        help="0 means greedy")
    parser.add_argument("--top-p", type=float, default=GenerationParams.top_p, metavar="P")
    parser.add_argument("--seed", type=int, metavar="N")
    parser.add_argument("--stop", action="append", default=[], metavar="TEXT", help="stop string (repeatable)")
    parser.add_argument("--dtype", default="auto", help="local: auto, float32, bfloat16 or float16")
    parser.add_argument("--device", default="auto", help="local: auto, cpu, cuda or mps")
    parser.set_defaults(run=run)


def spec_from_args(args: argparse.Namespace) -> BackendSpec:
    kind = args.backend or ("hosted" if args.base_url or args.provider else "local")
    if kind == "local" and (args.base_url or args.provider):
        raise BadParameters("--base-url and --provider are for --backend hosted.")
    return BackendSpec(kind=kind, model=args.model, provider=args.provider, base_url=args.base_url,
                       dtype=args.dtype, device=args.device).validate()


def server_key_from_env(args: argparse.Namespace) -> str | None:
    """The key named by --api-key-env (never printed, not even in an error)."""
    if not args.api_key_env:
        return None
    if not args.base_url:
        raise BadParameters("--api-key-env is the key of the --base-url server; give --base-url too.")
    from hfdash.auth import clean_server_key

    raw = os.environ.get(args.api_key_env)
    if raw is None:
        raise BadParameters(f"--api-key-env: the environment variable {args.api_key_env} is not set.")
    try:
        return clean_server_key(raw)
    except BadParameters as exc:
        raise BadParameters(f"--api-key-env: {args.api_key_env} does not hold an API key: {exc.message}") from None


def run(args: argparse.Namespace) -> int:
    from hfdash.auth import ambient_token
    from hfdash.inference import stream_answer

    spec = spec_from_args(args)
    server_key = server_key_from_env(args)
    params = GenerationParams(max_new_tokens=args.max_new_tokens, temperature=args.temperature,
                              top_p=args.top_p, seed=args.seed, stop=tuple(args.stop)).validate()
    messages = ([Message("system", args.system)] if args.system else []) + [Message("user", args.prompt)]
    if spec.kind == "local":  # our own progress lines replace transformers' bars
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
    printed = 0
    answer: Answer | None = None
    for answer in stream_answer(spec, messages, params, token=ambient_token(), server_key=server_key,
                                 on_progress=show_progress):
        sys.stdout.write(answer.text[printed:])
        sys.stdout.flush()
        printed = len(answer.text)
    assert answer is not None and answer.stats is not None  # stream_answer always ends with a final Answer
    if answer.error is not None and answer.status == "error" and not answer.text:
        raise answer.error
    if printed:
        sys.stdout.write("\n")
    for notice in answer.notices:
        print(f"note: {notice}", file=sys.stderr)
    cut = ", cut off at the token limit" if answer.cut_off else ""
    print(f"[{answer.status}{cut}] {answer.stats.summary()}", file=sys.stderr)
    if answer.error is not None:
        print(f"error: {answer.error.user_message()}", file=sys.stderr)
        return INCOMPLETE_EXIT
    return 0


def show_progress(what: str, fraction: float | None) -> None:
    suffix = f" {fraction:.0%}" if fraction is not None else " ..."
    print(f"{what}{suffix}", file=sys.stderr, flush=True)
