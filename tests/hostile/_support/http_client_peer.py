#!/usr/bin/env python3
"""Misbehaving HTTP clients for the responder's hostile tests.

Usage: http_client_peer.py MODE '{"port": N, ...}'

Connects to 127.0.0.1:port, prints "READY" once it has done its harm (or
its JSON result when the mode has one), and keeps misbehaving until the
server closes the connection or `hold` seconds pass. Every wait is bounded;
nothing here leaves loopback.
"""
import json
import select
import socket
import sys
import time

HOST = "127.0.0.1"


def log(obj):
    print(json.dumps(obj), flush=True)


def connect(opts, rcvbuf=None):
    """Connects to opts["port"]; with opts["wait"], retries every 20 ms for
    up to that many seconds (a server that is not listening yet)."""
    until = time.monotonic() + opts.get("wait", 0)
    while True:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            # Before connecting, so the window the server sees is small.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        try:
            s.connect((HOST, opts["port"]))
            return s
        except ConnectionRefusedError:
            s.close()
            if time.monotonic() > until:
                raise
            time.sleep(0.02)


def readable(s, timeout):
    """Whether `s` has something to read (or an end) within `timeout` s;
    poll, as select cannot watch descriptors past 1023."""
    p = select.poll()
    p.register(s, select.POLLIN | select.POLLHUP | select.POLLERR)
    return bool(p.poll(max(0, timeout) * 1000))


def closed_by_peer(s, timeout):
    """Waits up to `timeout` s for the server to close (EOF or reset), dropping
    what it sends; returns the bytes it sent, or None if it did not close."""
    got = b""
    until = time.monotonic() + timeout
    while True:
        left = until - time.monotonic()
        if left <= 0:
            return None
        if not readable(s, left):
            return None
        try:
            data = s.recv(65536)
        except OSError:
            return got
        if not data:
            return got
        if len(got) < 4096:
            got += data[: 4096 - len(got)]


def stall_body(opts):
    """Announces a 1,000,000-byte body, sends 3 bytes, then says nothing."""
    s = connect(opts)
    s.sendall(b"POST /upload HTTP/1.1\r\nHost: peer\r\nContent-Length: 1000000\r\n\r\nabc")
    print("READY", flush=True)
    started = time.monotonic()
    got = closed_by_peer(s, opts.get("hold", 60))
    log({"closed": got is not None, "ms": round((time.monotonic() - started) * 1000)})


def no_read(opts):
    """Asks for the (large) answer and never reads it."""
    s = connect(opts, rcvbuf=4096)
    s.sendall(b"GET /big HTTP/1.1\r\nHost: peer\r\n\r\n")
    print("READY", flush=True)
    time.sleep(opts.get("hold", 60))


def trickle_body(opts):
    """Announces a body of `size` bytes (default 100,000) and sends `chunk`
    bytes (default 1) every `interval` s until it is all sent or the server
    closes; reports how long that took and the status line of the answer
    ("" when there was none)."""
    size = opts.get("size", 100000)
    chunk = opts.get("chunk", 1)
    s = connect(opts)
    s.sendall(b"POST /slow HTTP/1.1\r\nHost: peer\r\nContent-Length: %d\r\n\r\n" % size)
    print("READY", flush=True)
    started = time.monotonic()
    until = started + opts.get("hold", 60)
    sent = 0
    closed = False
    while time.monotonic() < until and sent < size:
        if readable(s, opts.get("interval", 2)):
            closed = closed_by_peer(s, 1) is not None
            break
        try:
            n = min(chunk, size - sent)
            s.sendall(b"x" * n)
            sent += n
        except OSError:
            closed = True
            break
    status = ""
    if not closed and sent == size:
        got = b""
        while b"\r\n" not in got and readable(s, 10):
            data = s.recv(4096)
            if not data:
                break
            got += data
        status = got.split(b"\r\n", 1)[0].decode("latin-1")
    ms = round((time.monotonic() - started) * 1000)
    log({"closed": closed, "sent": sent, "status": status, "ms": ms})


def slow_read(opts):
    """Asks for the (large) answer and reads `chunk` bytes every `interval` s,
    until the server closes, `expect` bytes arrived, or `hold` s passed."""
    s = connect(opts, rcvbuf=4096)
    s.sendall(b"GET /big HTTP/1.1\r\nHost: peer\r\n\r\n")
    print("READY", flush=True)
    started = time.monotonic()
    until = started + opts.get("hold", 60)
    expect = opts.get("expect")
    received = 0
    closed = False
    while time.monotonic() < until and (expect is None or received < expect):
        time.sleep(opts.get("interval", 0.5))
        try:
            data = s.recv(opts.get("chunk", 4096))
        except OSError:
            closed = True
            break
        if not data:
            closed = True
            break
        received += len(data)
    log({"closed": closed, "received": received, "ms": round((time.monotonic() - started) * 1000)})


def raw(opts):
    """Sends each of opts["requests"] on a connection of its own and reports
    the status line of the answer ("" when the server closed without one,
    None when it neither answered nor closed within 10 s). A request is a list
    of [latin-1 text, times] parts (so a long one fits on a command line)."""
    statuses = []
    for parts in opts["requests"]:
        request = "".join(text * times for text, times in parts)
        s = connect(opts)
        try:
            s.sendall(request.encode("latin-1"))
        except OSError:
            pass
        got = closed_by_peer(s, 10)
        s.close()
        statuses.append(None if got is None else got.split(b"\r\n", 1)[0].decode("latin-1"))
    log({"statuses": statuses})


def hold(opts):
    """Opens `count` connections that send half a request head (with `pad`
    bytes of one header value in it) and wait; reports how many the server
    closed within `settle` s."""
    conns = []
    pad = b"X-Pad: " + b"a" * opts["pad"] if opts.get("pad") else b""
    for _ in range(opts["count"]):
        s = connect(opts)
        s.sendall(b"GET / HTTP/1.1\r\nHost: pe\r\n" + pad)
        conns.append(s)
    time.sleep(opts.get("settle", 1))
    closed = 0
    for s in conns:
        if readable(s, 0):
            try:
                if not s.recv(1):
                    closed += 1
            except OSError:
                closed += 1
    log({"open": len(conns) - closed, "closed": closed})
    time.sleep(opts.get("hold", 60))


MODES = {
    "stall-body": stall_body,
    "no-read": no_read,
    "trickle-body": trickle_body,
    "slow-read": slow_read,
    "raw": raw,
    "hold": hold,
}

if __name__ == "__main__":
    MODES[sys.argv[1]](json.loads(sys.argv[2]))
