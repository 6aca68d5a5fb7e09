"""The report as one self-contained HTML page: no script, no request for anything, readable on a phone.

Charts are drawn by matplotlib as SVG with text kept as text (the browser's font, sharp at any zoom) and set in
``<img>`` as data URIs: each chart keeps its own element ids, so two charts never clash in the page.
"""

from __future__ import annotations

import base64
import io
from datetime import datetime, timezone
from html import escape

from matplotlib import rc_context
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from .report import ArticleReport, CitedSentence, DayCount, Report, VotedDown

_ANSWERED, _REFUSED = "#2b6cb0", "#dd6b20"
_GROUPS_SHOWN = 30  # a page an editor reads to the end; --json has them all
_STYLE = """
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;padding:1rem;color:#1a202c}
main{max-width:48rem;margin:0 auto}
h1{font-size:1.5rem;margin:.2rem 0}h2{font-size:1.25rem;margin-top:2rem;border-top:1px solid #cbd5e0;padding-top:1rem}
h3{font-size:1.05rem}.period{color:#4a5568;margin-top:0}
figure{margin:1rem 0}figure img{width:100%;height:auto}figcaption{color:#4a5568;font-size:.9rem}
.figures{display:grid;grid-template-columns:repeat(auto-fit,minmax(9rem,1fr));gap:.5rem;margin:0;padding:0}
.figures div{background:#f7fafc;border-radius:.4rem;padding:.5rem}
.figures dt{font-size:.8rem;color:#4a5568}.figures dd{margin:0;font-size:1.2rem;font-weight:600}
ol.groups li{margin:.4rem 0}.also{color:#4a5568;font-size:.9rem}
blockquote{margin:.3rem 0 .8rem;padding-left:.8rem;border-left:3px solid #cbd5e0;color:#2d3748}
.none{color:#718096;font-style:italic}.votes{white-space:nowrap}
"""


def _when(seconds: float) -> str:
    """A moment as an editor reads it: "8 Dec 2026, 14:05 UTC"."""
    moment = datetime.fromtimestamp(seconds, timezone.utc)
    return f"{moment.day} {moment:%b %Y, %H:%M} UTC"


def _svg(figure: Figure) -> str:
    """The figure as an ``<img>`` whose source is its SVG."""
    buffer = io.BytesIO()
    # Text stays text (the browser's font, sharp at any zoom); a fixed salt: the same report, the same bytes.
    with rc_context({"svg.fonttype": "none", "svg.hashsalt": "exchange-bot-report"}):
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _day_axis(figure: Figure, days: list[DayCount]):  # noqa: ANN202 - matplotlib's Axes type
    axes = figure.add_subplot()
    axes.spines[["top", "right"]].set_visible(False)
    many = len(days) > 7
    axes.set_xticks(range(len(days)), [d.day[5:] for d in days], rotation=45 if many else 0,
                    ha="right" if many else "center")
    if len(days) > 16:  # a label every few days: a month of dates does not fit a phone's width
        step = (len(days) + 15) // 16
        for n, label in enumerate(axes.get_xticklabels()):
            label.set_visible(n % step == 0)
    return axes


def questions_per_day_chart(days: list[DayCount]) -> str:
    figure = Figure(figsize=(5.0, 2.8))
    axes = _day_axis(figure, days)
    positions = range(len(days))
    refused = [d.refused for d in days]
    axes.bar(positions, refused, color=_REFUSED, label="not answered")
    axes.bar(positions, [d.asked - d.refused for d in days], bottom=refused, color=_ANSWERED, label="answered")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylabel("questions")
    axes.legend(frameon=False, loc="lower left", bbox_to_anchor=(0, 1), ncols=2)
    return _svg(figure)


def refused_share_chart(days: list[DayCount]) -> str:
    figure = Figure(figsize=(5.0, 2.4))
    axes = _day_axis(figure, days)
    axes.plot(range(len(days)), [d.refused / d.asked for d in days], color=_REFUSED, marker="o")
    axes.set_ylim(0, 1.05)
    axes.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    axes.set_ylabel("not answered")
    axes.grid(axis="y", color="#e2e8f0")
    return _svg(figure)


def _figures(article: ArticleReport) -> str:
    cells = [
        ("questions", str(article.asked)), ("answered", f"{article.answered_share:.0%}"),
        ("not answered", f"{article.refused_share:.0%}"), ("votes", f"{article.up} up · {article.down} down"),
        ("latency p50", f"{article.latency_p50_ms:.0f} ms"), ("latency p95", f"{article.latency_p95_ms:.0f} ms"),
    ]
    return '<dl class="figures">' + "".join(f"<div><dt>{k}</dt><dd>{escape(v)}</dd></div>" for k, v in cells) + "</dl>"


def _groups(article: ArticleReport) -> str:
    if not article.unanswered:
        return '<p class="none">Every question was answered.</p>'
    items = []
    for group in article.unanswered[:_GROUPS_SHOWN]:
        lead, *others = group.examples
        also = f'<br><span class="also">also: {" · ".join(escape(o) for o in others)}</span>' if others else ""
        items.append(f"<li><strong>{group.count}×</strong> {escape(lead)}{also}</li>")
    rest = article.unanswered[_GROUPS_SHOWN:]
    more = f"<p>… and {len(rest)} smaller groups, {sum(g.count for g in rest)} questions (--json).</p>"
    return '<ol class="groups">' + "".join(items) + "</ol>" + (more if rest else "")


def _quote(sentence: CitedSentence) -> str:
    if sentence.text is None:
        return f'<blockquote class="none">{escape(sentence.passage_id)}: no longer in the article</blockquote>'
    return f"<blockquote>{escape(sentence.text)}</blockquote>"


def _voted_down(answers: list[VotedDown]) -> str:
    if not answers:
        return '<p class="none">No answer was voted down.</p>'
    parts = []
    for answer in answers:
        changed = " <em>(the article has changed since)</em>" if answer.article_changed else ""
        quotes = "".join(_quote(c) for c in answer.cited) or '<p class="none">It cited nothing.</p>'
        parts.append(
            f"<p><strong>{escape(answer.question)}</strong> "
            f'<span class="votes">({answer.down} down, {answer.up} up)</span>'
            f"<br><small>last asked {escape(_when(answer.asked_at))}</small>{changed}</p>{quotes}"
        )
    return "".join(parts)


def _article(article: ArticleReport) -> str:
    return (
        f"<section><h2>{escape(article.title)}</h2>{_figures(article)}"
        f"<h3>What readers asked that the article does not say</h3>{_groups(article)}"
        f"<h3>Answers voted down, with the sentences they cited</h3>{_voted_down(article.voted_down)}</section>"
    )


def render_html(report: Report) -> str:
    """The whole page."""
    period = f"{_when(report.since)} to {_when(report.until)}"
    answered = report.outcomes.get("answered", 0)
    head = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>What readers asked: {escape(period)}</title><style>{_STYLE}</style></head>"
    )
    if not report.asked:
        body = '<p class="none">No questions were asked in this period.</p>'
    else:
        body = (
            f"<p>{report.asked} questions, {answered / report.asked:.0%} answered. "
            f"Fallbacks {report.outcomes.get('fallback', 0)}, errors {report.outcomes.get('error', 0)}.</p>"
            f'<figure><img src="{questions_per_day_chart(report.days)}" alt="Questions per day, answered and not">'
            "<figcaption>Questions per day (UTC)</figcaption></figure>"
            f'<figure><img src="{refused_share_chart(report.days)}" alt="Share of questions not answered, per day">'
            "<figcaption>Share not answered, per day</figcaption></figure>"
            + "".join(_article(a) for a in report.articles)
        )
    title = f'<h1>What readers asked</h1><p class="period">{escape(period)}</p>'
    return f"{head}<body><main>{title}{body}</main></body></html>\n"
