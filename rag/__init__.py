"""rag: search Chinese policy documents clause by clause, with exact citations.

Pipeline, one module per stage: load -> clean -> split -> embed -> index -> retrieve -> cite.
"""

from __future__ import annotations

__version__ = "0.1.0"
