"""The learned reader: how likely a sentence is to answer a question.

A cross-encoder (MiniLM-L6 with a one-logit head) reads the question and one
sentence together and gives the probability that the sentence answers it. It was
trained by ``training/train.py`` on SQuAD 2.0, SQuAD-shifts, SelQA and Du et al.
pairs, including questions written to look answerable but not answered (see
``rag/reader_model/MODEL_CARD.md``), and ships here as int8 ONNX run by
onnxruntime: no PyTorch at run time, nothing downloaded.

Its refusal threshold was calibrated on held-out training articles and is stored
beside the model (``calibration.json``), so a retrained model brings its own.

It is the offline answerer for English questions (``ReaderAnswerer``): it orders
the retrieved sentences, which is the evidence order every caller sees, and
decides whether any answers. ``READER_THRESHOLD`` overrides the calibrated
threshold.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Encoding, Tokenizer

from .citations import DraftSentence
from .embeddings import cpu_session_options, default_threads, load_in_background
from .errors import ReaderUnavailableError
from .models import Evidence

MODEL_DIR = Path(__file__).resolve().parent / "reader_model"
MODEL_FILE = "reader-int8.onnx"
MAX_TOKENS = 80  # question + sentence in word pieces, as in training


@dataclass(frozen=True)
class Calibration:
    """Decision points chosen on held-out training articles (never on an evaluation set)."""

    threshold: float  # the best sentence must score this much, or the article does not say
    second_share: float  # a second sentence is quoted when it scores this share of the best
    tolerance: float  # how far a pair's score may move between x86 CPUs (MODEL_CARD); pairs are scored alone


class AnswerabilityReader:
    """Scores (question, sentence) pairs with the packaged cross-encoder; loads on first use."""

    def __init__(self, threads: int = 0, model_dir: Path = MODEL_DIR) -> None:
        self.threads = threads or default_threads()
        self.model_dir = model_dir
        self.calibration = self._read_calibration(model_dir)
        self._loaded: _LoadedModel | None = None
        self._lock = threading.Lock()

    @staticmethod
    def _read_calibration(model_dir: Path) -> Calibration:
        try:
            values = json.loads((model_dir / "calibration.json").read_text(encoding="utf-8"))
            return Calibration(
                threshold=float(values["threshold"]), second_share=float(values["second_share"]),
                # A model folder calibrated before the tolerance was stated still loads (the engine does not use it).
                tolerance=float(values.get("tolerance", 0.0)),
            )
        except (OSError, ValueError, KeyError) as exc:
            raise ReaderUnavailableError(f"reader calibration unreadable in {model_dir}: {exc}") from exc

    def _model(self) -> _LoadedModel:
        if self._loaded is None:
            with self._lock:
                if self._loaded is None:
                    self._loaded = self._load()
        return self._loaded

    def _load(self) -> _LoadedModel:
        try:
            # One core a run: a single short pair gains little from more, and the pairs of a question run side
            # by side instead (score).
            session = ort.InferenceSession(
                str(self.model_dir / MODEL_FILE), cpu_session_options(1), providers=["CPUExecutionProvider"]
            )
            tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        except Exception as exc:  # onnxruntime raises its own types for a missing or bad file
            raise ReaderUnavailableError(f"reader model could not load: {exc}") from exc
        tokenizer.enable_truncation(MAX_TOKENS, strategy="longest_first")
        tokenizer.no_padding()  # the file may carry a padding setting; pairs run alone, unpadded (score)
        return _LoadedModel(session, tokenizer, ThreadPoolExecutor(self.threads, "reader"))

    def load_in_background(self) -> threading.Thread:
        """Start loading the model now, so the first question does not wait for it."""
        return load_in_background(self._model, "reader-model")

    def score(self, question: str, sentences: list[str]) -> np.ndarray:
        """Probability, for each sentence, that it answers the question.

        The shipped model (``training/quantize.py``) has 7-bit weights, so its integer sums are exact on every x86
        CPU (within ``calibration.tolerance`` once float rounding is counted). It quantizes activations with one
        scale per run, so each pair runs alone, unpadded, and scores the same whatever else retrieval found; the
        pairs run side by side on ``threads`` cores, one core each (one padded batch cost more on 2 cores, even
        for a batch-invariant model: the model card, "Speed").
        """
        model = self._model()
        encodings = model.tokenizer.encode_batch([(question, s) for s in sentences])

        def logit(encoding: Encoding) -> float:
            return float(model.session.run(None, _feeds(encoding))[0][0, 0])

        logits = np.array(list(model.workers.map(logit, encodings)), dtype=np.float32)
        return (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)


@dataclass(frozen=True)
class _LoadedModel:
    session: ort.InferenceSession
    tokenizer: Tokenizer
    workers: ThreadPoolExecutor  # one pair a worker, one worker a core


def _feeds(encoding: Encoding) -> dict[str, np.ndarray]:
    """The model's inputs for one pair, unpadded."""
    return {
        name: np.array([getattr(encoding, field)], dtype=np.int64)
        for name, field in (("input_ids", "ids"), ("attention_mask", "attention_mask"), ("token_type_ids", "type_ids"))
    }


class ReaderAnswerer:
    """The learned offline answerer: orders evidence by the reader and quotes what clears the threshold."""

    def __init__(self, reader: AnswerabilityReader, threshold: float | None = None) -> None:
        self._reader = reader
        calibration = reader.calibration
        self._threshold = calibration.threshold if threshold is None else threshold
        self._second_share = calibration.second_share

    def read(self, question: str, evidence: list[Evidence]) -> tuple[list[Evidence], list[DraftSentence]]:
        """The evidence in the reader's order (``relevance`` is its probability), and the sentences to quote."""
        probabilities = self._reader.score(question, [e.passage.text for e in evidence])
        ranked = sorted(
            (replace(e, relevance=float(p)) for e, p in zip(evidence, probabilities)), key=lambda e: -e.relevance
        )
        return ranked, self._draft(ranked)

    def _draft(self, ranked: list[Evidence]) -> list[DraftSentence]:
        """The best sentence when it clears the threshold, and the next one when it scores nearly as well."""
        if not ranked or ranked[0].relevance < self._threshold:
            return []
        chosen = [ranked[0]]
        if len(ranked) > 1 and ranked[1].relevance >= max(self._threshold, self._second_share * ranked[0].relevance):
            chosen.append(ranked[1])
        chosen.sort(key=lambda e: (e.passage.doc_id, e.passage.ordinal))  # reading order
        return [DraftSentence(e.passage.text, [e.passage.passage_id]) for e in chosen]
