"""Ingest: paths -> a saved index, incremental, tiered, resumable, one writer. Imports the layers below."""
