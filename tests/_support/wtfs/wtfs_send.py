"""A file-send (framed mode) sender written from PROTOCOL.md alone, stdlib only.

usage: wtfs_send.py HOST PORT FILE NAME [IDLE_SECONDS]

Prints one JSON line, {"ok": bool, "code": str|null, "message": str, "ack": obj|null,
"sent": int}, and exits 0 when the receiver acknowledged exactly what was sent, 1 otherwise.
"""
import hashlib
import json
import os
import socket
import struct
import sys
import threading

CHUNK = 64 * 1024


class Reader(threading.Thread):
    """Reads the one acknowledgement while the main thread sends."""

    def __init__(self, sock):
        super().__init__(daemon=True)
        self.sock = sock
        self.ack = None  # (status, json object)
        self.error = None  # a protocol error code
        self.arrived = threading.Event()
        self.trailer_sent = False
        self.early = False

    def read_exactly(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                return data
            data += chunk
        return data

    def run(self):
        try:
            fixed = self.read_exactly(7)
            if len(fixed) == 0:
                self.error = "no-ack"
            elif len(fixed) < 7:
                self.error = "truncated"
            elif fixed[:4] != b"WTFA":
                self.error = "protocol"
            else:
                status, length = struct.unpack(">BH", fixed[4:])
                if length > 4096:
                    self.error = "protocol"
                else:
                    body = self.read_exactly(length)
                    if len(body) < length:
                        self.error = "truncated"
                    else:
                        try:
                            obj = json.loads(body.decode("utf-8"))
                            if not isinstance(obj, dict):
                                raise ValueError("not an object")
                            self.ack = (status, obj)
                            self.early = status == 0 and not self.trailer_sent
                        except ValueError:
                            self.error = "protocol"
        except OSError:
            self.error = "no-ack"
        self.arrived.set()


def result(ok, code, message, ack, sent):
    print(json.dumps({"ok": ok, "code": code, "message": message, "ack": ack, "sent": sent}))
    sys.stdout.flush()
    sys.exit(0 if ok else 1)


def main():
    host, port, path, name = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    idle = float(sys.argv[5]) if len(sys.argv) > 5 else 30.0
    name_bytes = name.encode("utf-8")
    size = os.path.getsize(path)
    sock = socket.create_connection((host, port), timeout=idle)
    reader = Reader(sock)
    reader.start()
    digest = hashlib.sha256()
    sent = 0

    def refused():
        return reader.arrived.is_set() and reader.ack is not None and reader.ack[0] != 0

    try:
        sock.sendall(b"WTFS" + struct.pack(">BHQ", 1, len(name_bytes), size) + name_bytes)
        with open(path, "rb") as f:
            while sent < size and not reader.arrived.is_set():
                chunk = f.read(min(CHUNK, size - sent))
                if not chunk:
                    break
                sock.sendall(chunk)
                digest.update(chunk)
                sent += len(chunk)
        if not reader.arrived.is_set():
            reader.trailer_sent = True
            sock.sendall(b"WTFE" + digest.digest())
            sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass  # A refusal closes the connection: its reason is in the acknowledgement.
    reader.arrived.wait(idle)
    sock.close()
    if not reader.arrived.is_set():
        result(False, "no-ack", "no acknowledgement within the idle timeout", None, sent)
    if reader.error is not None:
        result(False, reader.error, "no usable acknowledgement", None, sent)
    status, ack = reader.ack
    if status != 0:
        result(False, ack.get("code") or "rejected", ack.get("message", ""), ack, sent)
    if reader.early:
        result(False, "ack-mismatch", "acknowledged before the trailer was sent", ack, sent)
    if ack.get("bytes") != sent or ack.get("sha256") != digest.hexdigest() or sent != size:
        result(False, "ack-mismatch", "the acknowledgement contradicts what was sent", ack, sent)
    result(True, None, ack.get("message", ""), ack, sent)


main()
