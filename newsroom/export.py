"""Readers' questions as an evaluation set: the refused and the voted-down ones, in the JSONL format
``exchange-bot eval --questions`` reads (rag.evaluate.load_questions; shared/eval/README.md).

The expected facts and evidence are left blank for an editor to fill. ``answerable`` is the bot's own verdict to
be checked: false for a refused question (set it true, with facts, when the article does say it), true for a
voted-down answer (readers thought the answer wrong: its facts are what the editor writes down). Each distinct
wording is one line, with how often it was asked.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from .groups import same_wording
from .log import LogEntry
from .report import is_unanswered, iso


def export_questions(entries: list[LogEntry]) -> list[dict[str, Any]]:
    """One eval question per distinct wording that was refused or voted down, most asked first."""
    found: dict[str, dict[str, Any]] = {}
    last_asked: dict[str, float] = {}
    for entry in entries:
        logged = entry.question
        source = "refused" if is_unanswered(entry) else "voted_down" if entry.down > entry.up else None
        if source is None:
            continue
        key = f"{source}:{same_wording(logged.question)}"
        item = found.get(key)
        if item is None:
            found[key] = {
                "id": f"{source}-{hashlib.sha256(key.encode('utf-8')).hexdigest()[:10]}",
                "question": logged.question,
                "answerable": source == "voted_down",
                "facts": [],
                "evidence": [],
                "source": source,
                "article": logged.article,
                "asked": 1,
            }
            last_asked[key] = logged.asked_at
        else:
            item["asked"] += 1
            last_asked[key] = max(last_asked[key], logged.asked_at)
    for key, item in found.items():
        item["last_asked"] = iso(last_asked[key])
    return sorted(found.values(), key=lambda item: (-item["asked"], item["id"]))


def write_export(path: Path, questions: list[dict[str, Any]]) -> None:
    lines = [json.dumps(question, ensure_ascii=False) for question in questions]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
