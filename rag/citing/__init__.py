"""Citing: citation lines, highlights, escaping, study-pack export. Imports storage and below."""
