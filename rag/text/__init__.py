"""Text: pure functions on strings — cleaning, 公文 zones, clause splitting, Chinese numerals, tokens.

The lowest layer: imports nothing else of rag.
"""
