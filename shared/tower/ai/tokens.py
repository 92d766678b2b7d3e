"""A tokenizer stand-in: how many tokens a text costs, without Anthropic's tokenizer.

Claude's tokenizer is not published, and the Messages API's ``count_tokens`` endpoint needs the
network, so budgets (the ~4k-token summary context), the bench and the Anthropic sandbox's
``usage`` figures all use this one documented heuristic:

* the text is split into pieces: runs of ASCII letters, runs of digits, runs of anything else
  that is not whitespace (punctuation, symbols, non-ASCII letters); whitespace is free (a leading
  space belongs to the next token in BPE vocabularies);
* a letter run costs ``ceil(len / 4)`` tokens (common English words are one token, long
  identifiers several), a digit run ``ceil(len / 3)`` (BPE vocabularies split numbers into groups
  of up to three digits), a symbol run ``ceil(len / 2)`` (JSON's ``":`` and ``},{`` pairs merge).

On JSON it reads about 1.5× ``len(text) / 4``, i.e. it errs on the side of over-counting, which is
the safe side for a budget.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

_PIECE = re.compile(r"[A-Za-z]+|\d+|[^\sA-Za-z\d]+")


def count_tokens(text: str) -> int:
    """Tokens in a text by the documented stand-in heuristic."""
    n = 0
    for m in _PIECE.finditer(text):
        piece = m.group(0)
        c = piece[0]
        if c.isascii() and c.isalpha():
            n += math.ceil(len(piece) / 4)
        elif c.isdigit():
            n += math.ceil(len(piece) / 3)
        else:
            n += math.ceil(len(piece) / 2)
    return n


def compact_json(obj: Any) -> str:
    """The compact JSON the product sends to Claude (no spaces, UTF-8 kept, keys in given order)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, default=str)


def count_json_tokens(obj: Any) -> int:
    """Tokens of an object's compact JSON."""
    return count_tokens(compact_json(obj))
