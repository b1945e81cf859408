"""A playground pane's conversation (`Transcript`) and its export to JSON and Markdown.

Exports hold what the user saw: set-up, prompts, answers, statuses, errors and stats. A token is
never part of a transcript, so it cannot reach an export.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, UTC

from hfdash.inference.base import Answer, BackendSpec, GenerationParams, Message, Stats

EXPORT_FORMAT = "hfdash-playground/1"


@dataclass
class Turn:
    prompt: str
    answer: Answer
    cost: str | None = None  # hosted answers priced from the providers' offers: "cost $0.000123"


@dataclass
class Transcript:
    """One pane: which model, how it is asked, and what was said."""

    spec: BackendSpec
    system: str = ""
    params: GenerationParams = field(default_factory=GenerationParams)
    turns: list[Turn] = field(default_factory=list)

    def history(self) -> list[Message]:
        """System prompt and the answered turns, as context for the next call.

        Failed turns and turns without any answer text are left out: they would leave two user
        messages in a row, which many chat templates refuse.
        """
        messages = [Message("system", self.system)] if self.system.strip() else []
        for turn in self.turns:
            if turn.answer.status != "error" and turn.answer.text:
                messages += [Message("user", turn.prompt), Message("assistant", turn.answer.text)]
        return messages

    def messages_for(self, prompt: str) -> list[Message]:
        """The messages a send of `prompt` makes."""
        return [*self.history(), Message("user", prompt)]


def stats_line(stats: Stats, cost: str | None = None) -> str:
    """'first token 0.31 s · 24.5 tok/s · 112 tokens (est.) · total 4.92 s[ · cost $0.000123]'."""
    ttft = f"{stats.ttft_s:.2f} s" if stats.ttft_s is not None else "n/a"
    rate = f"{stats.tokens_per_s:.1f} tok/s" if stats.tokens_per_s is not None else "n/a tok/s"
    tokens = f"{stats.output_tokens} tokens" + (" (est.)" if stats.tokens_estimated else "")
    line = f"{stats.load_part}first token {ttft} · {rate} · {tokens} · total {stats.total_s:.2f} s"
    return f"{line} · {cost}" if cost else line


def params_line(params: GenerationParams) -> str:
    seed = params.seed if params.seed is not None else "none"
    stop = ", ".join(repr(s) for s in params.stop) or "none"
    return (f"max new tokens {params.max_new_tokens} · temperature {params.temperature} · "
            f"top_p {params.top_p} · seed {seed} · stop {stop}")


def _answer_json(answer: Answer) -> dict:
    error = None
    if answer.error is not None:
        error = {"title": answer.error.title, "message": answer.error.user_message()}
    return {"text": answer.text, "status": answer.status, "finish_reason": answer.finish_reason, "error": error,
            "notices": list(answer.notices),
            "stats": asdict(answer.stats) if answer.stats is not None else None}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def export_json(transcripts: Sequence[Transcript]) -> str:
    panes = []
    for number, transcript in enumerate(transcripts, start=1):
        panes.append({
            "pane": number,
            "label": transcript.spec.label,
            "backend": transcript.spec.to_query(),
            "system": transcript.system,
            "params": {**asdict(transcript.params), "stop": list(transcript.params.stop)},
            "turns": [{"prompt": turn.prompt, "answer": _answer_json(turn.answer), "cost": turn.cost}
                      for turn in transcript.turns],
        })
    return json.dumps({"format": EXPORT_FORMAT, "exported_at": _now(), "panes": panes}, indent=2,
                      ensure_ascii=False)


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" for line in text.splitlines()) or ">"


def export_markdown(transcripts: Sequence[Transcript]) -> str:
    lines = ["# hfdash Playground", "", f"Exported {_now()}", ""]
    for number, transcript in enumerate(transcripts, start=1):
        lines += [f"## Pane {number}: {transcript.spec.label}", "",
                  f"- Parameters: {params_line(transcript.params)}"]
        if transcript.system.strip():
            lines += ["- System prompt:", "", _quote(transcript.system)]
        lines.append("")
        if not transcript.turns:
            lines += ["_No messages yet._", ""]
        for turn in transcript.turns:
            answer = turn.answer
            status = "" if answer.status == "done" else f" ({answer.status})"
            if answer.cut_off:
                status += " (cut off at the token limit)"
            lines += ["### User", "", turn.prompt, "", f"### Assistant{status}", "", answer.text or "_(no text)_", ""]
            notes = [f"_Notice: {notice}_" for notice in answer.notices]
            if answer.error is not None:
                notes.append(f"**{answer.error.title}:** {answer.error.user_message()}")
            if answer.stats is not None:
                notes.append(f"_{stats_line(answer.stats, turn.cost)}_")
            for note in notes:  # each its own paragraph
                lines += [note, ""]
    return "\n".join(lines).rstrip() + "\n"
