"""Typos corrected towards the corpus vocabulary; English words and the article's own are left alone."""

from __future__ import annotations

from rag.models import Passage
from rag.spelling import SpellingCorrector

SENTENCES = [
    "The two countries exchanged prisoners at the border.",
    "Negotiators met in Istanbul for two hours, mediating between the sides.",
]
ENGLISH = frozenset({"where", "did", "the", "swap", "happen", "media", "meet", "ppl"})


def corrector() -> SpellingCorrector:
    passages = [Passage(f"doc:{i}", "doc", i, text, 1, str(i)) for i, text in enumerate(SENTENCES, start=1)]
    return SpellingCorrector(passages, ENGLISH)


def test_typos_become_the_closest_corpus_word() -> None:
    assert corrector().correct("wher did teh negotiaters meet?") == "where did the negotiators meet?"


def test_english_and_corpus_words_and_their_forms_are_left_alone() -> None:
    fixer = corrector()
    assert fixer.correct("Did the swap happen at the border?") == "Did the swap happen at the border?"
    assert fixer.correct("Who will mediate?") == "Who will mediate?"  # "mediating" is in the article: no typo of "media"
    assert fixer.correct("ppl in Istanbull, 2x?") == "ppl in Istanbull, 2x?"  # known, a corpus stem, digits


def test_known_words_are_english_the_articles_and_function_words() -> None:
    known = corrector().known_words
    assert {"swap", "negotiators", "istanbul", "the", "whom"} <= known
    assert "zelensky" not in known
