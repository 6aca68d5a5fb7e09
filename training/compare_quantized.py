"""How far int8 readers score from their fp32 graph, from exact integer arithmetic, and from themselves in a batch.

    python training/compare_quantized.py --fp32 F.onnx --model shipped=rag/reader_model/reader-int8.onnx ...

Pairs: ``--pairs`` (question, sentence) pairs of the training mix (``training_pairs``: training articles only),
after the slice that calibrates the static trial (``--trials``), so no pair that set a scale is measured.
For each model, on this CPU:
- ``fp32``: |probability(int8) - probability(fp32)|, each pair alone, largest, 99th percentile and mean;
- ``integer``: the unfused graph against itself with every integer product summed exactly in float64 (what
  VNNI's 32-bit sums give): nonzero only where this CPU's kernels saturate;
- ``float_path``: onnxruntime's optimised graph against the unfused one, the same integer kernels: how far a
  change in float rounding alone (another fusion, another CPU's float kernels) moves a score;
- ``batch``: pairs scored ten to a padded batch against each alone;
- ``ms``: ten pairs one after another on one thread, and as one batch on two.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper
from onnxruntime.quantization import (
    CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_dynamic, quantize_static,
)
from tokenizers import Tokenizer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quantize import MODEL_DIR  # noqa: E402

from rag.reader import MAX_TOKENS  # noqa: E402

GROUP = 10  # the engine's TOP_K candidates per question


def training_pairs(train_dir: Path, count: int, seed: int, skip: int = 0) -> list[tuple[str, str]]:
    """``count`` (question, sentence) pairs of the training mix (data.make_pairs; held-out articles excluded),
    after the first ``skip`` of a seeded shuffle: calibration and measurement take disjoint slices."""
    from data import make_pairs, split_items
    from sources import load_items

    pairs = make_pairs(split_items(load_items(train_dir))[0], seed)
    random.Random(seed).shuffle(pairs)
    return [(p.question, p.sentence) for p in pairs[skip: skip + count]]


class PairFeed(CalibrationDataReader):
    """Tokenized pairs for onnxruntime's static calibration, one per run and unpadded, as the engine reads them."""

    def __init__(self, pairs: list[tuple[str, str]], tokenizer: Tokenizer) -> None:
        self._encodings = iter(tokenizer.encode_batch(pairs))

    def get_next(self) -> dict[str, np.ndarray] | None:
        encoding = next(self._encodings, None)
        return None if encoding is None else feeds([encoding])


def onnxruntime_trials(fp32: Path, out: Path, calibration: list[tuple[str, str]], tokenizer: Tokenizer) -> list[str]:
    """The two quantizations of onnxruntime's own tried first: dynamic, and static QDQ with scales calibrated
    (MinMax) on training pairs; both per channel with 7-bit weights (reduce_range). Returns name=path items."""
    weight_products = [n.name for n in onnx.load(fp32).graph.node
                       if n.op_type == "MatMul" and "/attention/self/MatMul" not in n.name]
    dynamic, static = out / "dynamic-reduce-range.onnx", out / "static-qdq-reduce-range.onnx"
    quantize_dynamic(str(fp32), str(dynamic), op_types_to_quantize=["MatMul"], per_channel=True,
                     reduce_range=True, weight_type=QuantType.QInt8)
    quantize_static(str(fp32), str(static), PairFeed(calibration, tokenizer), quant_format=QuantFormat.QDQ,
                    op_types_to_quantize=["MatMul"], nodes_to_quantize=weight_products, per_channel=True,
                    reduce_range=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    calibrate_method=CalibrationMethod.MinMax)
    return [f"dynamic-reduce-range={dynamic}", f"static-qdq-reduce-range={static}"]


def exact_integer_graph(model: onnx.ModelProto) -> onnx.ModelProto:
    """MatMulInteger recomputed in float64, where products of 8-bit values and their sums are exact."""
    exact = onnx.ModelProto()
    exact.CopyFrom(model)
    nodes = []
    for node in exact.graph.node:
        if node.op_type != "MatMulInteger":
            nodes.append(node)
            continue
        out = node.output[0]
        operands = []
        for side, (value, zero) in enumerate(zip(node.input[:2], [*node.input[2:], "", ""][:2])):
            name = f"{out}_exact{side}"
            nodes.append(helper.make_node("Cast", [value], [name], to=TensorProto.DOUBLE))
            if zero:  # optional: without it the zero point is 0
                nodes += [helper.make_node("Cast", [zero], [f"{name}_zero"], to=TensorProto.DOUBLE),
                          helper.make_node("Sub", [name, f"{name}_zero"], [f"{name}_centred"])]
                name = f"{name}_centred"
            operands.append(name)
        nodes += [helper.make_node("MatMul", operands, [f"{out}_exact"]),
                  helper.make_node("Cast", [f"{out}_exact"], [out], to=TensorProto.INT32)]
    del exact.graph.node[:]
    exact.graph.node.extend(nodes)
    return exact


def session(model: onnx.ModelProto | str, optimised: bool = True, threads: int = 1) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    if not optimised:
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    source = model if isinstance(model, str) else model.SerializeToString()
    return ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])


def feeds(encodings: list) -> dict[str, np.ndarray]:
    width = max(len(e.ids) for e in encodings)

    def padded(values: list[int]) -> list[int]:
        return values + [0] * (width - len(values))

    return {
        "input_ids": np.array([padded(e.ids) for e in encodings], dtype=np.int64),
        "attention_mask": np.array([padded(e.attention_mask) for e in encodings], dtype=np.int64),
        "token_type_ids": np.array([padded(e.type_ids) for e in encodings], dtype=np.int64),
    }


def probabilities(sess: ort.InferenceSession, encodings: list, batch: int = 1) -> np.ndarray:
    logits = [sess.run(None, feeds(encodings[i: i + batch]))[0][:, 0] for i in range(0, len(encodings), batch)]
    return 1.0 / (1.0 + np.exp(-np.concatenate(logits).astype(np.float64)))


def spread(diff: np.ndarray) -> dict[str, float]:
    return {"max": round(float(diff.max()), 5), "p99": round(float(np.percentile(diff, 99)), 5),
            "mean": round(float(diff.mean()), 5)}


def timings(sess_one: ort.InferenceSession, sess_two: ort.InferenceSession, encodings: list) -> dict[str, float]:
    """Median ms for GROUP pairs: one after another on one thread, and one padded batch on two threads."""
    groups = [encodings[i: i + GROUP] for i in range(0, min(len(encodings), 40 * GROUP), GROUP)]
    alone, batched = [], []
    for group in groups:
        start = time.perf_counter()
        for e in group:
            sess_one.run(None, feeds([e]))
        alone.append(time.perf_counter() - start)
        start = time.perf_counter()
        sess_two.run(None, feeds(group))
        batched.append(time.perf_counter() - start)
    return {"alone_1_thread_ms": round(1000 * float(np.median(alone)), 1),
            "batch_2_threads_ms": round(1000 * float(np.median(batched)), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fp32", type=Path, required=True, help="the fp32 graph (quantize.py --save-fp32)")
    parser.add_argument("--model", action="append", default=[], help="name=path of an int8 model")
    parser.add_argument("--trials", type=Path, default=None,
                        help="also build onnxruntime's dynamic and static quantizations of --fp32 in this folder")
    parser.add_argument("--train-dir", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "train")
    parser.add_argument("--pairs", type=int, default=3000)
    parser.add_argument("--skip", type=int, default=600, help="the static trial's calibration slice, not measured")
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args()
    tokenizer = Tokenizer.from_file(str(MODEL_DIR / "tokenizer.json"))
    tokenizer.enable_truncation(MAX_TOKENS, strategy="longest_first")
    tokenizer.no_padding()
    pairs = training_pairs(args.train_dir, args.skip + args.pairs, args.seed)
    encodings = tokenizer.encode_batch(pairs[args.skip:])
    if args.trials:
        args.trials.mkdir(parents=True, exist_ok=True)
        args.model += onnxruntime_trials(args.fp32, args.trials, pairs[: args.skip], tokenizer)
    reference = probabilities(session(str(args.fp32)), encodings)
    cpuinfo = Path("/proc/cpuinfo")
    flags = cpuinfo.read_text().split("flags")[1].split("\n")[0].split() if cpuinfo.exists() else []
    report: dict = {
        "onnxruntime": ort.__version__, "machine": platform.machine(), "pairs": len(encodings),
        "cpu_flags": sorted(f for f in flags if f.startswith(("avx", "sse4", "amx")) or "vnni" in f),
        "fp32_probability_mean": round(float(reference.mean()), 4),
    }
    for name, path in (item.split("=", 1) for item in args.model):
        model = onnx.load(path)
        alone = probabilities(session(path), encodings)
        unfused = probabilities(session(path, optimised=False), encodings)
        batched = probabilities(session(path), encodings, batch=GROUP)
        report[name] = {
            "fp32": spread(np.abs(alone - reference)),
            "float_path": spread(np.abs(alone - unfused)),
            "batch": spread(np.abs(batched - alone)),
            **timings(session(path), session(path, threads=2), encodings),
        }
        if any(n.op_type == "MatMulInteger" for n in model.graph.node):
            exact = probabilities(session(exact_integer_graph(model), optimised=False), encodings)
            report[name]["integer"] = spread(np.abs(unfused - exact))
        print(name, json.dumps(report[name]), flush=True)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
