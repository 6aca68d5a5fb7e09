"""Answer questions about news articles with citations to the sentences used."""

from .engine import Engine
from .errors import (
    CorpusError,
    EmptyQuestionError,
    IndexUnavailableError,
    LLMUnavailableError,
    MultilingualUnavailableError,
    QuestionTooLongError,
    RagError,
)
from .models import Answer, Citation, Document, EngineInfo, Evidence, Passage
from .settings import Settings

__all__ = [
    "Answer",
    "Citation",
    "CorpusError",
    "Document",
    "EmptyQuestionError",
    "Engine",
    "EngineInfo",
    "Evidence",
    "IndexUnavailableError",
    "LLMUnavailableError",
    "MultilingualUnavailableError",
    "Passage",
    "QuestionTooLongError",
    "RagError",
    "Settings",
]
