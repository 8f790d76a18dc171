"""Storage: the clause index (generations, FAISS, BM25) and the clause cache. Imports text, reading, embedding."""
