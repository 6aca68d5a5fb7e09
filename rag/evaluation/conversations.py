"""The eval of follow-ups: short conversations, each turn scored like a question of shared/eval.

A conversation file is JSONL, one conversation a line: ``{"id", "turns": [...]}``, where each
turn has the fields of a question (``question``, ``answerable``, ``facts``, ``evidence``) and
``follow_up``: whether it leans on the turn before it. Turns are asked in order, each with the
previous one as the engine read it for context, exactly as the bot does in a private chat.
Every turn is also asked alone, so the report shows what context gains on follow-ups and that
it costs nothing on self-contained questions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..engine import Engine
from .questions import EvalQuestion, EvalReport, QuestionResult, score_question, summarize


@dataclass(frozen=True)
class Conversation:
    cid: str
    turns: list[EvalQuestion]
    follow_ups: list[bool]  # per turn: does it lean on the turn before it


@dataclass(frozen=True)
class ConversationReport:
    follow_ups: EvalReport  # follow-up turns, read with their context
    follow_ups_alone: EvalReport  # the same turns asked alone (what the engine did before follow-ups)
    standalone: EvalReport  # self-contained turns, asked within their conversation
    standalone_alone: EvalReport  # the same turns asked alone: must not be better than in conversation
    context_judged_right: float  # turns after the first whose need for context the engine judged as labelled
    conversations: int

    def summary(self) -> dict[str, Any]:
        groups = ("follow_ups", "follow_ups_alone", "standalone", "standalone_alone")
        return {name: getattr(self, name).summary() for name in groups} | {
            "context_judged_right": self.context_judged_right,
            "conversations": self.conversations,
        }


def is_conversation_file(path: Path) -> bool:
    """True when the first entry of a JSONL file is a conversation (it has ``turns``)."""
    with path.open(encoding="utf-8") as lines:
        first = next((line for line in lines if line.strip()), "")
    return bool(first) and "turns" in json.loads(first)


def load_conversations(path: Path) -> list[Conversation]:
    conversations = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        turns = [
            EvalQuestion(f"{item['id']}.{n}", t["question"], bool(t["answerable"]), t.get("facts", []), t.get("evidence", []))
            for n, t in enumerate(item["turns"], start=1)
        ]
        conversations.append(Conversation(item["id"], turns, [bool(t.get("follow_up")) for t in item["turns"]]))
    return conversations


def evaluate_conversations(engine: Engine, conversations: list[Conversation]) -> ConversationReport:
    """Ask every conversation in order, and every turn alone; score both."""
    in_context: dict[bool, list[QuestionResult]] = {True: [], False: []}
    alone: dict[bool, list[QuestionResult]] = {True: [], False: []}
    judged, judged_right = 0, 0
    for conversation in conversations:
        previous: str | None = None
        for turn, follow_up in zip(conversation.turns, conversation.follow_ups):
            answer = engine.answer(turn.question, previous)
            if previous is not None:
                judged += 1
                judged_right += (answer.read_as is not None) == follow_up
            in_context[follow_up].append(score_question(turn, answer))
            alone[follow_up].append(score_question(turn, engine.answer(turn.question)))
            previous = answer.read_as or answer.question
    return ConversationReport(
        follow_ups=summarize(in_context[True], engine.mode),
        follow_ups_alone=summarize(alone[True], engine.mode),
        standalone=summarize(in_context[False], engine.mode),
        standalone_alone=summarize(alone[False], engine.mode),
        context_judged_right=judged_right / judged if judged else 1.0,
        conversations=len(conversations),
    )
