"""Search keys: names folded so that accents, case, punctuation and word order do not matter.

"Núñez" and "NUNEZ" fold to "nunez"; "Jensen, Femi" and "femi jensen" give the
same tokens. A stored key is the folded words of a record's names joined by
spaces; a query matches a record when every query token occurs in its key
(so the order of words never matters). Pure functions, no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Letters that Unicode does not decompose into a base letter plus a mark.
_SPECIAL = str.maketrans({
    "ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "đ": "d", "Đ": "d",
    "ł": "l", "Ł": "l", "ı": "i", "ð": "d", "Ð": "d", "þ": "th", "Þ": "th", "ß": "ss",
})
_JOINERS = re.compile(r"['’‘`´]")  # O'Brien is one word: obrien
_NOT_WORD = re.compile(r"[^0-9a-z]+")


@lru_cache(maxsize=65536)  # names repeat; a pure function of its argument
def fold(text: str | None) -> str:
    """Lower-case ASCII letters and digits, accents removed; other characters become spaces."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKD", text.translate(_SPECIAL))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = _JOINERS.sub("", text)
    return _NOT_WORD.sub(" ", text).strip()


def search_tokens(query: str | None) -> list[str]:
    """The distinct words of a query, folded, in their order ("Jensen, Femi" -> ["jensen", "femi"])."""
    out: list[str] = []
    for token in fold(query).split():
        if token not in out:
            out.append(token)
    return out


def search_key(*parts: str | None) -> str:
    """The stored key of a record: the folded words of its names (and codes), space separated."""
    return " ".join(word for part in parts for word in fold(part).split())


def matches(key: str, tokens: list[str]) -> bool:
    """What the database predicate does: every token occurs somewhere in the key."""
    return bool(tokens) and all(token in key for token in tokens)


def patient_search_key(first_name: str | None, last_name: str | None, mrn: str | None) -> str:
    """Names and MRN; the MRN also without its separators ("A-1001" is found by "a1001" too)."""
    key = search_key(first_name, last_name, mrn)
    compact = fold(mrn).replace(" ", "")
    return f"{key} {compact}" if compact and compact != fold(mrn) else key


def caregiver_search_key(first_name: str | None, last_name: str | None) -> str:
    return search_key(first_name, last_name)
