"""Quantize the reader to int8 so that its scores are the same on every x86 CPU.

Shipped (``--scheme dynamic-7bit``, the default): onnxruntime's dynamic quantization with 7-bit weights
(``reduce_range``) from the fp32 graph rebuilt below; without VNNI no 16-bit sum can saturate, so every CPU computes
the same integers, and the engine scores each pair alone, so one activation scale per run is no batch dependence.
The alternative below (``--scheme per-token``) is also batch-invariant but cost about a fifth of the bot's throughput.

    python training/quantize.py --from-int8 training/work4/model/reader-int8.onnx  # what train.py exported
    git show 888e421:rag/reader_model/reader-int8.onnx > round4.onnx               # or the round-4 reader as shipped
    python training/quantize.py --from-int8 round4.onnx --save-fp32 round4-fp32.onnx

Writes ``rag/reader_model/reader-int8.onnx`` (``--out``). Every weight MatMul becomes an integer product:
weights s8 per output channel, activations u8 with a scale and zero point per token, from the token's own
values at run time. No calibration data: nothing is fitted.

Why (figures, and the two onnxruntime quantizations tried first, in rag/reader_model/MODEL_CARD.md):
- Exact integer sums on every x86 CPU: without VNNI (AVX2, AVX-512 without VNNI), onnxruntime's u8 x s8 kernels
  add two 8-bit products in a saturating 16-bit sum (vpmaddubsw); 255 * 127 * 2 overflows it. With activations
  in 7 bits (0..127) the sum stays under 32767, so it is exact, as VNNI's 32-bit sums are: the CPUs agree.
- Batch-invariant: onnxruntime's dynamic quantization takes one activation scale per run, so a pair's score moved
  with its batch-mates and their padding. A scale per token depends on that token alone, so a pair scores the same
  in any batch; the model says so in its metadata (``BATCH_INVARIANT_KEY``). The engine still runs pairs alone,
  side by side: on 2 cores that costs less than one padded batch (rag.reader.AnswerabilityReader.score).
- Close to fp32: a scale per token follows each token's own range, finer than one scale for a whole run or a
  static scale calibrated for every token (outlier channels of BERT activations make those coarse).
- The word-piece, position and token-type tables keep the model's 8-bit lookup tables (no integer sums);
  attention's activation-by-activation products stay float.

``--from-int8`` rebuilds the fp32 graph from a dynamic int8 model (``float_graph``): each weight is dequantized
(``scale * (q - zero_point)``) and each integer MatMul becomes a float one, so the fp32 reference holds exactly
the weights the int8 model used; its 8-bit weights quantize back to the same integers. The training checkpoint
itself is not needed."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper
from onnxruntime.quantization import QuantType, quantize_dynamic

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rag.reader import MODEL_DIR, MODEL_FILE  # noqa: E402

# Without VNNI, x86 kernels add two u8 x s8 products in a saturating 16-bit sum: keep it under 32767.
ACTIVATION_LEVELS = 127  # 7-bit activations: 127 * 127 * 2 = 32258
WEIGHT_LEVELS = 127  # 8-bit weights, the trained model's own grid (its dequantized weights quantize back exactly)

# Model metadata: "true" when a pair's score does not depend on its batch-mates; it also marks a model this script
# wrote, which must not be quantized again.
BATCH_INVARIANT_KEY = "scores_batch_invariant"


def float_graph(int8: onnx.ModelProto) -> onnx.ModelProto:
    """The fp32 graph of a dynamically quantized model: MatMulInteger with its scales -> MatMul of the
    dequantized weight; DynamicQuantizeLinear and the scale products go. Embedding lookups stay as they are."""
    graph = int8.graph
    weights = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    producer = {out: node for node in graph.node for out in node.output}
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    replaced: dict[int, onnx.NodeProto | None] = {}
    new_weights: list[onnx.TensorProto] = []
    for node in graph.node:
        if node.op_type != "MatMulInteger":
            continue
        activation_q, weight_q = node.input[0], node.input[1]
        quantizer = producer[activation_q]
        [cast] = consumers[node.output[0]]
        [rescale] = consumers[cast.output[0]]
        stem = weight_q.removesuffix("_quantized")
        q = weights[weight_q].astype(np.float32)
        weight = (q - weights[f"{stem}_zero_point"].astype(np.float32)) * weights[f"{stem}_scale"]
        new_weights.append(numpy_helper.from_array(weight.astype(np.float32), f"{stem}_fp32"))
        replaced[id(node)] = helper.make_node(
            "MatMul", [quantizer.input[0], f"{stem}_fp32"], [rescale.output[0]], name=node.name.removesuffix("_quant")
        )
        replaced[id(cast)] = replaced[id(rescale)] = None
    nodes = [replaced.get(id(n), n) for n in graph.node]
    kept = _without_unused([n for n in nodes if n is not None], [o.name for o in graph.output])
    used = {name for node in kept for name in node.input}
    initializers = [i for i in graph.initializer if i.name in used] + new_weights
    fp32 = helper.make_model(
        helper.make_graph(kept, graph.name, list(graph.input), list(graph.output), initializers),
        opset_imports=list(int8.opset_import),
    )
    fp32.ir_version = int8.ir_version
    onnx.checker.check_model(fp32)
    return fp32


def _without_unused(nodes: list[onnx.NodeProto], outputs: list[str]) -> list[onnx.NodeProto]:
    """Nodes whose results reach a graph output, in their order."""
    needed = set(outputs)
    kept = []
    for node in reversed(nodes):
        if any(o in needed for o in node.output):
            kept.append(node)
            needed.update(node.input)
    return kept[::-1]


def per_token_int8(fp32: onnx.ModelProto) -> onnx.ModelProto:
    """Every weight MatMul as an exact integer product: weights s8 per output channel in 8 bits (-127..127; the
    trained model's own grid),
    activations u8 with a scale and zero point per token (its own min and max, 0 included, as onnxruntime's
    DynamicQuantizeLinear takes them per tensor). The zero point's share is taken off in int32
    (``acc - zero_point * column_sum``), so the whole sum stays integer and exact until one float rescale."""
    graph = fp32.graph
    weights = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    nodes: list[onnx.NodeProto] = []
    extra: list[onnx.TensorProto] = [
        numpy_helper.from_array(np.array(0.0, np.float32), "q_zero"),
        numpy_helper.from_array(np.array(float(ACTIVATION_LEVELS), np.float32), "q_levels"),
        numpy_helper.from_array(np.array(1e-12, np.float32), "q_tiny"),
    ]
    quantized: dict[str, tuple[str, str, str]] = {}  # activation -> (u8 values, float scale, int32 zero point)
    for node in graph.node:
        if node.op_type != "MatMul" or node.input[1] not in weights:
            nodes.append(node)
            continue
        x, w_name = node.input
        if x not in quantized:
            quantized[x] = _quantize_per_token(x, nodes)
        x_q, x_scale, x_zero = quantized[x]
        weight = weights[w_name]
        w_scale = np.maximum(np.abs(weight).max(axis=0), 1e-12) / WEIGHT_LEVELS
        w_q = np.clip(np.round(weight / w_scale), -WEIGHT_LEVELS, WEIGHT_LEVELS).astype(np.int8)
        stem = f"{node.name}_q"
        extra += [
            numpy_helper.from_array(w_q, f"{stem}_weight"),
            numpy_helper.from_array(w_q.astype(np.int32).sum(axis=0, dtype=np.int32), f"{stem}_column_sum"),
            numpy_helper.from_array(w_scale.astype(np.float32), f"{stem}_weight_scale"),
        ]
        nodes += [
            helper.make_node("MatMulInteger", [x_q, f"{stem}_weight"], [f"{stem}_acc"], name=f"{stem}_matmul"),
            helper.make_node("Mul", [x_zero, f"{stem}_column_sum"], [f"{stem}_offset"]),
            helper.make_node("Sub", [f"{stem}_acc", f"{stem}_offset"], [f"{stem}_sum"]),
            helper.make_node("Cast", [f"{stem}_sum"], [f"{stem}_float"], to=onnx.TensorProto.FLOAT),
            helper.make_node("Mul", [x_scale, f"{stem}_weight_scale"], [f"{stem}_scale"]),
            helper.make_node("Mul", [f"{stem}_float", f"{stem}_scale"], [node.output[0]]),
        ]
    kept = _without_unused(nodes, [o.name for o in graph.output])
    used = {name for node in kept for name in node.input}
    initializers = [i for i in list(graph.initializer) + extra if i.name in used]
    model = helper.make_model(
        helper.make_graph(kept, graph.name, list(graph.input), list(graph.output), initializers),
        opset_imports=list(fp32.opset_import),
    )
    model.ir_version = fp32.ir_version
    helper.set_model_props(model, {BATCH_INVARIANT_KEY: "true"})
    onnx.checker.check_model(model)
    return model


def _quantize_per_token(x: str, nodes: list[onnx.NodeProto]) -> tuple[str, str, str]:
    """Nodes that quantize ``x`` to u8 along its last axis, one scale and zero point per token."""
    n = f"{x}_q"
    nodes += [
        helper.make_node("ReduceMin", [x], [f"{n}_min0"], axes=[-1], keepdims=1),
        helper.make_node("Min", [f"{n}_min0", "q_zero"], [f"{n}_min"]),
        helper.make_node("ReduceMax", [x], [f"{n}_max0"], axes=[-1], keepdims=1),
        helper.make_node("Max", [f"{n}_max0", "q_zero"], [f"{n}_max"]),
        helper.make_node("Sub", [f"{n}_max", f"{n}_min"], [f"{n}_range"]),
        helper.make_node("Div", [f"{n}_range", "q_levels"], [f"{n}_scale0"]),
        helper.make_node("Max", [f"{n}_scale0", "q_tiny"], [f"{n}_scale"]),
        helper.make_node("Div", [f"{n}_min", f"{n}_scale"], [f"{n}_min_steps"]),
        helper.make_node("Neg", [f"{n}_min_steps"], [f"{n}_zero0"]),
        helper.make_node("Round", [f"{n}_zero0"], [f"{n}_zero_float"]),
        helper.make_node("Cast", [f"{n}_zero_float"], [f"{n}_zero"], to=onnx.TensorProto.INT32),
        helper.make_node("Div", [x, f"{n}_scale"], [f"{n}_steps"]),
        helper.make_node("Round", [f"{n}_steps"], [f"{n}_rounded"]),
        helper.make_node("Add", [f"{n}_rounded", f"{n}_zero_float"], [f"{n}_shifted"]),
        helper.make_node("Clip", [f"{n}_shifted", "q_zero", "q_levels"], [f"{n}_clipped"]),
        helper.make_node("Cast", [f"{n}_clipped"], [f"{n}_u8"], to=onnx.TensorProto.UINT8),
    ]
    return f"{n}_u8", f"{n}_scale", f"{n}_zero"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--from-int8", type=Path, required=True,
                        help="a reader dynamically quantized by train.py's export (rebuilt to fp32 first)")
    parser.add_argument("--out", type=Path, default=MODEL_DIR / MODEL_FILE)
    parser.add_argument("--save-fp32", type=Path, default=None, help="also write the fp32 graph here")
    parser.add_argument("--scheme", choices=("dynamic-7bit", "per-token"), default="dynamic-7bit",
                        help="dynamic-7bit (shipped): onnxruntime's dynamic int8 with 7-bit weights (reduce_range), "
                             "exact sums on every CPU, the engine's speed, one activation scale per run (pairs run "
                             "alone); per-token: batch-invariant too, about a fifth slower in the bot (MODEL_CARD)")
    args = parser.parse_args()
    int8 = onnx.load(args.from_int8)
    if any(p.key == BATCH_INVARIANT_KEY for p in int8.metadata_props):
        parser.error(f"{args.from_int8} is already quantized per token; give the dynamic model train.py wrote")
    fp32 = float_graph(int8)
    if args.save_fp32:
        onnx.save(fp32, args.save_fp32)
    if args.scheme == "per-token":
        onnx.save(per_token_int8(fp32), args.out)
    else:
        with tempfile.TemporaryDirectory() as folder:
            source = Path(folder) / "fp32.onnx"
            onnx.save(fp32, source)
            quantize_dynamic(str(source), str(args.out), op_types_to_quantize=["MatMul"], per_channel=True,
                             reduce_range=True, weight_type=QuantType.QInt8)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
