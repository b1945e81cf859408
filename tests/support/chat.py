"""Helpers for tests that chat through `stream_answer`, as the Playground's panes do."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from hfdash.inference import Answer, BackendSpec, GenerationParams, Message, stream_answer


def all_answers(spec: BackendSpec, messages: list[Message], params: GenerationParams,
                stop: threading.Event | None = None) -> list[Answer]:
    return list(stream_answer(spec, messages, params, token=None, stop=stop))


def assert_streamed_capital(seen: list[Answer]) -> Answer:
    """The answers to "What is the capital of France?" streamed in several updates and name Paris; the final one."""
    final = seen[-1]
    assert final.status == "done", final.error
    assert "Paris" in final.text
    assert len(seen) - 1 >= 3 and all(a.status == "streaming" for a in seen[:-1])
    return final


def panes_at_once(spec: BackendSpec, systems: list[str], prompt: list[Message], params: GenerationParams,
                  on_delta: Callable[[int], None] = lambda pane: None) -> list[Answer]:
    """One thread per pane (a system prompt each), all started together; their final answers, in order.
    `on_delta(pane)` is called for every streamed update, so a test can see how panes interleaved."""
    finals: dict[int, Answer] = {}

    def pane(index: int, system: str):
        for answer in stream_answer(spec, [Message("system", system), *prompt], params, token=None):
            on_delta(index)
            finals[index] = answer

    threads = [threading.Thread(target=pane, args=item) for item in enumerate(systems)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    return [finals.get(index) for index in range(len(systems))]


def until_answered(at, timeout: float = 240):
    """Rerun an AppTest Playground until its run is filed. The page never waits for a generation (live
    panes are fragments AppTest does not rerun by itself); each full run files a finished run."""
    deadline = time.monotonic() + timeout
    while "pg_run" in at.session_state:
        assert time.monotonic() < deadline, "the Playground's answers did not finish in time"
        time.sleep(0.5)
        at.run()
    return at


def requests_in(engine) -> int:
    """Requests a local model's engine is generating or holding (hfdash/inference/local/engine.py)."""
    return len(engine._active) + engine._pending.qsize()
