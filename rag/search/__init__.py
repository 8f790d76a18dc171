"""Search: fusion, filters, query adapters, re-ranking, named-clause lookup. Imports citing and below."""
