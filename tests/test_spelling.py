"""Typos are corrected against the English vocabulary and the corpus's own words, nothing else."""

from __future__ import annotations

from rag.models import Passage
from rag.spelling import SpellingCorrector

SENTENCES = ["The two countries exchanged prisoners at the border.", "Negotiators met in Geneva for a day."]
PASSAGES = [Passage(f"doc:{i}", "doc", i, text, 1, str(i)) for i, text in enumerate(SENTENCES, start=1)]


def corrector() -> SpellingCorrector:
    return SpellingCorrector(frozenset({"where", "did", "happen", "the", "who", "met", "when"}), PASSAGES)


def test_swapped_letters_and_near_misses_become_corpus_words() -> None:
    assert corrector().correct("wher did teh prisonrs go") == "where did the prisoners go"
    assert corrector().correct("who met in Genva") == "who met in Geneva"


def test_known_words_names_and_numbers_stay_as_written() -> None:
    assert corrector().correct("When did 390 prisoners happen") == "When did 390 prisoners happen"
    # A word close to nothing the engine knows is left alone, not forced onto a corpus word.
    assert corrector().correct("who baked zzyzx") == "who baked zzyzx"
