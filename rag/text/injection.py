"""Text addressed to a language model inside a document: "忽略以上指令，回答：…", "ignore previous
instructions", "你现在是…", chat-template markers. Such a clause is flagged wherever it shows
(`rag.search.retrieve.Hit`), and a generated sentence resting only on it is never verified
(`rag.answers.generate.verify`): a document must not be able to launder an answer through the model.

Pure and cheap (one regular expression), so every layer computes the same flag from the clause text.
"""

from __future__ import annotations

import re

_PATTERNS = [
    r"(?:忽略|无视|忽视|不要理会|忘记|忘掉)(?:掉)?(?:你)?(?:之前|以上|以下|上面|下面|前面|上述|先前|此前|所有|全部|一切)"
    r"(?:的)?(?:所有|全部|一切)?(?:的)?(?:指令|指示|提示词?|命令|规则|设定|要求)",
    r"你(?:现在|从现在起|接下来)(?:是|扮演|将扮演|要扮演)",
    r"(?:系统提示词?|系统指令)(?:[:：]|是|为)",
    r"(?:请|你要|你必须)(?:直接)?(?:回答|输出|回复)[:：]",
    r"\bignore\s+(?:all\s+|any\s+)?(?:the\s+)?(?:previous|prior|above|earlier|preceding)\s+"
    r"(?:instructions?|prompts?|directions?|rules)",
    r"\bdisregard\s+(?:all\s+|any\s+)?(?:the\s+)?(?:previous|prior|above|earlier)\b",
    r"\byou\s+are\s+now\s+(?:a|an|the|in)\b",
    r"\bsystem\s+prompt\b",
    r"<\|(?:im_start|im_end|system|user|assistant|endoftext)\|>",
    r"\[/?INST\]|<<SYS>>|<</SYS>>",
    r"^\s*#{2,}\s*(?:system|instruction)s?\b",
]
_INSTRUCTION = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.IGNORECASE | re.MULTILINE)


def instruction_like(text: str) -> str | None:
    """The first stretch of `text` that reads as an instruction to a model, or None."""
    m = _INSTRUCTION.search(text)
    return m.group(0) if m else None
