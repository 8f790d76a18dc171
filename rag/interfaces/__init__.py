"""Interfaces: the CLI, uploads, accounts and the audit log (app.py at the top of the repo). The top layer."""
