"""Unit tests of the bot's formatting: escaping, the Sources block, splitting at 4096."""

from __future__ import annotations

import re

import pytest

from rag import Answer, Citation, Passage
from telegram_bot.format import MAX_ANSWER_CHARS, escape, format_answer, format_passage, html_to_plain, shorten, split_html, utf16_len
from tests.telegram_html import TelegramHTMLError, parse_telegram_html

TITLE = "Major Prisoner Exchange <Marks> Progress & Hope"


def make_answer(text: str, citations: list[Citation] | None = None, **kwargs: object) -> Answer:
    citations = citations if citations is not None else []
    return Answer(
        question="q", text=text, citations=citations, grounded=bool(citations), mode="offline", latency_ms=1.0, **kwargs
    )


def citation(n: int, quote: str, title: str = TITLE) -> Citation:
    return Citation(n=n, passage_id=f"doc:{n}", quote=quote, document_title=title)


def test_escape_covers_markup_characters() -> None:
    assert escape("<b>Tom & Jerry</b> _*[x]*_") == "&lt;b&gt;Tom &amp; Jerry&lt;/b&gt; _*[x]*_"


def test_answer_with_sources_block_is_valid_telegram_html() -> None:
    answer = make_answer(
        "390 people <were> exchanged [1], at the border & more [2].",
        [citation(1, "Each side exchanged 270 <soldiers> & 120 civilians."), citation(2, "At the border " + "x " * 200)],
    )
    html = format_answer(answer)
    visible = parse_telegram_html(html)
    assert visible.startswith("390 people <were> exchanged [1], at the border & more [2].")
    assert f"Sources — {TITLE}" in visible
    assert "[1] “Each side exchanged 270 <soldiers> & 120 civilians.”" in visible
    long_line = next(line for line in visible.splitlines() if line.startswith("[2]"))
    assert long_line.endswith("…”") and len(long_line) < 240  # long quotes are shortened


def test_sources_quoted_word_for_word_in_the_answer_are_not_repeated() -> None:
    quote = "Negotiators met in Istanbul <last> week."
    answer = make_answer(f"{quote} [1] They talked. [2]", [citation(1, quote), citation(2, "A two-hour meeting.")])
    visible = parse_telegram_html(format_answer(answer))
    assert visible.count("Istanbul") == 1
    assert "[1] quoted above: sentence 1" in visible
    assert "[2] “A two-hour meeting.”" in visible


def test_sources_name_each_title_when_answers_span_articles() -> None:
    answer = make_answer("A [1]. B [2].", [citation(1, "A.", "First"), citation(2, "B.", "Second")])
    visible = parse_telegram_html(format_answer(answer))
    assert "[1] “A.” — First" in visible and "[2] “B.” — Second" in visible


def test_ungrounded_answer_has_no_sources_and_shows_the_note() -> None:
    answer = make_answer("The article does not say.", note="The language model did not answer; this is the offline answer.")
    html = format_answer(answer)
    assert "Sources" not in html
    assert "<i>The language model did not answer; this is the offline answer.</i>" in html


def test_inline_answers_repeat_the_question_escaped() -> None:
    html = format_answer(make_answer("No."), question="<b>bold</b> & _*[")
    assert parse_telegram_html(html).startswith("❓ <b>bold</b> & _*[")


def test_passage_bolds_the_cited_sentence_among_neighbours() -> None:
    passages = [
        Passage("d:1", "d", 1, "First & one.", 1, "h1"),
        Passage("d:2", "d", 2, "Cited <two>.", 1, "h2"),
        Passage("d:3", "d", 3, "Third.", 2, "h3"),
    ]
    html = format_passage(passages, "d:2", n=2, title=TITLE)
    assert "<b>Cited &lt;two&gt;.</b>" in html
    assert parse_telegram_html(html) == f"Source [2] — {TITLE}\n\nFirst & one. Cited <two>.\n\nThird."


def test_shorten_cuts_at_a_word() -> None:
    assert shorten("one two three four", 12) == "one two…"
    assert shorten("  spaced   out  ") == "spaced out"


def test_eight_thousand_character_answer_is_split_at_sentences_within_the_limit() -> None:
    sentence = "Ukraine & Russia swapped <390> prisoners at the border with Belarus [1]. "
    paragraphs = ["".join(sentence for _ in range(9)).strip() for _ in range(12)]
    text = "\n\n".join(paragraphs)
    assert 7_800 <= len(text) <= MAX_ANSWER_CHARS  # the longest answer sent whole
    answer = make_answer(text, [citation(1, "They swapped 390 prisoners.")])
    html = format_answer(answer)

    parts = split_html(html)

    assert len(parts) >= 3
    for part in parts:
        assert utf16_len(part) <= 4096
        parse_telegram_html(part)  # each part is valid markup on its own
        assert part == part.strip()
        assert part.endswith((".", "”", "</i>")), part[-40:]  # cut at a sentence or paragraph end
    joined = " ".join(html_to_plain(p) for p in parts)
    assert joined.split() == html_to_plain(html).split()  # nothing lost, nothing repeated
    assert parts[-1].count("Sources") == 1


def test_split_closes_and_reopens_tags_at_a_cut() -> None:
    html = "<b>" + "bold words here. " * 400 + "</b>"
    parts = split_html(html, limit=1000)
    assert len(parts) > 5
    for part in parts:
        assert part.startswith("<b>") and part.endswith("</b>")
        assert utf16_len(part) <= 1000
        parse_telegram_html(part)


def test_split_never_cuts_an_entity_and_counts_utf16() -> None:
    html = "&amp;" * 3000  # one visible character each, five raw ones
    parts = split_html(html, limit=4096)
    assert all(re.fullmatch(r"(&amp;)+", part) for part in parts)
    emoji = "😀" * 3000  # two UTF-16 units each
    parts = split_html(emoji)
    assert [utf16_len(p) for p in parts] == [4096, 1904]


def test_short_text_is_one_part() -> None:
    assert split_html("  <b>hi</b>  ") == ["<b>hi</b>"]


def test_fake_parser_refuses_what_telegram_refuses() -> None:
    for bad in ["<b>open", "a < b", "<div>x</div>", "<b><i>x</b></i>", "Tom & Jerry"]:
        with pytest.raises(TelegramHTMLError):
            parse_telegram_html(bad)
    assert html_to_plain("<b>a &lt; b</b> &amp; c") == "a < b & c"


def test_a_60000_character_answer_is_cut_to_a_few_messages_keeping_its_sources() -> None:
    sentence = "The exchange of prisoners took place at the border and it was a long day [1]. "
    answer = make_answer(sentence * 800, [citation(1, "The exchange took place at the border.")])
    assert len(answer.text) > 60_000

    parts = split_html(format_answer(answer))

    assert 2 <= len(parts) <= 3
    visible = "".join(parse_telegram_html(part) for part in parts)
    assert "border and it was a long day [1]. …" in visible  # cut after a whole sentence
    assert "it was cut here" in visible and "Sources" in parts[-1] and "took place at the border" in parts[-1]
