"""Reading: files -> documents (the reader registry, loading, identity). Imports text."""
