"""The targets each run is checked against, and the figures as tables for a terminal."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table


def _measured(sections: dict[str, Any], section: str, figure: str, key: str = "median") -> float | None:
    """A figure's median (or ``key``), a plain number as is, None when the section did not run."""
    value = sections.get(section, {}).get(figure)
    return value.get(key) if isinstance(value, dict) else value


def check_targets(sections: dict[str, Any]) -> list[dict[str, Any]]:
    """The project's speed and memory targets beside the measured figure (the median, or the max for peaks).

    Answer latency, bot throughput and memory are the learned reader's budget (a cross-encoder pass over the
    retrieved sentences of every English answer): p50 60 ms, p95 120 ms, 30 msg/s (Telegram's own limit per bot),
    350 MB.
    """
    ready = _measured(sections, "telegram", "ready_s")
    ready_what = "bot"
    if ready is None:
        ready, ready_what = _measured(sections, "start", "engine_process_ready_s"), "engine"
    largest = sections.get("scaling", {}).get("largest_docs")
    rows = [
        ("answer p50", _measured(sections, "latency", "p50_ms"), "<=", 60.0, "ms"),
        ("answer p95", _measured(sections, "latency", "p95_ms"), "<=", 120.0, "ms"),
        ("overhead over the floor", _measured(sections, "floor", "overhead_ratio"), "<=", 2.0, "x"),
        ("bot throughput, 50 users", _measured(sections, "telegram", "messages_per_s"), ">=", 30.0, "msg/s"),
        ("bot update→reply p95", _measured(sections, "telegram", "p95_ms"), "<=", 500.0, "ms"),
        ("bot peak RSS", _measured(sections, "telegram", "peak_rss_mb", "max"), "<=", 350.0, "MB"),
        (f"start to ready ({ready_what})", ready, "<=", 3.0, "s"),
        (f"query p50 at {largest or '?'} docs / 1 doc", _measured(sections, "scaling", "query_p50_ratio"), "<=", 2.0, "x"),
        ("new article answered", _measured(sections, "reload", "reload_s"), "<=", 5.0, "s"),
        (f"report on {sections.get('report', {}).get('questions', '?')} questions",
         _measured(sections, "report", "command_s"), "<=", 10.0, "s"),
        ("logging one question p95", _measured(sections, "report", "record_p95_ms"), "<=", 2.0, "ms"),
    ]
    targets = []
    for name, value, op, limit, unit in rows:
        met = None if value is None else (value <= limit if op == "<=" else value >= limit)
        targets.append({"target": name, "value": value, "limit": f"{op} {limit:g} {unit}", "met": met})
    return targets


def _rows(prefix: str, value: Any) -> list[tuple[str, str, str, str, str]]:
    """Flatten a section into (figure, median, min, max, unit) rows."""
    if isinstance(value, dict) and "median" in value:
        return [(prefix, f"{value['median']:.4g}", f"{value['min']:.4g}", f"{value['max']:.4g}", value["unit"])]
    if isinstance(value, dict):
        return [row for key, item in value.items() for row in _rows(f"{prefix}.{key}" if prefix else key, item)]
    if isinstance(value, str) and len(value) > 40:
        return []  # notes and paths go below the table
    shown = f"{value:.4g}" if isinstance(value, float) else str(value)
    return [(prefix, shown, "", "", "")]


def render_bench(result: dict[str, Any], console: Console) -> None:
    """Print the figures and the targets as rich tables."""
    meta = result.get("meta", {})
    table = Table("section", "figure", "median", "min", "max", "unit",
                  title=f"bench ({'quick' if meta.get('quick') else 'full'}, {meta.get('cores')} cores, "
                        f"{meta.get('questions')} questions, {meta.get('seconds')} s)")
    notes = []
    for section, figures in result.get("sections", {}).items():
        rows = _rows("", figures)
        for index, row in enumerate(rows):
            table.add_row(section if index == 0 else "", *row, end_section=index == len(rows) - 1)
        notes += [f"{section}.{key}: {value}" for key, value in figures.items() if isinstance(value, str) and len(value) > 40]
    console.print(table)
    for note in notes:
        console.print(note, highlight=False)
    targets = Table("target", "measured", "limit", "met", title="targets")
    for t in result.get("targets", []):
        value = "n/a" if t["value"] is None else f"{t['value']:.4g}"
        met = {True: "[green]yes[/]", False: "[red]no[/]", None: "[dim]not run[/]"}[t["met"]]
        targets.add_row(t["target"], value, t["limit"], met)
    console.print(targets)
