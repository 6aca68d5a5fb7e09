"""Typed engine errors: callers (bot, CLI) turn each into a friendly message."""

from __future__ import annotations


class RagError(Exception):
    """Base class of every error the engine raises on purpose.

    ``user_message`` is safe to show to an end user: it never carries a secret,
    a path or a traceback.
    """

    user_message = "Sorry, something went wrong while answering."

    def __init__(self, detail: str = "", *, user_message: str | None = None) -> None:
        super().__init__(detail or self.user_message)
        if user_message is not None:
            self.user_message = user_message


class EmptyQuestionError(RagError):
    """The question had no words in it."""

    user_message = "Please send a question about the article, in words."


class QuestionTooLongError(RagError):
    """The question is longer than the configured limit."""

    def __init__(self, length: int, limit: int) -> None:
        super().__init__(
            f"question of {length} characters exceeds the limit of {limit}",
            user_message=(
                f"That message is {length:,} characters long. "
                f"Please ask one question in under {limit:,} characters."
            ),
        )
        self.length = length
        self.limit = limit


class CorpusError(RagError):
    """The corpus directory is missing, empty or unreadable."""

    user_message = "The article collection is not available right now."


class EmptyCorpusError(CorpusError):
    """No article in the corpus has text: the newsroom removed them all (or has not added any yet)."""

    user_message = "There are no articles to answer from right now. Please try again later."


class IndexUnavailableError(RagError):
    """The passage index cannot be opened or queried (missing, corrupt, server down)."""

    user_message = "The article index is not available right now. Please try again in a minute."


class IndexUnreachableError(IndexUnavailableError):
    """A Chroma server did not answer in time or refused the connection: it may be back in a minute."""

    user_message = "The article index is not reachable right now. Please try again in a minute."


class StorageError(RagError):
    """DATA_DIR (or the model cache) cannot be written: full, read-only or no permission.

    Told apart from corruption: nothing is moved aside or rebuilt, the operator gets one line.
    """

    user_message = "The bot's storage cannot be written right now."


class EngineClosedError(RagError):
    """The engine was closed (a corpus change replaced it, or the process is stopping): it answers no more."""

    user_message = "The articles were just reloaded. Please ask your question again."


class MultilingualUnavailableError(RagError):
    """The multilingual model cannot be loaded here (the engine then asks for English)."""

    user_message = "Questions in other languages cannot be searched right now. Please ask in English."


class LLMUnavailableError(RagError):
    """The language model failed after its retries (the engine falls back offline).

    ``fallback_note`` is the line the offline answer carries instead.
    """

    user_message = "The language model is not answering right now."
    fallback_note = "The language model did not answer in time, so this is the offline answer."


class LLMAuthenticationError(LLMUnavailableError):
    """The endpoint refused the API key (401/403): retrying cannot help, the operator must fix the key."""

    fallback_note = "The language model refused this bot's credentials, so this is the offline answer."


class LLMCircuitOpenError(LLMUnavailableError):
    """Recent calls failed: the model is not asked again until a cool-down has passed."""

    fallback_note = "The language model is not answering at the moment, so this is the offline answer."


class ReaderUnavailableError(RagError):
    """The packaged reader model or its calibration is missing or unreadable (a broken install)."""

    user_message = "The answering model is not available right now."
