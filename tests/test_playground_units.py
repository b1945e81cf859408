"""Playground pieces without a page: URL round trip, arrival links, 'Copy as code', history export."""

import json
import subprocess
import sys

import pytest

from hfdash.errors import NotFound
from hfdash.inference import (Answer, BackendSpec, GenerationParams, Message, Stats, check_messages,
                              preload, stream_answer)
from hfdash.inference.export import Transcript, Turn, export_json, export_markdown
from hfdash.inference.snippets import SERVER_KEY_ENV, code_snippet
from hfdash.inference.panes import Pane, format_stop, owns_key, panes_from_query, parse_stop, playground_query
from tests.support.fault_server import FaultServer

TOKEN = "hf_playgroundSecret0123456789"
MESSAGES = [Message("system", "Answer in one short sentence."), Message("user", "What is the capital of France?")]


def test_pane_setup_survives_the_url_round_trip():
    panes = [
        Pane(BackendSpec("local", dtype="bfloat16"), system="Be terse, \"really\".",
             params=GenerationParams(max_new_tokens=64, temperature=0.0, seed=7, stop=("\n\n", "END"))),
        Pane(BackendSpec("hosted", model="Qwen/Qwen2.5-7B-Instruct", provider="together"),
             params=GenerationParams(top_p=0.9)),
        Pane(BackendSpec("hosted", model="m", base_url="http://127.0.0.1:8000/v1")),
    ]
    query = playground_query(panes, variants=True)
    assert query["panes"] == "3" and query["variants"] == "1"
    assert "p3.temperature" not in query  # defaults stay out of the URL
    assert all(owns_key(key) for key in query) and not owns_key("shortlist")  # what the page removes when gone
    back = panes_from_query(query)
    assert [(p.spec, p.system, p.params) for p in back] == [(p.spec, p.system, p.params) for p in panes]
    assert all(not p.notices for p in back)


def test_arrival_link_makes_one_pane_per_model():
    hosted = panes_from_query({"models": "meta-llama/Llama-3.1-8B-Instruct,/models/tiny.Q4.gguf"})
    assert [p.spec for p in hosted] == [
        BackendSpec("hosted", model="meta-llama/Llama-3.1-8B-Instruct", provider="auto"),
        BackendSpec("local", model="/models/tiny.Q4.gguf")]
    local = panes_from_query({"models": "a/b,c/d", "backend": "local"})
    assert [p.spec for p in local] == [BackendSpec("local", model="a/b"), BackendSpec("local", model="c/d")]
    assert [p.spec for p in panes_from_query({})] == [BackendSpec("local")]  # the embedded model
    many = panes_from_query({"models": "a/1,a/2,a/3,a/4,a/5"})
    assert len(many) == 4 and "first 4" in many[0].notices[0]


def test_bad_url_values_fall_back_with_a_notice_and_out_of_range_values_are_kept_for_the_pane_to_explain():
    (pane,) = panes_from_query({"p1.kind": "cloud", "p1.temperature": "hot", "p1.top_p": "5", "p1.dtype": "int3",
                                "p1.seed": "nan"})
    assert pane.spec.kind == "local" and pane.spec.dtype == "auto"
    assert pane.params.temperature == 0.7 and pane.params.seed is None
    assert len(pane.notices) == 4 and any("'hot' is not a number" in n for n in pane.notices)
    assert pane.params.top_p == 5.0  # shown as a range problem in its pane, not silently changed


def test_stop_strings_are_comma_separated_with_escaped_newlines():
    assert parse_stop(" \\n\\n, END ,,") == ("\n\n", "END")
    assert parse_stop(format_stop(("\n", "###", "\t>"))) == ("\n", "###", "\t>")


@pytest.mark.parametrize("spec", [
    BackendSpec("local"), BackendSpec("local", model="/m/tiny.Q4.gguf", dtype="bfloat16", device="cpu"),
    BackendSpec("hosted", model="Qwen/Qwen2.5-7B-Instruct", provider="auto"),
    BackendSpec("hosted", model="m", base_url="http://127.0.0.1:8000/v1"),
    BackendSpec("hosted", model="m", base_url="https://xyz.endpoints.huggingface.cloud/v1"),
], ids=["embedded", "gguf", "provider", "base_url", "hf_endpoint"])
def test_snippet_is_python_that_reads_the_token_from_the_environment(spec, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    code = code_snippet(spec, MESSAGES, GenerationParams(temperature=0, seed=3, stop=("END",)))
    compile(code, "snippet", "exec")
    assert TOKEN not in code
    if spec.base_url:  # a server of your own, or an Endpoint nobody opted in for, never gets the HF token
        assert "HF_TOKEN" not in code and 'headers={"authorization": ""}' in code
    else:
        assert 'os.environ["HF_TOKEN"]' in code or 'os.environ.get("HF_TOKEN")' in code
    assert ("InferenceClient" if spec.kind == "hosted" else "AutoModelForCausalLM") in code
    assert "What is the capital of France?" in code


def test_snippet_sends_the_token_or_the_servers_key_as_the_playground_does():
    endpoint = BackendSpec("hosted", model="m", base_url="https://xyz.endpoints.huggingface.cloud/v1")
    opted_in = code_snippet(endpoint, MESSAGES, GenerationParams(), sends_token=True)
    assert 'api_key=os.environ["HF_TOKEN"]' in opted_in and SERVER_KEY_ENV not in opted_in
    own = BackendSpec("hosted", model="m", base_url="http://127.0.0.1:8000/v1")
    keyed = code_snippet(own, MESSAGES, GenerationParams(), has_server_key=True)
    assert f'api_key=os.environ["{SERVER_KEY_ENV}"]' in keyed and "HF_TOKEN" not in keyed
    compile(keyed, "snippet", "exec")


def test_hosted_snippet_makes_the_same_call_against_a_server():
    server = FaultServer().start()
    try:
        spec = BackendSpec("hosted", model="served-model", base_url=server.url)
        params = GenerationParams(max_new_tokens=33, temperature=0.5, top_p=0.9, seed=11, stop=("END",))
        run = subprocess.run([sys.executable, "-c", code_snippet(spec, MESSAGES, params)], capture_output=True,
                             text=True, timeout=60, env={"HF_TOKEN": TOKEN, "PATH": "/usr/bin:/bin"})
        assert run.returncode == 0, run.stderr
        assert "The quick brown fox" in run.stdout
        (request,) = server.chat_requests()
    finally:
        server.stop()
    assert not request.authorization  # HF_TOKEN is set, but a server of your own does not get it
    body = request.body
    assert body["model"] == "served-model" and body["messages"] == [m.to_json() for m in MESSAGES]
    assert (body["max_tokens"], body["temperature"], body["top_p"], body["seed"], body["stop"]) == \
        (33, 0.5, 0.9, 11, ["END"])


@pytest.mark.slow
def test_transformers_snippet_runs_and_answers_like_the_pane():
    from hfdash.inference.local import converted_folder, embedded_gguf

    preload(BackendSpec("local"), token=None)  # converts the embedded model once per test session
    spec = BackendSpec("local", model=str(converted_folder(embedded_gguf())))
    params = GenerationParams(max_new_tokens=10, temperature=0)
    run = subprocess.run([sys.executable, "-c", code_snippet(spec, MESSAGES, params)], capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Paris" in run.stdout
    pane_answer = list(stream_answer(spec, MESSAGES, params, token=None))[-1]
    assert "Paris" in pane_answer.text


def _transcripts():
    done = Answer("Paris.", "done", stats=Stats(0.25, 1.5, 12, True, 8.0))
    stopped = Answer("Once upon a", "stopped", stats=Stats(0.3, 0.9, 3, False, 5.0))
    failed = Answer("", "error", error=NotFound("local · no/such: not found (404)."))
    return [Transcript(BackendSpec("local"), system="Be brief.", params=GenerationParams(temperature=0),
                       turns=[Turn("Capital of France?", done), Turn("A story?", stopped)]),
            Transcript(BackendSpec("hosted", model="no/such", provider="auto"), turns=[Turn("Hi", failed)])]


def test_json_export_holds_setup_turns_statuses_errors_and_stats():
    data = json.loads(export_json(_transcripts()))
    assert data["format"] == "hfdash-playground/1"
    first, second = data["panes"]
    assert first["system"] == "Be brief." and first["params"]["temperature"] == 0
    assert [(t["prompt"], t["answer"]["text"], t["answer"]["status"]) for t in first["turns"]] == \
        [("Capital of France?", "Paris.", "done"), ("A story?", "Once upon a", "stopped")]
    assert first["turns"][0]["answer"]["stats"]["tokens_estimated"] is True
    assert second["backend"] == {"kind": "hosted", "model": "no/such", "provider": "auto"}
    assert second["turns"][0]["answer"]["error"]["title"] == "Not found"


def test_markdown_export_reads_as_a_conversation():
    text = export_markdown(_transcripts())
    assert "## Pane 1: local · HuggingFaceTB/SmolLM2-135M-Instruct (embedded)" in text
    assert "> Be brief." in text
    assert "### Assistant (stopped)\n\nOnce upon a" in text
    assert "12 tokens (est.)" in text and "3 tokens ·" in text
    assert "**Not found:**" in text


def test_next_call_context_skips_failed_and_empty_turns():
    transcript = _transcripts()[0]
    transcript.turns.append(Turn("Broken?", Answer("", "error", error=NotFound("gone"))))
    messages = check_messages(transcript.messages_for("And Spain?"))
    assert [m.role for m in messages] == ["system", "user", "assistant", "user", "assistant", "user"]


def test_router_policies_travel_as_a_model_suffix_to_the_auto_router():
    from hfdash.inference.hosted import make_client, request_kwargs

    for policy in ("cheapest", "fastest"):
        spec = BackendSpec("hosted", model="Qwen/Qwen2.5-7B-Instruct", provider=policy)
        assert make_client(spec, TOKEN).provider == "auto"
        assert request_kwargs(spec, MESSAGES, GenerationParams())["model"] == f"Qwen/Qwen2.5-7B-Instruct:{policy}"
        snippet = code_snippet(spec, MESSAGES, GenerationParams())
        assert "provider='auto'" in snippet and f"model='Qwen/Qwen2.5-7B-Instruct:{policy}'" in snippet
    plain = BackendSpec("hosted", model="Qwen/Qwen2.5-7B-Instruct", provider="together")
    assert make_client(plain, TOKEN).provider == "together"
    assert request_kwargs(plain, MESSAGES, GenerationParams())["model"] == "Qwen/Qwen2.5-7B-Instruct"


def _snapshot_record(model_id: str):
    from hfdash.catalog import get_model

    return get_model(model_id, source="snapshot")


SMALL_UNSERVED = "25b3nk/smollm2-360m-boolq-calibration-sft-v1"  # 0.36B parameters, no provider serves it
LARGE_SERVED = "MiniMaxAI/MiniMax-M2.5"  # 229B parameters, served by baseten and nebius


def test_a_linked_model_opens_in_the_backend_that_can_run_it_and_says_why():
    from hfdash.inference.choice import LinkFacts, choose_backend

    small, large = _snapshot_record(SMALL_UNSERVED), _snapshot_record(LARGE_SERVED)
    facts = LinkFacts(record=small, cached=False, hub_reachable=True, has_token=False)
    local = choose_backend(SMALL_UNSERVED, facts)
    assert local.spec == BackendSpec("local", model=SMALL_UNSERVED) and local.cannot_run is None
    assert "fits this machine" in local.reason and "downloaded" in local.reason

    stranded = choose_backend(SMALL_UNSERVED, LinkFacts(record=small, cached=False, hub_reachable=False,
                                                        has_token=True))
    assert stranded.cannot_run is not None
    assert "no Inference Provider serves it" in stranded.reason and "Hub cannot be reached" in stranded.reason

    hosted = choose_backend(LARGE_SERVED, LinkFacts(record=large, cached=False, hub_reachable=True, has_token=True))
    assert hosted.spec == BackendSpec("hosted", model=LARGE_SERVED, provider="auto") and hosted.cannot_run is None
    assert "baseten, nebius serve it" in hosted.reason and "does not fit this machine" in hosted.reason

    no_token = choose_backend(LARGE_SERVED, LinkFacts(record=large, cached=False, hub_reachable=True,
                                                      has_token=False))
    assert no_token.cannot_run is not None and "no Hugging Face token is set" in no_token.reason
    assert "Settings page" in no_token.cannot_run.user_message()

    from hfdash.catalog.records import ModelRecord

    unknown = choose_backend("x/y", LinkFacts(record=ModelRecord(id="x/y"), cached=False, hub_reachable=True,
                                              has_token=True))  # no parameter count: no estimate, no crash
    assert unknown.cannot_run is not None and "its size is unknown" in unknown.reason


def test_a_hosted_answers_cost_comes_from_its_usage_and_the_providers_prices():
    from hfdash.inference.cost import cost_text

    offers = _snapshot_record(LARGE_SERVED).offers  # baseten and nebius: $0.30 in, $1.20 out per 1M tokens
    usage = Stats(0.2, 1.0, 1000, False, 10.0, input_tokens=2000)
    expected = (2000 * 0.3 + 1000 * 1.2) / 1e6
    assert cost_text(BackendSpec("hosted", model=LARGE_SERVED, provider="nebius"), offers, usage) == \
        f"cost ${expected:.6f} (nebius)"
    assert cost_text(BackendSpec("hosted", model=LARGE_SERVED, provider="auto"), offers, usage) == \
        f"cost ${expected:.6f}"
    estimated = Stats(0.2, 1.0, 1000, True, 10.0)  # no usage from the server: no figure
    assert cost_text(BackendSpec("hosted", model=LARGE_SERVED, provider="auto"), offers, estimated) is None
    assert cost_text(BackendSpec("hosted", model=LARGE_SERVED, base_url="http://127.0.0.1:1/v1"), offers,
                     usage) is None
