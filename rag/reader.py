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


class AnswerabilityReader:
    """Scores (question, sentence) pairs with the packaged cross-encoder; loads on first use."""

    def __init__(self, threads: int = 0, model_dir: Path = MODEL_DIR) -> None:
        self.threads = threads or default_threads()
        self.model_dir = model_dir
        self.calibration = self._read_calibration(model_dir)
        self._loaded: tuple[ort.InferenceSession, Tokenizer, ThreadPoolExecutor] | None = None
        self._lock = threading.Lock()

    @staticmethod
    def _read_calibration(model_dir: Path) -> Calibration:
        try:
            values = json.loads((model_dir / "calibration.json").read_text(encoding="utf-8"))
            return Calibration(threshold=float(values["threshold"]), second_share=float(values["second_share"]))
        except (OSError, ValueError, KeyError) as exc:
            raise ReaderUnavailableError(f"reader calibration unreadable in {model_dir}: {exc}") from exc

    def _model(self) -> tuple[ort.InferenceSession, Tokenizer, ThreadPoolExecutor]:
        if self._loaded is None:
            with self._lock:
                if self._loaded is None:
                    try:
                        # One core a run: a single short pair gains little from more, and the pairs of a
                        # question run side by side instead (score).
                        session = ort.InferenceSession(
                            str(self.model_dir / MODEL_FILE), cpu_session_options(1),
                            providers=["CPUExecutionProvider"],
                        )
                        tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
                    except Exception as exc:  # onnxruntime raises its own types for a missing or bad file
                        raise ReaderUnavailableError(f"reader model could not load: {exc}") from exc
                    tokenizer.enable_truncation(MAX_TOKENS, strategy="longest_first")
                    tokenizer.no_padding()  # the file may carry a padding setting; pairs run alone (score)
                    self._loaded = (session, tokenizer, ThreadPoolExecutor(self.threads, "reader"))
        return self._loaded

    def load_in_background(self) -> threading.Thread:
        """Start loading the model now, so the first question does not wait for it."""
        return load_in_background(self._model, "reader-model")

    def score(self, question: str, sentences: list[str]) -> np.ndarray:
        """Probability, for each sentence, that it answers the question.

        Each pair runs alone. The int8 model quantizes its activations with one scale per run, so in a batch a
        sentence's score moved with the other sentences beside it and their padding (by up to 0.15); alone, a
        pair always scores the same. The pairs run side by side on ``threads`` cores, one core each: on 2 cores,
        21 ms for ten news sentences, against 26 ms for one batch on both cores and 35 ms for one pair after another.
        """
        session, tokenizer, workers = self._model()

        def logit(encoding: Encoding) -> float:
            feeds = {
                name: np.array([values], dtype=np.int64)
                for name, values in (
                    ("input_ids", encoding.ids),
                    ("attention_mask", encoding.attention_mask),
                    ("token_type_ids", encoding.type_ids),
                )
            }
            return float(session.run(None, feeds)[0][0, 0])

        encodings = tokenizer.encode_batch([(question, s) for s in sentences])
        logits = np.array(list(workers.map(logit, encodings)), dtype=np.float32)
        return (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)


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
