"""rag: search Chinese policy documents clause by clause, with exact citations.

The folders are the layers, lowest first: text, reading, embedding, storage, ingest, citing, search,
evaluation, interfaces; each imports only the layers below it (tests/test_layers.py keeps it so).
"""

from __future__ import annotations

__version__ = "0.1.0"
