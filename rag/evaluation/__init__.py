"""Evaluation and benchmarks (and adapter training): may import every layer; nothing imports them but the interfaces."""
