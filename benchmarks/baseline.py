"""The baseline: what a developer copies from the LangChain RAG tutorial, on our corpus and our model.

``RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)``, ``Chroma.from_documents``
(in memory, as in the tutorial) and ``similarity_search(k=4)``. It uses the very same
MiniLM session as our engine, so the comparison is of pipelines, not of models.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from rag.corpus import load_documents
from rag.embeddings import MiniLMEmbedding
from rag.engine import Engine
from rag.evaluation.questions import contains_evidence
from rag.reader import AnswerabilityReader

from .context import BenchContext
from .stats import Figure, percentile, ratio, with_data_dir

CHUNK_SIZE, CHUNK_OVERLAP, K = 1000, 200, 4  # the tutorial's values
HIT_AT = 3


def _langchain_embeddings(embedder: MiniLMEmbedding) -> Any:
    """Our embedder behind LangChain's ``Embeddings`` interface (built here: langchain is a bench extra)."""
    from langchain_core.embeddings import Embeddings

    class MiniLMLangChain(Embeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return embedder.embed(texts).tolist()

        def embed_query(self, text: str) -> list[float]:
            return embedder.embed([text])[0].tolist()

    return MiniLMLangChain()


def _build_baseline(corpus_dir: Path, embeddings: Any) -> tuple[Any, int]:
    """The tutorial's indexing step; returns the vector store and its number of chunks."""
    from chromadb.config import Settings as ChromaSettings
    from langchain_chroma import Chroma
    from langchain_core.documents import Document as LCDocument
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    docs = [LCDocument(page_content=d.text, metadata={"source": d.doc_id}) for d in load_documents(corpus_dir)]
    splits = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP).split_documents(docs)
    store = Chroma.from_documents(
        documents=splits,
        embedding=embeddings,
        # A fresh name per build: the in-memory client is shared in-process, and reusing
        # "langchain" would pile every run's chunks into one collection.
        collection_name=f"bench-baseline-{uuid.uuid4().hex[:8]}",
        client_settings=ChromaSettings(anonymized_telemetry=False),  # no network calls from the bench
    )
    return store, len(splits)


def _build_ours(ctx: BenchContext, data_dir: Path, embedder: MiniLMEmbedding, reader: AnswerabilityReader) -> Engine:
    """Everything our engine builds before it can answer, with the already-loaded models (offline, and, like the
    tutorial, without the multilingual collection)."""
    settings = with_data_dir(ctx.settings, data_dir).model_copy(update={"multilingual_search": False})
    return Engine.open(settings, embedder=embedder, reader=reader)


def bench_baseline(ctx: BenchContext) -> dict[str, Any]:
    embedder = MiniLMEmbedding(threads=ctx.settings.embedding_threads)
    embeddings = _langchain_embeddings(embedder)
    embedder.embed(["warm-up"])
    reader = AnswerabilityReader(threads=ctx.settings.embedding_threads)
    reader.score("warm-up", ["warm-up"])  # loaded before the clock starts, as the embedder is
    plan = ctx.plan
    ours_build, base_build, ours_retrieve, ours_answer, base_query = [], [], [], [], []
    with tempfile.TemporaryDirectory(prefix="bench-baseline-") as tmp:
        for run in range(plan.baseline_runs):
            started = time.perf_counter()
            store, chunks = _build_baseline(ctx.settings.corpus_dir, embeddings)
            base_build.append(time.perf_counter() - started)
            started = time.perf_counter()
            engine = _build_ours(ctx, Path(tmp) / f"run{run}", embedder, reader)
            ours_build.append(time.perf_counter() - started)
            for question in ctx.texts:  # warm-up of both query paths
                store.similarity_search(question, k=K)
                engine.answer(question)
            base_s, retrieve_s, answer_s = [], [], []
            for _ in range(plan.passes):
                for question in ctx.texts:
                    t0 = time.perf_counter()
                    store.similarity_search(question, k=K)
                    t1 = time.perf_counter()
                    engine.retrieve(question)
                    t2 = time.perf_counter()
                    engine.answer(question)
                    t3 = time.perf_counter()
                    base_s.append(t1 - t0)
                    retrieve_s.append(t2 - t1)
                    answer_s.append(t3 - t2)
            base_query.append(percentile(base_s, 50))
            ours_retrieve.append(percentile(retrieve_s, 50))
            ours_answer.append(percentile(answer_s, 50))
            ours_hit, base_hit, answerable = _hits(ctx, engine, store)
            passages = engine.info().passages
            store.delete_collection()
            engine.close()
    return {
        "baseline_chunks": chunks,
        "our_passages": passages,
        "baseline_build_s": Figure.of(base_build, "s").to_json(),
        "our_build_s": Figure.of(ours_build, "s").to_json(),
        "build_ratio": Figure.of((ratio(o, b) for o, b in zip(ours_build, base_build)), "x").to_json(),
        "baseline_query_p50_ms": Figure.of((v * 1000 for v in base_query), "ms").to_json(),
        "our_retrieve_p50_ms": Figure.of((v * 1000 for v in ours_retrieve), "ms").to_json(),
        "our_answer_p50_ms": Figure.of((v * 1000 for v in ours_answer), "ms").to_json(),
        "retrieve_ratio": Figure.of((ratio(o, b) for o, b in zip(ours_retrieve, base_query)), "x").to_json(),
        "answer_ratio": Figure.of((ratio(o, b) for o, b in zip(ours_answer, base_query)), "x").to_json(),
        "answerable_questions": answerable,
        f"our_hit_at_{HIT_AT}": ours_hit,
        f"baseline_hit_at_{HIT_AT}": base_hit,
    }


def _hits(ctx: BenchContext, engine: Engine, store: Any) -> tuple[float | None, float | None, int]:
    """hit@3 of our passages and of the baseline's chunks on the answerable questions with evidence.

    A 1,000-character chunk holds far more text than one sentence, so the baseline's
    hit@3 is the easier test; what it cannot do is cite the sentence that answers.
    """
    graded = [q for q in ctx.questions if q.answerable and q.evidence]
    if not graded:
        return None, None, 0
    ours = sum(
        any(contains_evidence(e.passage.text, q.evidence) for e in engine.retrieve(q.question)[:HIT_AT]) for q in graded
    )
    base = sum(
        any(contains_evidence(d.page_content, q.evidence) for d in store.similarity_search(q.question, k=K)[:HIT_AT])
        for q in graded
    )
    return ours / len(graded), base / len(graded), len(graded)
