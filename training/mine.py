"""Hard negatives from the engine itself: what retrieval offers the reader, and what the reader gets wrong.

    python training/mine.py --out training/work/mined.jsonl

Each training article (never a held-out one) is indexed alone by the real engine, as at answer time, and a
sample of its questions is retrieved: the candidates the reader will really judge. For an answerable question
the pairs are the best candidate that holds a gold answer (label 1) and the two candidates the current reader
scores highest that hold none (label 0); for a real unanswerable question, the three it scores highest (label 0).
A second round of training on these (``train.py --init … --mined …``) teaches the reader the distinctions the
first round left it unsure of.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from data import CALIBRATION_ARTICLES  # noqa: E402
from sources import DROPPED_ARTICLES, write_article  # noqa: E402

from rag.embeddings import MiniLMEmbedding  # noqa: E402
from rag.evaluation.squad import article_engine, contains_answer  # noqa: E402
from rag.reader import AnswerabilityReader  # noqa: E402
from rag.settings import Settings  # noqa: E402

SOURCES = ("squad2-train-first10.json", "squadshifts-new_wiki_v1.0.json")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train-dir", type=Path, default=ROOT.parent / "shared" / "train")
    parser.add_argument("--out", type=Path, default=Path("training/work/mined.jsonl"))
    parser.add_argument("--per-article", type=int, default=120, help="questions sampled from each article")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--articles", type=int, default=0,
                        help="stop after this many training articles, in file order (0: all of them)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    embedder, reader = MiniLMEmbedding(), AnswerabilityReader()
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    written, mined_articles = 0, 0
    with args.out.open("w", encoding="utf-8") as out, tempfile.TemporaryDirectory(prefix="mine-") as tmp:
        for name in SOURCES:
            for article in json.loads((args.train_dir / name).read_text(encoding="utf-8"))["data"]:
                title = article["title"]
                if title in CALIBRATION_ARTICLES or title in DROPPED_ARTICLES:
                    continue
                if args.articles and mined_articles == args.articles:
                    return
                mined_articles += 1
                path = write_article(article, Path(tmp) / f"{abs(hash(title))}.md")
                questions = [qa for p in article["paragraphs"] for qa in p["qas"]]
                answerable = [q for q in questions if not q.get("is_impossible")]
                impossible = [q for q in questions if q.get("is_impossible")]
                chosen = rng.sample(answerable, min(len(answerable), args.per_article))
                chosen += rng.sample(impossible, min(len(impossible), args.per_article // 2))
                with article_engine(settings, path, embedder, reader) as engine:
                    for qa in chosen:
                        answers = [a["text"] for a in qa["answers"]]
                        evidence = engine.retrieve(qa["question"])
                        holding = [e for e in evidence if answers and contains_answer(e.passage.text, answers)]
                        others = [e for e in evidence if e not in holding]
                        rows = [(e.passage.text, 0) for e in others[: 2 if answers else 3]]
                        if answers:
                            if not holding:
                                continue  # retrieval missed it: nothing for the reader to learn here
                            rows.append((holding[0].passage.text, 1))
                        for sentence, label in rows:
                            out.write(json.dumps({"question": qa["question"], "sentence": sentence,
                                                  "label": label}) + "\n")
                            written += 1
                path.unlink()
                print(f"{title}: {written} pairs so far", flush=True)


if __name__ == "__main__":
    main()
