"""rag.tokens: the one word splitter, each option doing what its documentation says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import rag
from rag.tokens import APOSTROPHES, WordSplitter, without_possessive

SENTENCE = "Anna's son, 20, didn't see the U.S. envoy's two-hour covid19 talks in Basel."


def test_by_default_case_digits_and_compounds_are_kept() -> None:
    assert WordSplitter().split(SENTENCE) == [
        "Anna's", "son", "20", "didn't", "see", "the", "U", "S", "envoy's", "two-hour", "covid19", "talks", "in",
        "Basel",
    ]


def test_folding_case_and_reading_acronyms() -> None:
    words = WordSplitter(fold_case=True, acronyms=True).split(SENTENCE)
    assert words[:3] == ["anna's", "son", "20"] and "us" in words and "u" not in words
    assert WordSplitter(acronyms=True).split("U.S. and e.g. Kyiv") == ["US", "and", "eg", "Kyiv"]


def test_digits_in_words_apart_or_dropped() -> None:
    text = "a 20-year-old covid19 patient"
    assert WordSplitter().split(text) == ["a", "20-year-old", "covid19", "patient"]
    assert WordSplitter(digits="apart").split(text) == ["a", "20", "year-old", "covid", "19", "patient"]
    assert WordSplitter(digits="dropped").split(text) == ["a", "year-old", "covid", "patient"]


def test_joiners_choose_which_compounds_hold_together() -> None:
    text = "Olha’s two-hour wait didn't end"
    assert WordSplitter(joiners=APOSTROPHES).split(text) == ["Olha’s", "two", "hour", "wait", "didn't", "end"]
    assert WordSplitter(joiners="-").split(text) == ["Olha", "s", "two-hour", "wait", "didn", "t", "end"]
    assert WordSplitter(joiners="").split(text) == ["Olha", "s", "two", "hour", "wait", "didn", "t", "end"]


def test_a_word_never_holds_an_underscore_nor_ends_in_a_joiner() -> None:
    assert WordSplitter().split("the soldiers' -- top_k 'quoted'") == ["the", "soldiers", "top", "k", "quoted"]


def test_spans_and_replace_keep_the_text_as_written() -> None:
    text = "Wher did teh swap, in 2025, happen?"
    assert [m.group(0) for m in WordSplitter(digits="dropped").spans(text)] == [
        "Wher", "did", "teh", "swap", "in", "happen",
    ]
    fixed = WordSplitter(digits="dropped", joiners="").replace(text, lambda w: {"Wher": "Where", "teh": "the"}.get(w, w))
    assert fixed == "Where did the swap, in 2025, happen?"
    for folding in (WordSplitter(fold_case=True), WordSplitter(acronyms=True)):
        with pytest.raises(ValueError):
            folding.spans("Straße in the U.S.")  # "ß" folds to "ss": positions would not fit the text


def test_without_possessive() -> None:
    assert [without_possessive(w) for w in ("Natalia's", "Olha’s", "its", "Ukrainians")] == [
        "Natalia", "Olha", "its", "Ukrainians",
    ]


def test_no_other_module_of_the_engine_writes_a_word_pattern_of_its_own() -> None:
    # A letter class ("[^\W\d_]", "[^\W_]") or the Cyrillic block is how a word splitter of its own starts.
    word_pattern = re.compile(r"\[\^\\W|\\u0400")
    sources = Path(rag.__file__).parent.glob("*.py")
    own = sorted(path.name for path in sources if path.name != "tokens.py" and word_pattern.search(path.read_text()))
    assert own == []
