"""Check HL7 charge messages with hl7apy against the v2.5.1 DFT_P03 structure
(strict: required segments and fields, cardinality, groups, data types)."""

from __future__ import annotations

import functools

from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.exceptions import HL7apyException
from hl7apy.parser import parse_message


def check_message(text: str) -> list[str]:
    """Problems hl7apy finds in one DFT^P03 message (empty when it is valid)."""
    return list(_problems(text))


@functools.lru_cache(maxsize=4096)
def _problems(text: str) -> tuple[str, ...]:
    """hl7apy takes about 0.1 s of CPU a message; a batch file re-checks the messages that were
    checked when they were written, so the verdict on a text is kept (it depends on the text only)."""
    return tuple(_check(text))


def _check(text: str) -> list[str]:
    try:
        message = parse_message(text, validation_level=VALIDATION_LEVEL.STRICT, find_groups=True)
        if message.name != "DFT_P03" or message.msh.msh_12.value != "2.5.1":
            return [f"not a v2.5.1 DFT_P03 message ({message.name})"]
        message.validate()
    except HL7apyException as exc:
        return [str(exc)]
    return []


def split_batch(text: str) -> tuple[list[str], list[str]]:
    """(the batch's header/trailer segments, its messages), each message ending in CR."""
    envelope: list[str] = []
    messages: list[list[str]] = []
    for segment in (s for s in text.split("\r") if s.strip()):
        kind = segment[:3]
        if kind in ("FHS", "BHS", "BTS", "FTS"):
            envelope.append(segment)
        elif kind == "MSH":
            messages.append([segment])
        elif messages:
            messages[-1].append(segment)
        else:
            envelope.append(segment)
    return envelope, ["\r".join(m) + "\r" for m in messages]


def check_batch(text: str) -> list[str]:
    """Every message checked by hl7apy, and the FHS/BHS envelope with BTS/FTS counts right."""
    envelope, messages = split_batch(text)
    kinds = [s[:3] for s in envelope]
    problems = []
    if kinds != ["FHS", "BHS", "BTS", "FTS"]:
        problems.append(f"the batch envelope must be FHS, BHS, then BTS, FTS (found {', '.join(kinds)})")
    else:
        if envelope[2].split("|")[1:2] != [str(len(messages))]:
            problems.append(f"BTS counts {envelope[2]} but the batch holds {len(messages)} messages")
        if envelope[3].split("|")[1:2] != ["1"]:
            problems.append("FTS must count the one batch")
    for number, message in enumerate(messages, start=1):
        problems.extend(f"message {number}: {p}" for p in check_message(message))
    return problems
