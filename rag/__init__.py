"""Answer questions about news articles with citations to the sentences used."""

from .engine import Engine
from .errors import (
    CorpusError,
    EmptyCorpusError,
    EmptyQuestionError,
    EngineClosedError,
    IndexUnavailableError,
    IndexUnreachableError,
    LLMAuthenticationError,
    LLMCircuitOpenError,
    LLMUnavailableError,
    MultilingualUnavailableError,
    QuestionTooLongError,
    RagError,
    StorageError,
)
from .models import Answer, Citation, Document, EngineInfo, Evidence, Passage
from .settings import Settings

__all__ = [
    "Answer",
    "Citation",
    "CorpusError",
    "Document",
    "EmptyCorpusError",
    "EmptyQuestionError",
    "Engine",
    "EngineClosedError",
    "EngineInfo",
    "Evidence",
    "IndexUnavailableError",
    "IndexUnreachableError",
    "LLMAuthenticationError",
    "LLMCircuitOpenError",
    "LLMUnavailableError",
    "MultilingualUnavailableError",
    "Passage",
    "QuestionTooLongError",
    "RagError",
    "Settings",
    "StorageError",
]
