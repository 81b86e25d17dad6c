#!/usr/bin/env python3
"""Misbehaving network peers for wiretest's hostile suite.

Usage: hostile_peer.py MODE [JSON options]

Binds 127.0.0.1 on a free port (TCP or UDP, by mode), prints
"READY <port> [<port>...]" on stdout, then misbehaves until it is killed.
Every connection runs in its own thread; a peer never produces large data in
memory (a 10 GiB body is one reused 1 MiB buffer sent over and over).
Nothing here binds or connects beyond loopback.
"""
import json
import os
import socket
import struct
import sys
import threading
import time

HOST = "127.0.0.1"
MIB = 1024 * 1024


def ready(*ports):
    print("READY " + " ".join(str(p) for p in ports), flush=True)


def log(obj):
    print(json.dumps(obj), flush=True)


def tcp_listener():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((HOST, 0))
    s.listen(1024)
    return s


def serve_tcp(handler, opts, before_listen=None):
    s = tcp_listener()
    ready(s.getsockname()[1])
    while True:
        conn, _ = s.accept()
        t = threading.Thread(target=guarded, args=(handler, conn, opts), daemon=True)
        t.start()


def guarded(handler, conn, opts):
    try:
        handler(conn, opts)
    except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError, OSError):
        pass
    finally:
        try:
            conn.close()
        except OSError:
            pass


def read_request(conn, limit=65536):
    """Reads one request head (bounded); returns (method, path) or None at EOF."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
        if len(data) > limit:
            return None
    line = data.split(b"\r\n", 1)[0].decode("latin-1")
    parts = line.split(" ")
    return (parts[0], parts[1] if len(parts) > 1 else "/")


def hold(conn):
    """Keeps the connection open, discarding what arrives, until the peer closes."""
    while conn.recv(65536):
        pass


def stream(conn, total):
    """Sends `total` bytes (or forever when None) from one reused buffer."""
    buf = memoryview(bytes(range(256)) * (MIB // 256))
    sent = 0
    while total is None or sent < total:
        n = MIB if total is None else min(MIB, total - sent)
        conn.sendall(buf[:n])
        sent += n


# --- HTTP -----------------------------------------------------------------

def http_silent(conn, opts):
    read_request(conn)
    hold(conn)


def http_slowloris(conn, opts):
    read_request(conn)
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n" + b"X-Slow: " + b"z" * 100000
    for b in head:
        conn.sendall(bytes([b]))
        time.sleep(opts.get("interval", 1.0))


def http_endless_headers(conn, opts):
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    line = b"X-Junk: " + b"j" * 1000 + b"\r\n"
    block = line * 64
    while True:
        conn.sendall(block)


def http_huge_body(conn, opts):
    read_request(conn)
    size = opts.get("size", 10 * 1024 ** 3)
    framing = opts.get("framing", "length")
    if framing == "length":
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
        stream(conn, size)
    elif framing == "close":
        conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
        stream(conn, size)
    else:
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"%x\r\n" % MIB + bytes(MIB) + b"\r\n"
        sent = 0
        while sent < size:
            conn.sendall(chunk)
            sent += MIB
        conn.sendall(b"0\r\n\r\n")
    hold(conn)


def http_raw(conn, opts):
    """Sends opts["send"] (latin-1 text) in one write, then holds or closes."""
    read_request(conn)
    conn.sendall(opts["send"].encode("latin-1"))
    if opts.get("close"):
        return
    hold(conn)


def http_redirect(conn, opts):
    """A loop (/a -> /b -> /a) or an endless chain (/n -> /n+1)."""
    while True:
        req = read_request(conn)
        if req is None:
            return
        path = req[1]
        if opts.get("kind") == "loop":
            target = "/b" if path != "/b" else "/a"
        else:
            n = int(path.strip("/") or "0") if path.strip("/").isdigit() else 0
            target = "/%d" % (n + 1)
        conn.sendall(
            ("HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n" % target).encode()
        )


COUNTER = {"connections": 0, "requests": 0}
COUNTER_LOCK = threading.Lock()


def read_request_body(conn, data, limit=65536):
    """Reads one request (head and Content-Length body) after `data`, bounded;
    returns (method, path, body, rest) or None at EOF."""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk or len(data) > limit:
            return None
        data += chunk
    head, data = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    while len(data) < min(length, limit):
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
    parts = lines[0].split(" ")
    return (parts[0], parts[1] if len(parts) > 1 else "/", data[:length], data[length:])


def http_script(conn, opts):
    """Answers the requests on each connection with opts["replies"] in order
    (the last one repeats): {"send": latin-1 text, "close": bool}. A close is
    a FIN that travels with the reply's last bytes (TCP_CORK), so the client
    sees the end of the connection as soon as the reply. Every request is
    logged before it is answered, as {"request": method, "path", "body",
    "connection", "index"}; a request for /count logs {"count": requests
    logged so far}, so a test knows every earlier line is already written."""
    replies = opts["replies"]
    with COUNTER_LOCK:
        number = COUNTER["connections"]
        COUNTER["connections"] += 1
    data = b""
    index = 0
    while True:
        req = read_request_body(conn, data)
        if req is None:
            return
        method, path, body, data = req
        if path == "/count":
            with COUNTER_LOCK:
                log({"count": COUNTER["requests"]})
            conn.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")
            continue
        with COUNTER_LOCK:
            COUNTER["requests"] += 1
            log({"request": method, "path": path, "body": body.decode("latin-1"),
                 "connection": number, "index": index})
        reply = replies[min(index, len(replies) - 1)]
        index += 1
        if reply.get("close"):
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
            conn.sendall(reply["send"].encode("latin-1"))
            conn.shutdown(socket.SHUT_WR)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 0)
            # Read on until the client closes: unread bytes would turn the close into RST.
            hold(conn)
            return
        conn.sendall(reply["send"].encode("latin-1"))


def garbage(conn, opts):
    """Answers anything (a TLS ClientHello included) with random bytes, then holds."""
    conn.recv(65536)
    conn.sendall(os.urandom(opts.get("bytes", 4096)))
    hold(conn)


# --- TCP echo -------------------------------------------------------------

def echo_wrong(conn, opts):
    """Echoes every byte with its lowest bit flipped at every `every`-th position."""
    every = opts.get("every", 7)
    pos = 0
    while True:
        data = conn.recv(65536)
        if not data:
            return
        out = bytearray(data)
        for i in range((every - pos % every) % every, len(out), every):
            out[i] ^= 1
        pos += len(out)
        conn.sendall(out)


def echo_half(conn, opts):
    """Echoes the first `limit` bytes, then reads on without answering (or closes)."""
    limit = opts["limit"]
    echoed = 0
    while echoed < limit:
        data = conn.recv(min(65536, limit - echoed))
        if not data:
            return
        conn.sendall(data)
        echoed += len(data)
    if opts.get("then") == "close":
        # A FIN, not a reset: read on, so no unread byte turns the close into RST.
        conn.shutdown(socket.SHUT_WR)
    hold(conn)


def echo_reset(conn, opts):
    """Echoes the first `limit` bytes, then resets the connection (RST)."""
    limit = opts["limit"]
    echoed = 0
    while echoed < limit:
        data = conn.recv(min(65536, limit - echoed))
        if not data:
            return
        conn.sendall(data)
        echoed += len(data)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def no_read(conn, opts):
    """Accepts and never reads; closes when told (never, by default)."""
    time.sleep(opts.get("seconds", 3600))


# --- UDP ping -------------------------------------------------------------

def udp_mixed(opts):
    """Answers ping number `seq` as opts["plan"][seq] says (echo beyond the plan):
    "hold" (send it after the next ping's answer), "dup" (twice), "late" (before
    the answer to the first ping that arrives more than opts["late"] seconds
    after it: it left before the peer had it, so its echo is that late
    whatever the load, where a timer's echo may also leave after the run
    ended), "cut" (half of it), "foreign" (from another port), "oversize"
    (padded to 65,507 bytes), "drop" (never), "echo"."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((HOST, 0))
    other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    other.bind((HOST, 0))
    ready(s.getsockname()[1], other.getsockname()[1])
    plan = opts.get("plan", [])
    late_s = opts.get("late", 1.0)
    held = None
    late = []
    while True:
        data, addr = s.recvfrom(65536)
        now = time.monotonic()
        while late and now - late[0][0] > late_s:
            s.sendto(*late.pop(0)[1:])
        if len(data) < 12:
            continue
        seq = struct.unpack(">I", data[8:12])[0]
        action = plan[seq] if seq < len(plan) else "echo"
        if action == "hold":
            held = (data, addr)
            continue
        if action == "echo":
            s.sendto(data, addr)
        elif action == "dup":
            s.sendto(data, addr)
            s.sendto(data, addr)
        elif action == "late":
            late.append((now, data, addr))
        elif action == "cut":
            s.sendto(data[: len(data) // 2], addr)
        elif action == "foreign":
            other.sendto(data, addr)
        elif action == "oversize":
            s.sendto(data + bytes(65507 - len(data)), addr)
        if held is not None:
            s.sendto(*held)
            held = None


def udp_junk_storm(opts):
    """Echoes each ping after `junk` random datagrams of 1,400 bytes."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((HOST, 0))
    ready(s.getsockname()[1])
    junk = opts.get("junk", 200)
    noise = os.urandom(1400)
    while True:
        data, addr = s.recvfrom(65536)
        for _ in range(junk):
            s.sendto(noise, addr)
        s.sendto(data, addr)


# --- file-send ------------------------------------------------------------

def file_sender(opts):
    """A hand-made file-send sender: header (name, announced size), `send` bytes,
    a trailer (good, bad or none), then `then`: read the answer, hold or sleep.
    Prints what the receiver answered as JSON. With "jobs", one transfer per
    job (each merged over the other options), one after another."""
    jobs = opts.pop("jobs", None)
    if jobs is None:
        send_one(opts, True)
        return
    ready(0)
    for job in jobs:
        send_one({**opts, **job}, False)


def send_one(opts, announce_ready):
    import hashlib

    name = bytes.fromhex(opts["name_hex"]) if "name_hex" in opts else opts["name"].encode("utf-8")
    announce = opts["announce"]
    send = opts["send"]
    started = time.monotonic()
    conn = socket.create_connection((HOST, opts["port"]))
    header = b"WTFS" + struct.pack(">BHQ", 1, opts.get("name_length", len(name)), announce) + name
    conn.sendall(header)
    digest = hashlib.sha256()
    block = bytes(range(256)) * 256
    sent = 0
    if announce_ready:
        ready(conn.getsockname()[1])
    try:
        while sent < send:
            n = min(len(block), send - sent)
            if opts.get("pace") and sent >= opts["pace_after"]:
                time.sleep(opts["pace"])
            conn.sendall(block[:n])
            digest.update(block[:n])
            sent += n
        trailer = opts.get("trailer", "good")
        if trailer == "good":
            conn.sendall(b"WTFE" + digest.digest())
        elif trailer == "bad":
            conn.sendall(b"WTFE" + bytes(32))
        then = opts.get("then", "answer")
        if then == "hold":
            log({"event": "sent", "bytes": sent})
            time.sleep(3600)
        if then == "close":
            conn.shutdown(socket.SHUT_WR)
        answer = b""
        conn.settimeout(opts.get("answer_timeout", 10))
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            answer += chunk
    except (BrokenPipeError, ConnectionResetError) as error:
        log({"event": "error", "error": type(error).__name__, "bytes": sent, "ms": elapsed(started)})
        return
    except socket.timeout:
        log({"event": "error", "error": "timeout", "bytes": sent, "ms": elapsed(started)})
        return
    body = answer[7:].decode("utf-8", "replace") if answer[:4] == b"WTFA" else ""
    log({
        "event": "answer",
        "bytes": sent,
        "ms": elapsed(started),
        "ok": answer[4:5] == b"\x00",
        "ack": json.loads(body) if body else None,
    })


def elapsed(started):
    return round((time.monotonic() - started) * 1000, 1)


def file_no_ack(conn, opts):
    """A receiver that reads everything and never acknowledges."""
    hold(conn)


def file_bad_ack(conn, opts):
    """A receiver that reads the header, then answers nonsense."""
    conn.recv(65536)
    conn.sendall(b"WTFA\x00\xff\xff" + b"x" * 100)
    hold(conn)


# --- clients that abuse our servers ---------------------------------------

def abusive_clients(opts):
    """Opens `half`, `reset`, `idle` and `slow` connections to a server at `port`:
    half-close after sending (and read the echo to EOF), reset after sending,
    connect and idle (report when the server closes them), and trickle one byte
    per `interval` seconds. Prints one JSON line per group when it is done."""
    port = opts["port"]
    payload = os.urandom(opts.get("payload", 1000))
    results = {"half_ok": 0, "half_bad": 0, "reset": 0, "idle_closed_ms": [], "slow_closed_ms": []}
    lock = threading.Lock()

    def half():
        c = socket.create_connection((HOST, port))
        c.sendall(payload)
        c.shutdown(socket.SHUT_WR)
        got = b""
        c.settimeout(30)
        while True:
            chunk = c.recv(65536)
            if not chunk:
                break
            got += chunk
        c.close()
        with lock:
            results["half_ok" if got == payload else "half_bad"] += 1

    def reset():
        c = socket.create_connection((HOST, port))
        c.sendall(payload)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()
        with lock:
            results["reset"] += 1

    def idle(key, trickle):
        c = socket.create_connection((HOST, port))
        start = time.monotonic()
        c.settimeout(trickle or 60)
        while True:
            try:
                chunk = c.recv(65536)
                if not chunk:
                    break
            except socket.timeout:
                if time.monotonic() - start > 60:
                    break
                try:
                    c.sendall(b"G")
                except OSError:
                    break
            except OSError:
                break
        with lock:
            results[key].append(round((time.monotonic() - start) * 1000))
        c.close()

    threads = []
    for _ in range(opts.get("idle", 0)):
        threads.append(threading.Thread(target=idle, args=("idle_closed_ms", None)))
    for _ in range(opts.get("slow", 0)):
        threads.append(threading.Thread(target=idle, args=("slow_closed_ms", opts.get("interval", 0.5))))
    for _ in range(opts.get("half", 0)):
        threads.append(threading.Thread(target=half))
    for _ in range(opts.get("reset", 0)):
        threads.append(threading.Thread(target=reset))
    ready(0)
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    log(results)


def http_clients(opts):
    """`clients` threads, each sending `requests` GETs on one keep-alive
    connection to `port` and checking each answer is 200 with body `body`."""
    port = opts["port"]
    expected = opts["body"].encode()
    results = {"ok": 0, "bad": 0, "errors": []}
    lock = threading.Lock()
    start = threading.Barrier(opts["clients"])

    def client():
        try:
            c = socket.create_connection((HOST, port))
            c.settimeout(30)
            start.wait(30)
            data = b""
            for _ in range(opts["requests"]):
                c.sendall(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
                while b"\r\n\r\n" not in data:
                    chunk = c.recv(65536)
                    if not chunk:
                        raise ConnectionError("closed before a response")
                    data += chunk
                head, data = data.split(b"\r\n\r\n", 1)
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                while len(data) < length:
                    chunk = c.recv(65536)
                    if not chunk:
                        raise ConnectionError("closed inside a body")
                    data += chunk
                body, data = data[:length], data[length:]
                good = head.startswith(b"HTTP/1.1 200 ") and body == expected
                with lock:
                    results["ok" if good else "bad"] += 1
            c.close()
        except Exception as error:  # noqa: BLE001 - reported, not hidden
            with lock:
                results["errors"].append(repr(error))

    threads = [threading.Thread(target=client) for _ in range(opts["clients"])]
    ready(0)
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    results["errors"] = results["errors"][:5]
    log(results)


def file_senders(opts):
    """`clients` threads, each sending `size` bytes as file "f<i>.bin" to the
    file-send receiver at `port` and reading its acknowledgement."""
    import hashlib

    port = opts["port"]
    size = opts["size"]
    block = (bytes(range(256)) * (65536 // 256))
    results = {"ok": 0, "refused": 0, "errors": []}
    lock = threading.Lock()
    start = threading.Barrier(opts["clients"])

    def sender(i):
        try:
            name = ("f%d.bin" % i).encode()
            c = socket.create_connection((HOST, port))
            c.settimeout(30)
            start.wait(30)
            c.sendall(b"WTFS" + struct.pack(">BHQ", 1, len(name), size) + name)
            digest = hashlib.sha256()
            sent = 0
            while sent < size:
                piece = block[: min(len(block), size - sent)]
                c.sendall(piece)
                digest.update(piece)
                sent += len(piece)
            c.sendall(b"WTFE" + digest.digest())
            answer = b""
            while True:
                chunk = c.recv(65536)
                if not chunk:
                    break
                answer += chunk
            c.close()
            with lock:
                results["ok" if answer[4:5] == b"\x00" else "refused"] += 1
        except Exception as error:  # noqa: BLE001 - reported, not hidden
            with lock:
                results["errors"].append(repr(error))

    threads = [threading.Thread(target=sender, args=(i,)) for i in range(opts["clients"])]
    ready(0)
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    results["errors"] = results["errors"][:5]
    log(results)


def udp_flood(opts):
    """Sends `count` datagrams of `size` bytes to `port` as fast as it can."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((HOST, 0))
    s.setblocking(True)
    payload = os.urandom(opts.get("size", 64))
    target = (HOST, opts["port"])
    ready(s.getsockname()[1])
    sent = 0
    for _ in range(opts["count"]):
        try:
            s.sendto(payload, target)
            sent += 1
        except OSError:
            pass
    log({"sent": sent})


TCP_MODES = {
    "http-silent": http_silent,
    "http-slowloris": http_slowloris,
    "http-endless-headers": http_endless_headers,
    "http-huge-body": http_huge_body,
    "http-raw": http_raw,
    "http-redirect": http_redirect,
    "http-script": http_script,
    "garbage": garbage,
    "echo-wrong": echo_wrong,
    "echo-half": echo_half,
    "echo-reset": echo_reset,
    "no-read": no_read,
    "file-no-ack": file_no_ack,
    "file-bad-ack": file_bad_ack,
}

OTHER_MODES = {
    "udp-mixed": udp_mixed,
    "udp-junk-storm": udp_junk_storm,
    "file-sender": file_sender,
    "abusive-clients": abusive_clients,
    "udp-flood": udp_flood,
    "http-clients": http_clients,
    "file-senders": file_senders,
}


def main():
    mode = sys.argv[1]
    opts = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    if mode in TCP_MODES:
        serve_tcp(TCP_MODES[mode], opts)
    else:
        OTHER_MODES[mode](opts)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
