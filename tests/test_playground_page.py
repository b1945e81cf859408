"""AppTest for the Playground page: panes answer side by side, each pane shows its own problems.

AppTest cannot see streaming; it sees the page after every pane's answer is final.
"""

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.support.chat import until_answered
from tests.support.fault_server import FaultServer

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TOKEN = "hf_pageSecret0123456789abcdef"
BADGE_ERROR = ":red-badge[Error]"
STATS = re.compile(r"^(load \d+\.\d\d s · )?first token \d+\.\d\d s · \d+\.\d tok/s · \d+ tokens( \(est\.\))?"
                   r" · total \d+\.\d\d s$")


def _app(query: dict[str, str]) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=240)
    at.switch_page("pages/3_Playground.py")  # as part of the app, so sidebar page links resolve
    at.query_params.update(query)
    at.session_state["hf_token"] = TOKEN  # this browser session's own token
    return at.run()


def _columns(at):
    """The pane columns (the ones with a 'Pane N' heading)."""
    return [c for c in at.columns if any(h.value.startswith("Pane ") for h in c.subheader)]


def _page_text(at) -> str:
    parts = [e.value for kind in ("markdown", "caption", "code", "error", "warning", "info", "subheader", "title")
             for e in getattr(at, kind)]
    parts += [str(w.value) for w in (*at.text_input, *at.text_area)]
    parts += [e.label for e in at.expander]
    return "\n".join(parts + [str(at.query_params)])


def _send(at, prompt: str) -> None:
    at.text_area(key="pg_prompt").set_value(prompt)
    until_answered(next(b for b in at.button if b.label == "Send").click().run())


@pytest.mark.slow
def test_two_local_panes_answer_with_stats_history_and_code():
    at = _app({"panes": "2", "p1.temperature": "0", "p1.max_new_tokens": "12",
               "p1.system": "You are a geography teacher. Answer in one short sentence.",
               "p2.temperature": "0", "p2.max_new_tokens": "12", "p2.system": "Answer in French."})
    assert not at.exception
    assert [e.value for e in at.title] == ["Playground"]
    _send(at, "What is the capital of France?")
    assert not at.exception and not at.warning
    first, second = _columns(at)
    for column in (first, second):
        user, assistant = column.chat_message
        assert user.markdown[0].value == "What is the capital of France?"
        assert assistant.markdown[0].value.strip()
        assert any(STATS.match(c.value) for c in assistant.caption)
    assert "Paris" in first.chat_message[1].markdown[0].value
    assert first.chat_message[1].markdown[0].value != second.chat_message[1].markdown[0].value
    assert at.text_area(key="pg_prompt").value == ""  # sent, so the box is ready for the next turn
    codes = [c.value for c in at.code]
    assert len(codes) == 2 and all("AutoModelForCausalLM" in c for c in codes)
    assert "Answer in French." in codes[1]
    assert at.query_params["p2.system"] == "Answer in French."

    # A second turn carries the history; clearing one pane leaves the other alone.
    _send(at, "And of Italy?")
    first, second = _columns(at)
    assert len(first.chat_message) == 4 and len(second.chat_message) == 4
    next(b for b in second.button if b.label == "Clear history").click().run()
    first, second = _columns(at)
    assert len(first.chat_message) == 4 and len(second.chat_message) == 0
    assert TOKEN not in _page_text(at)


@pytest.mark.slow
def test_bad_input_is_explained_in_its_own_pane_and_loses_nothing(hub):
    dead_url = "http://127.0.0.1:9/v1"  # the discard port: nothing answers there
    at = _app({"panes": "4", "variants": "1",
               "p1.temperature": "5", "p1.system": "Keep this system prompt.",
               "p2.kind": "hosted", "p2.model": "some/model", "p2.base_url": dead_url,
               "p3.model": "nobody/no-such-model",
               "p4.max_new_tokens": "8"})
    columns = _columns(at)
    assert any("temperature must be between 0 and 2" in w.value for w in columns[0].warning)

    # Empty prompts: each pane says so; nothing starts.
    next(b for b in at.button if b.label == "Send").click().run()
    columns = _columns(at)
    for column in columns[1:]:
        assert any("prompt is empty" in e.value for e in column.error)
    assert not any(c.chat_message for c in columns)

    for index, prompt in enumerate(["Hi", "Hi", "Hi", "word " * 10_000]):
        at.text_area(key=f"pg{index}_prompt").set_value(prompt)
    until_answered(next(b for b in at.button if b.label == "Send").click().run())
    assert not at.exception
    columns = _columns(at)
    assert any("temperature must be between 0 and 2" in e.value for e in columns[0].error)
    assert at.text_area(key="pg0_prompt").value == "Hi"  # a refused pane keeps its prompt
    assert at.text_area(key="pg0_system").value == "Keep this system prompt."

    def answer_errors(column):
        return " ".join(e.value for e in column.chat_message[1].error)

    assert "Unavailable" in answer_errors(columns[1]) and "could not connect" in answer_errors(columns[1])
    assert "Not found" in answer_errors(columns[2]) and "nobody/no-such-model" in answer_errors(columns[2])
    assert "context length" in answer_errors(columns[3]) and "8,192" in answer_errors(columns[3])
    for column in columns[1:]:
        assert BADGE_ERROR in [m.value for m in column.chat_message[1].markdown]
    assert at.query_params["p2.base_url"] == dead_url
    assert TOKEN not in _page_text(at)


def test_hosted_pane_on_a_server_of_your_own_answers_without_the_session_token():
    server = FaultServer().start()
    try:
        at = _app({"p1.kind": "hosted", "p1.model": "served-model", "p1.base_url": server.url,
                   "p1.seed": "5", "p1.stop": "END"})
        assert at.selectbox(key="pg0_server").value == "Other URL…"
        _send(at, "Say something.")
        assert not at.exception
        (column,) = _columns(at)
        assistant = column.chat_message[1]
        assert assistant.markdown[0].value == "The quick brown fox jumps over the lazy dog."
        assert any(STATS.match(c.value) for c in assistant.caption)
        (request,) = server.chat_requests()
    finally:
        server.stop()
    assert not request.authorization  # the session's HF token goes only to Hugging Face
    assert request.body["seed"] == 5 and request.body["stop"] == ["END"]
    (code,) = at.code
    assert "InferenceClient(base_url=" in code.value and "HF_TOKEN" not in code.value
    assert TOKEN not in _page_text(at)


def test_arrival_link_opens_one_hosted_pane_per_model_and_puts_the_setup_in_the_url():
    at = _app({"models": "Qwen/Qwen2.5-7B-Instruct,meta-llama/Llama-3.1-8B-Instruct", "shortlist": "a/b"})
    assert not at.exception
    assert [c.subheader[0].value for c in _columns(at)] == ["Pane 1", "Pane 2"]
    assert [at.selectbox(key=f"pg{i}_model").value for i in (0, 1)] == \
        ["Qwen/Qwen2.5-7B-Instruct", "meta-llama/Llama-3.1-8B-Instruct"]
    assert [at.radio(key=f"pg{i}_kind").value for i in (0, 1)] == ["hosted", "hosted"]
    for column in _columns(at):  # served by providers, not runnable here, this session has a token: it says so
        assert any(c.value.startswith("Hosted: ") and "serve it and your token is set" in c.value
                   for c in column.caption)
    assert "models" not in at.query_params and at.query_params["shortlist"] == "a/b"
    picker = at.selectbox(key="pg0_model")  # searchable: the shortlist and the catalog's chat models are offered
    assert "a/b" in picker.options and len(picker.options) > 10
    assert at.query_params["p2.model"] == "meta-llama/Llama-3.1-8B-Instruct"
    assert at.query_params["p2.provider"] == "auto"


def test_provider_choice_says_what_auto_does_and_offers_the_routers_policies():
    at = _app({"models": "Qwen/Qwen2.5-7B-Instruct"})
    choice = at.selectbox(key="pg0_provider")
    assert choice.options[:3] == ["auto (the router's choice)", "fastest (:fastest)", "cheapest (:cheapest)"]
    assert "together" in choice.options
    assert "picks the fastest provider" in choice.help and "preference order" in choice.help
    at = choice.set_value("cheapest").run()
    assert at.query_params["p1.provider"] == "cheapest"
