"""A merchant's question: its limit, its check and the refusal, apart from the Q&A engine.

The API names these (the request schema's limit, the 400 of its error handler) on every cold start,
while the engine (:mod:`tower.ai.qa`) loads sqlglot and the named queries that only a question needs.
"""

from __future__ import annotations

MAX_QUESTION_CHARS = 500


class AskError(ValueError):
    """The question (or a tool input) is unusable; the message says why (HTTP 400 / exit 2)."""


def check_question(question: str) -> str:
    """The question trimmed; AskError when empty or too long."""
    q = " ".join(str(question or "").split())
    if not q:
        raise AskError("the question is empty")
    if len(q) > MAX_QUESTION_CHARS:
        raise AskError(f"the question is longer than {MAX_QUESTION_CHARS} characters")
    return q
