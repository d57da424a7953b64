"""Check an 837P with pyx12 against 005010X222A1: the file is good only when pyx12
finds no error and the 999 acknowledgement it writes accepts the transaction."""

from __future__ import annotations

import io
import json
import logging
import threading
from dataclasses import dataclass

import pyx12.map_if
import pyx12.params
import pyx12.x12n_document

_parse_map = pyx12.map_if.load_map_file
_maps: dict[tuple[str, str | None], object] = {}
_maps_lock = threading.Lock()


def load_map_file(map_file: str, param, map_path: str | None = None):
    """pyx12 parses its XML maps (about 1 s of CPU) for every document it checks. A map is read-only
    while a document is walked (the walker keeps its own counts), so each map is parsed once per
    process and shared. Roster always checks with pyx12's default parameters, so the map's name
    and folder are the key."""
    key = (map_file, None if map_path is None else str(map_path))
    with _maps_lock:
        if key not in _maps:
            _maps[key] = _parse_map(map_file, param, map_path)
        return _maps[key]


pyx12.map_if.load_map_file = load_map_file  # x12n_document looks it up on the module at each call


@dataclass(frozen=True)
class X12Check:
    ok: bool
    errors: tuple[str, ...]
    ack_999: str

    @property
    def accepted(self) -> bool:
        """The 999 says the transaction set and the group are accepted (IK5*A, AK9*A)."""
        segments = [s.strip() for s in self.ack_999.split("~")]
        return any(s.startswith("IK5*A") for s in segments) and any(s.startswith("AK9*A") for s in segments)


def _messages(node, out: list[str], where: str = "") -> None:
    if isinstance(node, dict):
        seg = node.get("seg_id") or node.get("id") or ""
        for err in node.get("errors") or []:
            if isinstance(err, dict):
                text = err.get("msg") or err.get("message") or err.get("err_str") or json.dumps(err, default=str)
                code = err.get("err_cde") or err.get("code") or ""
                out.append(" ".join(p for p in (f"{where}{seg}".strip(), str(code), str(text)) if p))
            else:
                out.append(str(err))
        for key, value in node.items():
            if key != "errors" and isinstance(value, (list, dict)):
                _messages(value, out, where)
    elif isinstance(node, list):
        for item in node:
            _messages(item, out, where)


def check_837p(text: str) -> X12Check:
    params = pyx12.params.params()
    ack, report = io.StringIO(), io.StringIO()
    logger = logging.getLogger("pyx12")
    level = logger.level
    logger.setLevel(logging.CRITICAL)  # pyx12 logs each error too; we report them ourselves
    try:
        valid = pyx12.x12n_document.x12n_document(params, io.StringIO(text), ack, None, fd_json=report)
    finally:
        logger.setLevel(level)
    errors: list[str] = []
    try:
        _messages(json.loads(report.getvalue() or "{}"), errors)
    except ValueError:
        errors.append("pyx12 wrote an unreadable error report")
    check = X12Check(bool(valid) and not errors, tuple(errors), ack.getvalue())
    if check.ok and not check.accepted:
        return X12Check(False, ("pyx12's 999 does not accept the file",), check.ack_999)
    return check
