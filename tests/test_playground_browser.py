"""The Playground in a real browser on a fresh server: two local panes side by side, then Stop mid-answer."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from tests.support.browser import wait_for_app, wait_for_words

STATS = re.compile(r"first token .* tok/s .* tokens")


def _pane_input(page, label: str, pane: int):
    return page.get_by_label(label, exact=True).nth(pane)


def _open_playground(app_server, page, query: str = "", env: dict[str, str] | None = None) -> None:
    """A fresh server, as the README starts it, with the Playground open in the browser."""
    server = app_server(env=env)
    page.goto(f"{server.url}/Playground{query}")
    wait_for_app(page, timeout=120_000)


def _open_setup(page) -> None:
    """Unfold pane 1's set-up (it folds after a send) unless it is open."""
    if not _pane_input(page, "Max new tokens", 0).is_visible():
        page.get_by_text("Set-up", exact=True).first.click()


def _commit(page, locator, value: str) -> None:
    locator.fill(value)
    locator.press("Tab")  # Streamlit takes a text value on blur
    wait_for_app(page)


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.timeout(900)
def test_two_local_panes_answer_side_by_side_and_stop_keeps_partial_text(app_server, page, embedded_model_folder):
    _open_playground(app_server, page)
    page.locator('[data-testid="stRadio"]').filter(has_text="Panes").get_by_text("2", exact=True).click()
    wait_for_app(page)
    _commit(page, _pane_input(page, "System prompt", 0), "You are a helpful geography teacher.")
    _commit(page, _pane_input(page, "System prompt", 1), "You are a pirate. Answer like a pirate.")
    for pane in (0, 1):
        _commit(page, _pane_input(page, "Max new tokens", pane), "16")

    _commit(page, page.get_by_label("Prompt", exact=True), "What is the capital of France?")
    page.get_by_role("button", name="Send", exact=True).click()
    answers = page.locator('[data-testid="stChatMessage"]')
    stats = page.get_by_text(STATS)
    stats.nth(1).wait_for(timeout=600_000)  # the server imports transformers and loads: minutes on busy cores
    assert answers.count() == 4  # each pane: the prompt and its answer
    texts = [answers.nth(i).inner_text() for i in range(4)]
    assert "What is the capital of France?" in texts[0] and "What is the capital of France?" in texts[2]
    assert texts[1].strip() and texts[3].strip()  # (a 135M model may give both the same sentence)
    query = parse_qs(urlsplit(page.url).query)
    assert query["p1.system"] == ["You are a helpful geography teacher."]
    assert query["p2.system"] == ["You are a pirate. Answer like a pirate."]
    assert query["panes"] == ["2"]

    # A long answer in pane 1, stopped while it streams: the partial text stays, marked "Stopped".
    page.get_by_text("Set-up", exact=True).first.click()  # set-up folds after a send
    _commit(page, _pane_input(page, "Max new tokens", 0), "2000")
    _commit(page, _pane_input(page, "Temperature", 0), "0")  # greedy: this story does not end by itself soon
    _commit(page, page.get_by_label("Prompt", exact=True), "Write a very long story about a dragon and a knight.")
    page.get_by_role("button", name="Send", exact=True).click()
    wait_for_words(page, 3, 12, timeout=60_000)  # pane 1 (first column): prompt, answer, prompt, live answer
    page.get_by_test_id("stMainBlockContainer").get_by_role("button", name="Stop", exact=True).click()
    page.get_by_text("Stopped", exact=True).first.wait_for(timeout=30_000)
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_enabled(timeout=30_000)
    stopped = answers.nth(3).inner_text()
    assert len(stopped.split()) > 12
    assert "Stopped" in stopped
    assert "Traceback" not in page.inner_text("body")


HEADER_STOP = b"8\x01"  # BackMsg(stop_script=True): what Streamlit's header Stop sends


def _streamlit_connection(page) -> dict:
    """Route the page's Streamlit connection through the test, which can then send on it as the page would."""
    held: dict = {}

    def route(ws):
        held["server"] = ws.connect_to_server()  # messages still flow both ways untouched

    page.route_web_socket(re.compile(r"/_stcore/stream"), route)
    return held


def _visible_stops(page) -> int:
    return page.get_by_role("button", name="Stop", exact=True).count()  # hidden buttons are not counted


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.timeout(900)
def test_one_stop_and_after_the_header_stop_the_page_tells_the_truth_and_send_works(app_server, page,
                                                                                     embedded_model_folder):
    connection = _streamlit_connection(page)
    _open_playground(app_server, page)
    _commit(page, _pane_input(page, "Max new tokens", 0), "2000")
    _commit(page, _pane_input(page, "Temperature", 0), "0")
    _commit(page, page.get_by_label("Prompt", exact=True), "Write a very long story about a dragon and a knight.")
    page.get_by_role("button", name="Send", exact=True).click()
    wait_for_words(page, 1, 8, timeout=600_000)

    # While it streams the page redraws twice a second; each redraw is a script run, yet only one Stop shows.
    for _ in range(12):
        assert _visible_stops(page) == 1
        page.wait_for_timeout(250)

    # Streamlit's header Stop (hidden on this page, and shown only while a script run is slow) ends a script
    # run, not the answer: its message, sent on the page's own connection.
    connection["server"].send(HEADER_STOP)
    page.wait_for_timeout(2_000)
    live = page.locator('[data-testid="stChatMessage"]').nth(1)
    words = len(live.inner_text().split())
    _commit(page, page.get_by_label("Prompt", exact=True), "Write a long poem about the sea.")  # the next run
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_disabled()  # still running, and says so
    wait_for_words(page, 1, words + 5, timeout=60_000)  # the answer still grows on the page

    page.get_by_test_id("stMainBlockContainer").get_by_role("button", name="Stop", exact=True).click()
    page.get_by_text("Stopped", exact=True).wait_for(timeout=30_000)
    send = page.get_by_role("button", name="Send", exact=True)
    expect(send).to_be_enabled(timeout=30_000)

    # Send works again; a short limit ends the next answer early, and the pane says so.
    _open_setup(page)
    _commit(page, _pane_input(page, "Max new tokens", 0), "4")
    send.click()
    page.get_by_text("Cut off at the token limit", exact=True).wait_for(timeout=120_000)
    expect(send).to_be_enabled(timeout=30_000)
    assert page.locator('[data-testid="stChatMessage"]').count() == 4
    assert "Traceback" not in page.inner_text("body")


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.timeout(900)
def test_regenerate_and_edit_the_last_message_keep_the_earlier_turns(app_server, page, embedded_model_folder):
    _open_playground(app_server, page)
    _commit(page, _pane_input(page, "Max new tokens", 0), "12")
    _commit(page, _pane_input(page, "Temperature", 0), "0")
    messages = page.locator('[data-testid="stChatMessage"]')
    stats = page.get_by_text(STATS)
    for number, prompt in enumerate(("What is the capital of France?", "Write a short poem about the sea."), start=1):
        _commit(page, page.get_by_label("Prompt", exact=True), prompt)
        page.get_by_role("button", name="Send", exact=True).click()
        stats.nth(number - 1).wait_for(timeout=600_000)
        expect(page.get_by_role("button", name="Send", exact=True)).to_be_enabled(timeout=30_000)
    first_answer = messages.nth(1).inner_text()

    # Regenerate with a smaller limit: the last answer is replaced (3 tokens, cut off), the first stays.
    _open_setup(page)
    _commit(page, _pane_input(page, "Max new tokens", 0), "3")
    page.get_by_role("button", name="Regenerate", exact=True).click()
    expect(messages.nth(3)).to_contain_text(re.compile(r"\b3 tokens"), timeout=180_000)
    expect(messages.nth(3)).to_contain_text("Cut off at the token limit")
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_enabled(timeout=30_000)
    expect(messages).to_have_count(4)
    assert "Write a short poem about the sea." in messages.nth(2).inner_text()
    assert messages.nth(1).inner_text() == first_answer

    # Edit the last message and send it again: it replaces the last turn, the first stays.
    _open_setup(page)
    _commit(page, _pane_input(page, "Max new tokens", 0), "12")
    page.get_by_role("button", name="Edit last message").click()
    edited = page.get_by_label("Last message", exact=True)
    edited.fill("What is the capital of Italy?")
    edited.press("Tab")
    wait_for_app(page)
    page.get_by_role("button", name="Send edited", exact=True).click()
    expect(messages.nth(2)).to_contain_text("What is the capital of Italy?", timeout=120_000)
    stats.nth(1).wait_for(timeout=120_000)
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_enabled(timeout=30_000)
    expect(messages).to_have_count(4)
    assert "What is the capital of France?" in messages.nth(0).inner_text()
    assert messages.nth(1).inner_text() == first_answer
    assert "Traceback" not in page.inner_text("body")


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.timeout(900)
def test_linked_models_open_where_they_can_run_and_a_pane_that_cannot_says_why(app_server, page, hub, tmp_path,
                                                                                embedded_model_folder):
    from tests.support.hf_cache import add_cached_model
    from tests.support.hub_repos import add_repo

    # A small chat model no provider serves, in the local cache; a 229B model providers serve; no token.
    tiny, large = "example-org/tiny-chat", "MiniMaxAI/MiniMax-M2.5"
    files = {path.name: path.read_bytes() for path in embedded_model_folder.iterdir() if path.is_file()}
    add_repo(hub, tiny, {name: (len(data) if name.endswith(".safetensors") else data) for name, data in files.items()})
    hf_home = tmp_path / "linked_hf_home"
    add_cached_model(hf_home / "hub", tiny, files)
    _open_playground(app_server, page, f"?models={tiny},{large}", env={"HF_ENDPOINT": hub.url, "HF_HOME": str(hf_home)})
    # The first run looks both models up in the catalog (the loopback Hub) before it draws the panes.
    expect(page.get_by_text("Local: it fits this machine", exact=False)).to_be_visible(timeout=180_000)
    assert "in the local cache" in page.get_by_text("Local: it fits this machine", exact=False).inner_text()
    reason = page.get_by_text(f"{large} cannot run here now", exact=False).first
    expect(reason).to_be_visible()
    assert "no Hugging Face token is set" in reason.inner_text() and "Settings page" in reason.inner_text()
    assert parse_qs(urlsplit(page.url).query)["p1.kind"] == ["local"]

    _commit(page, _pane_input(page, "Max new tokens", 0), "8")
    _commit(page, page.get_by_label("Prompt", exact=True), "What is the capital of France?")
    page.get_by_role("button", name="Send", exact=True).click()
    page.get_by_text(STATS).first.wait_for(timeout=600_000)
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_enabled(timeout=30_000)
    assert page.locator('[data-testid="stChatMessage"]').count() == 2  # the local pane only: nothing failed
    assert page.get_by_text("Error", exact=True).count() == 0
    assert page.get_by_text(f"{large} cannot run here now", exact=False).count() >= 1  # still says why
    assert not [request for request in hub.requests if "/chat/completions" in request.path]
    assert "Traceback" not in page.inner_text("body")
