"""Soft matching of question words against passage words: same stems, listed news synonyms, word vectors."""

from __future__ import annotations

from rag.embeddings import MiniLMEmbedding
from rag.matching import SYNONYM_MATCH, TermMatcher
from rag.models import Passage

SENTENCES = [
    "The two countries exchanged prisoners at the border.",
    "Negotiators met in Geneva for a day.",
    "France praised the ceasefire.",
]


def match(embedder: MiniLMEmbedding, question: str, passage_id: str) -> list[float]:
    passages = [Passage(f"doc:{i}", "doc", i, text, 1, str(i)) for i, text in enumerate(SENTENCES, start=1)]
    matcher = TermMatcher(embedder, passages, None)
    terms = matcher.question_terms(question)
    return matcher.term_matches(terms, matcher.word_vectors(terms), passage_id)


def test_same_stem_matches_fully(embedder: MiniLMEmbedding) -> None:
    assert match(embedder, "What was exchanged?", "doc:1") == [1.0]


def test_listed_news_synonyms_match_where_word_vectors_are_unsure(embedder: MiniLMEmbedding) -> None:
    assert match(embedder, "Where was the swap?", "doc:1") == [SYNONYM_MATCH]
    assert match(embedder, "Who agreed to a truce?", "doc:3")[1] == SYNONYM_MATCH


def test_unrelated_words_and_other_names_do_not_match(embedder: MiniLMEmbedding) -> None:
    assert match(embedder, "Who baked the bread?", "doc:1") == [0.0, 0.0]
    assert match(embedder, "What did Italy praise?", "doc:3")[0] == 0.0  # a name matches only itself
