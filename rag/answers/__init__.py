"""Answers: from ranked clauses to an answer a cadre can quote.

- `types`: the small values an answer is made of (`Answer`, `AnswerSentence`, `Ref`).
- `extract`: the extractive answer (no model): the shortest verbatim span that answers.
- `refs`: cross-references inside a clause (本法第X条, 前款, 《title》第X条 …) resolved to clauses.
- `generate`: an optional answer from an OpenAI-compatible chat server, every sentence verified.
- `ask`: question -> hits -> answer, what `rag ask`, the app and the API call.
"""
