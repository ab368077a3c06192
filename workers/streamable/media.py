"""Content-Type and Accept as RFC 9110 reads them: media types compare case-insensitively (8.3.1), a
Content-Type names one media type (not a prefix of one), and an Accept range with q=0 refuses (12.4.2).

The header checks run on every request the endpoint has not seen before, so the common exact spellings
are answered from a set and every other value is parsed once and remembered (bounded)."""

from __future__ import annotations

import re
from collections.abc import Callable

# RFC 9110 5.6.2 token, 5.6.4 quoted-string, 5.6.6 parameters (OWS ";" OWS [ name "=" value ]).
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_QUOTED = r'"(?:[^"\\]|\\.)*"'
_PARAMS = rf"(?:[ \t]*;[ \t]*(?:{_TOKEN}=(?:{_TOKEN}|{_QUOTED}))?)*"
_MEDIA_TYPE = re.compile(rf"[ \t]*({_TOKEN})/({_TOKEN})({_PARAMS})[ \t]*")
# One element of the Accept list with the separators before it (empty elements are allowed, 5.6.1).
_RANGE = re.compile(rf"[ \t,]*({_TOKEN})/({_TOKEN})({_PARAMS})[ \t]*(?:,|\Z)")
_WEIGHT = re.compile(r";[ \t]*q=([0-9.]+)", re.IGNORECASE)
_QVALUE = re.compile(r"0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?")

# What clients send: decided without parsing.
_JSON_CONTENT_TYPES = frozenset({b"application/json", b"application/json; charset=utf-8"})
_BOTH = (b"application/json, text/event-stream", b"text/event-stream, application/json", b"*/*")
_ACCEPTS_BOTH = frozenset(_BOTH)
_ACCEPTS_SSE = frozenset({*_BOTH, b"text/event-stream"})


# Every other value seen: decided once (a dict, not lru_cache: a lookup is several times cheaper).
_REMEMBER = 256
_content_types: dict[bytes, bool] = {}
_accepts_both: dict[bytes, bool] = {}
_accepts_sse: dict[bytes, bool] = {}


def is_json(content_type: bytes) -> bool:
    """Content-Type is application/json (any case, any parameters)."""
    return content_type in _JSON_CONTENT_TYPES or _verdict(_content_types, content_type, _parsed_is_json)


def accepts_json_and_sse(accept: bytes) -> bool:
    """Accept lets the answer to a POST be either application/json or text/event-stream."""
    return accept in _ACCEPTS_BOTH or _verdict(_accepts_both, accept, _parsed_accepts_both)


def accepts_sse(accept: bytes) -> bool:
    """Accept lets the answer to a GET be text/event-stream."""
    return accept in _ACCEPTS_SSE or _verdict(_accepts_sse, accept, _parsed_accepts_sse)


def _verdict(seen: dict[bytes, bool], value: bytes, parse: Callable[[bytes], bool]) -> bool:
    """`parse(value)`, remembered: clients send the same few header values again and again."""
    known = seen.get(value)
    if known is not None:
        return known
    if len(seen) >= _REMEMBER:
        seen.clear()  # bounded: a client sending ever new values costs parsing, not memory
    verdict = seen[value] = parse(value)
    return verdict


def _parsed_is_json(content_type: bytes) -> bool:
    match = _MEDIA_TYPE.fullmatch(content_type.decode("latin-1"))
    return match is not None and (match[1].lower(), match[2].lower()) == ("application", "json")


def _parsed_accepts_both(accept: bytes) -> bool:
    return _parsed_accepts(accept, both=True)


def _parsed_accepts_sse(accept: bytes) -> bool:
    return _parsed_accepts(accept, both=False)


def _parsed_accepts(accept: bytes, both: bool) -> bool:
    ranges = _ranges(accept.decode("latin-1"))
    if ranges is None:
        return False  # not an Accept list: nothing in it can be taken as listing our types
    sse = _quality(ranges, "text", "event-stream") > 0
    return (sse and _quality(ranges, "application", "json") > 0) if both else sse


def _ranges(accept: str) -> list[tuple[str, str, float]] | None:
    """The media ranges of an Accept value with their weights, or None when the value is malformed."""
    ranges = []
    position, end = 0, len(accept)
    while position < end:
        if not accept[position:].strip(" \t,"):
            break  # trailing separators and whitespace
        match = _RANGE.match(accept, position)
        if match is None:
            return None
        weight = _WEIGHT.search(match[3])
        if weight is None:
            quality = 1.0
        elif _QVALUE.fullmatch(weight[1]):
            quality = float(weight[1])
        else:
            return None
        ranges.append((match[1].lower(), match[2].lower(), quality))
        position = match.end()
    return ranges


def _quality(ranges: list[tuple[str, str, float]], kind: str, subtype: str) -> float:
    """The weight of the most specific range matching kind/subtype (RFC 9110 12.5.1); 0 when none does."""
    best, specificity = 0.0, -1
    for range_kind, range_subtype, quality in ranges:
        if range_kind == kind and range_subtype == subtype:
            rank = 2
        elif range_kind == kind and range_subtype == "*":
            rank = 1
        elif range_kind == "*" and range_subtype == "*":
            rank = 0
        else:
            continue
        if rank > specificity or (rank == specificity and quality > best):
            best, specificity = quality, rank
    return best
