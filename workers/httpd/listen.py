"""Listening sockets that no other program shares.

A single-process server listens without SO_REUSEPORT. A supervisor makes one SO_REUSEPORT socket per
worker position: the first is bound *before* SO_REUSEPORT is set, so the bind fails if anything at all holds
the port (with or without SO_REUSEPORT), with no window between a probe and the real bind; the rest join it.
A reuseport program then picks among those sockets only, so a later program of the same user that joins the
port with SO_REUSEPORT gets no connection.
"""

from __future__ import annotations

import contextlib
import ctypes
import socket
import struct

# <linux/filter.h>, <asm-generic/socket.h>
SO_ATTACH_REUSEPORT_CBPF = 51
SKF_NET_OFF = -0x100000
_LD_B_ABS, _LD_H_ABS = 0x30, 0x28
_ALU_RSH_K, _ALU_MUL_K, _ALU_MOD_K = 0x74, 0x24, 0x94
_JEQ_K, _RET_A = 0x15, 0x16


class ListenError(Exception):
    """The address cannot be listened on; the message is one line for the operator."""

    def __init__(self, host: str, port: int, exc: OSError) -> None:
        shown = f"[{host}]" if ":" in host else host
        reason = (exc.strerror or str(exc)).rstrip(".")
        super().__init__(f"mcprt: cannot listen on {shown}:{port}: {reason[:1].lower()}{reason[1:]}")


def _socket(host: str) -> socket.socket:
    return socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)


def _bind(sock: socket.socket, host: str, port: int) -> None:
    # SO_REUSEADDR only lets the bind pass TIME_WAIT connections of an earlier run, never a listener.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))


def listen_exclusive(host: str, port: int, *, backlog: int = 2048) -> socket.socket:
    """A non-blocking listening socket that nothing else can share."""
    host = host.strip("[]")
    sock = _socket(host)
    try:
        _bind(sock, host, port)
        sock.listen(backlog)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        raise ListenError(host, port, exc) from None
    return sock


def listen_group(host: str, port: int, count: int, *, backlog: int = 2048) -> list[socket.socket]:
    """`count` non-blocking SO_REUSEPORT listeners on one port (port 0: a free one), owned by the caller."""
    host = host.strip("[]")
    sockets: list[socket.socket] = []
    try:
        first = _socket(host)
        sockets.append(first)
        _bind(first, host, port)  # exclusive: fails on any holder of the port
        port = first.getsockname()[1]
        first.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        first.listen(backlog)
        for _ in range(count - 1):
            sock = _socket(host)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            _bind(sock, host, port)
            sock.listen(backlog)
    except OSError as exc:
        for sock in sockets:
            sock.close()
        raise ListenError(host, port, exc) from None
    for sock in sockets:
        sock.setblocking(False)
    # Without the program the kernel's own hash spreads connections just as evenly, but over every
    # member of the group, strangers included.
    with contextlib.suppress(OSError):
        _attach_program(sockets[0], count)
    return sockets


def _attach_program(sock: socket.socket, count: int) -> None:
    """A classic BPF reuseport program: member index = hash(TCP source port) % count. Our sockets are the
    first `count` members and stay for the server's life, so no later member is ever chosen."""

    def op(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
        return struct.pack("HBBI", code, jt, jf, k & 0xFFFFFFFF)

    program = b"".join(
        [
            op(_LD_B_ABS, SKF_NET_OFF),  # the IP version nibble
            op(_ALU_RSH_K, 4),
            op(_JEQ_K, 6, jt=0, jf=2),
            op(_LD_H_ABS, SKF_NET_OFF + 40),  # IPv6: the source port after the fixed header
            op(0x05, 1),  # ja +1
            op(_LD_H_ABS, SKF_NET_OFF + 20),  # IPv4 (no options on a TCP SYN in practice)
            op(_ALU_MUL_K, 2654435761),  # Knuth's multiplicative hash; its high bits mix best
            op(_ALU_RSH_K, 16),
            op(_ALU_MOD_K, count),
            op(_RET_A, 0),
        ]
    )
    code = ctypes.create_string_buffer(program, len(program))
    fprog = struct.pack("HP", len(program) // 8, ctypes.addressof(code))
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, fprog)
