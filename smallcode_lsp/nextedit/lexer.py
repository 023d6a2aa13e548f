"""A language-agnostic code lexer: words, numbers, strings, operators (whitespace skipped).

Enough to see an edit as tokens in every language the server opens: `x.get(k)` -> `x[k]` is a
change of `.get(` and `)`, not of characters. Comments are lexed as the words they contain, so
a rename also reaches the comments that name the renamed thing.
"""

from __future__ import annotations

import re
import typing
from dataclasses import dataclass
from typing import Literal

Kind = Literal["word", "number", "string", "op"]

WORD_CHARS = r"[^\W\d]\w*|\$[\w$]*"
TOKEN = re.compile(
    rf"""
    (?P<word>{WORD_CHARS})
  | (?P<number>\d[\w.]*)
  | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<op>===|!==|==|!=|<=|>=|->|=>|::|\*\*|//|&&|\|\||<<|>>|\+=|-=|\*=|/=|\.\.\.|\S)
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: Kind
    text: str
    start: int  # in the lexed string
    end: int

    @property
    def is_name(self) -> bool:
        """Words, numbers and strings: what can stand for a value (and be a hole)."""
        return self.kind != "op"


def lex(text: str) -> list[Token]:
    tokens = []
    for match in TOKEN.finditer(text):
        kind = typing.cast(Kind, match.lastgroup)  # one of TOKEN's named groups
        tokens.append(Token(kind, match.group(), match.start(), match.end()))
    return tokens


def is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch in "_$"
