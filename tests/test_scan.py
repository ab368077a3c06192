"""The bounded scans of raw messages (runtime/protocol/scan.py) and the core's guard against deep input."""

from __future__ import annotations

import pytest

from runtime.protocol import scan
from runtime.protocol.core import Reply, ServerSession
from tests.test_core import make_server


@pytest.mark.parametrize(
    ("data", "found"),
    [
        (b'{"jsonrpc":"2.0","id":5,"method":"x"}', 5),
        (b'{ "id" : "a\\"b" , "method":"x"}', 'a"b'),
        (b'{"method":"x","params":{"id":3,"a":[{"id":9}]},"jsonrpc":"2.0","id":-7}', -7),
        (b'{"params":{"x":"' + b"a" * 10_000 + b'"},"id":"end"}', "end"),
        (b'{"params":{"id":3}}', None),
        (b'{"params":{"id":3,"x":"' + b"a" * 10_000 + b'"}}', None),
        (b'[{"id":1}]', None),
        (b'{"id":1.5}', None),
        (b'{"id":null}', None),
        (b'{"x":"\\"id\\":4"}', None),
    ],
)
def test_find_id(data: bytes, found: object) -> None:
    assert scan.find_id(data) == found


def test_too_deep_counts_containers_outside_strings() -> None:
    assert not scan.too_deep(b"[" * 200 + b"]" * 200, 200)
    assert scan.too_deep(b"[" * 201 + b"]" * 201, 200)
    assert not scan.too_deep(b'["' + b"[" * 500 + b'"]', 200)
    assert not scan.too_deep(b"[" + b"{}," * 1000 + b"{}]", 200)  # many containers, shallow
    assert scan.too_deep(b"[" * 10**6 + b"]" * 10**6, 200)


def test_too_deep_and_depth_error_take_a_memoryview() -> None:
    # The signature accepts one; memoryview has no count() before Python 3.14.
    deep = b'{"jsonrpc":"2.0","id":4,"params":' + b"[" * 300 + b"]" * 300 + b"}"
    assert scan.too_deep(memoryview(deep), 200)
    assert not scan.too_deep(memoryview(b"[" * 300 + b"]" * 300), 400)
    refused = scan.depth_error(memoryview(deep), 200)
    assert refused is not None and b'"id":4' in refused


@pytest.mark.parametrize("view", [bytes, memoryview])
def test_a_deep_message_that_is_not_utf8_is_a_parse_error(view: type) -> None:
    """Not UTF-8 is not JSON text (RFC 8259 8.1), however deep: -32700 with no id, as a shallow one gets
    (core.py); a deep UTF-8 message keeps the depth refusal (-32600) with its id."""
    deep = b"[" * 300 + b"]" * 300
    bad = b'{"jsonrpc":"2.0","id":4,"params":{"a":' + deep + b',"b":"' + bytes([0xED, 0xA0, 0x80]) + b'"}}'
    refused = scan.depth_error(view(bad), 200)
    assert refused is not None and b'"code":-32700' in refused and b'"id"' not in refused, refused
    fine = b'{"jsonrpc":"2.0","id":4,"params":{"a":' + deep + ',"b":"é"}}'.encode()
    refused = scan.depth_error(view(fine), 200)
    assert refused is not None and b'"code":-32600' in refused and b'"id":4' in refused, refused


def test_core_answers_deep_input_without_raising() -> None:
    session = ServerSession(make_server().profile)
    for deep in (b"[" * 10**4, b'{"_meta":' + b"[" * 10**4 + b"]" * 10**4 + b"}"):
        action = session.receive(b'{"jsonrpc":"2.0","id":1,"method":"ping","params":' + deep + b"}")
        assert type(action) is Reply and action.invalid
