"""A file-send (framed mode) receiver written from PROTOCOL.md alone, stdlib only.

usage: wtfs_receive.py PORT DIR [MAX_BYTES] [TRANSFERS]

Listens on 127.0.0.1:PORT, receives TRANSFERS connections (default 1) one after another
into DIR and prints one JSON line per connection: the acknowledgement it sent.
"""
import hashlib
import json
import os
import re
import socket
import struct
import sys
import time
import uuid

IDLE_SECONDS = 30
MAX_SIZE = 2**53 - 1
TEMP = re.compile(r"^\.wiretest-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.part$")


class Refusal(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def read_exactly(conn, n, where):
    data = bytearray()
    while len(data) < n:
        try:
            chunk = conn.recv(min(65536, n - len(data)))
        except socket.timeout:
            raise Refusal("stalled", f"Cannot receive file: the sender stalled in the {where}")
        if not chunk:
            raise Refusal("truncated", f"Cannot receive file: connection closed in the {where}")
        data += chunk
    return bytes(data)


# Unicode's default-ignorable code points (DerivedCoreProperties.txt), the
# variation selectors U+FE00-FE0F and U+E0100-E01EF left out.
INVISIBLE = [(0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160),
             (0x17B4, 0x17B5), (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E),
             (0x2060, 0x206F), (0x3164, 0x3164), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0),
             (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A), (0xE0000, 0xE00FF),
             (0xE01F0, 0xE0FFF)]


def invisible(c):
    return any(lo <= ord(c) <= hi for lo, hi in INVISIBLE)


def name_problem(name):
    if any(ord(c) == 0 or 0x01 <= ord(c) <= 0x1F or 0x7F <= ord(c) <= 0x9F for c in name):
        return "it contains a control character"
    if any(ord(c) in (0x2028, 0x2029) for c in name):
        return "it contains a line or paragraph separator"
    if any(invisible(c) for c in name):
        return "it contains an invisible or text-direction character"
    if "/" in name or "\\" in name:
        return "it contains a path separator"
    if name in (".", ".."):
        return "it is a relative path"
    if re.match(r"^[A-Za-z]:", name):
        return "it starts with a drive letter"
    if TEMP.match(name):
        return "it is reserved for temporary files"
    return None


def ack(conn, status, body):
    payload = json.dumps(body).encode("utf-8")[:4096]
    conn.sendall(b"WTFA" + struct.pack(">BH", status, len(payload)) + payload)


def receive(conn, directory, max_bytes):
    fixed = read_exactly(conn, 15, "header")
    if fixed[:4] != b"WTFS":
        raise Refusal("protocol", "Cannot receive file: not a file-send header")
    version, name_length, size = struct.unpack(">BHQ", fixed[4:])
    if version != 1:
        raise Refusal("protocol", f"Cannot receive file: version {version} is not supported")
    if size > MAX_SIZE:
        raise Refusal("too-large", f"Cannot receive file: size {size} is too large")
    raw_name = read_exactly(conn, name_length, "header")
    try:
        name = raw_name.decode("utf-8")
    except UnicodeDecodeError:
        raise Refusal("bad-name", "Cannot receive file: the name is not UTF-8")
    if not 1 <= name_length <= 255:
        raise Refusal("bad-name", "Cannot receive file: the name is empty or too long")
    problem = name_problem(name)
    if problem:
        raise Refusal("bad-name", f"Cannot receive file {json.dumps(name)}: {problem}")
    if size > max_bytes:
        raise Refusal("too-large", f"Cannot receive file {json.dumps(name)}: over {max_bytes} bytes")
    target = os.path.join(directory, name)
    if os.path.lexists(target):
        raise Refusal("exists", f"Cannot receive file {json.dumps(name)}: it exists")
    temp = os.path.join(directory, f".wiretest-{uuid.uuid4()}.part")
    digest = hashlib.sha256()
    try:
        with open(temp, "xb") as out:
            left = size
            while left:
                chunk = read_exactly(conn, min(65536, left), "body")
                out.write(chunk)
                digest.update(chunk)
                left -= len(chunk)
            trailer = read_exactly(conn, 36, "trailer")
            if trailer[:4] != b"WTFE":
                raise Refusal("oversize", f"Cannot receive file {json.dumps(name)}: more than {size} bytes")
            if trailer[4:] != digest.digest():
                raise Refusal("sha256-mismatch", f"Cannot receive file {json.dumps(name)}: sha256 differs")
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(temp, target)
        except FileExistsError:
            raise Refusal("exists", f"Cannot store {json.dumps(name)}: it exists")
    finally:
        if os.path.exists(temp):
            os.remove(temp)
    return {"ok": True, "message": f"stored {json.dumps(name)}", "bytes": size, "sha256": digest.hexdigest()}


def linger_close(conn):
    try:
        conn.shutdown(socket.SHUT_WR)
        conn.settimeout(0.1)
        until = time.monotonic() + 1
        while time.monotonic() < until:
            try:
                if not conn.recv(65536):
                    break
            except socket.timeout:
                continue
    except OSError:
        pass
    conn.close()


def main():
    port, directory = int(sys.argv[1]), sys.argv[2]
    max_bytes = int(sys.argv[3]) if len(sys.argv) > 3 else 10 * 1024**3
    transfers = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(8)
    for _ in range(transfers):
        conn, _ = server.accept()
        conn.settimeout(IDLE_SECONDS)
        try:
            body = receive(conn, directory, max_bytes)
            ack(conn, 0, body)
            conn.close()
        except Refusal as refusal:
            body = {"ok": False, "code": refusal.code, "message": refusal.message}
            try:
                ack(conn, 1, body)
            except OSError:
                pass
            linger_close(conn)
        print(json.dumps(body))
        sys.stdout.flush()


main()
