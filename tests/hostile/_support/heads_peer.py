#!/usr/bin/env python3
"""An HTTP/1.1 peer that logs every request head it receives and answers
by path, for the credential tests of http-probe.

Usage: heads_peer.py [JSON options]
  {"redirects": {"/path": "Location value", ...}}  "{port}" in a Location is
  this peer's own port. Any other path answers 200 "ok".

Binds 127.0.0.1 on a free port, prints "READY <port>", then one JSON line
per request before answering it: {"path": ..., "headers": [[name, value], ...]}.
"""
import json
import socket
import sys
import threading


def log(obj):
    print(json.dumps(obj), flush=True)


def serve(conn, opts, port):
    data = b""
    try:
        while True:
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(4096)
                if not chunk or len(data) > 65536:
                    return
                data += chunk
            head, data = data.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            path = lines[0].split(" ")[1]
            headers = [[n.strip(), v.strip()] for n, _, v in (l.partition(":") for l in lines[1:])]
            log({"path": path, "headers": headers})
            location = opts.get("redirects", {}).get(path)
            if location is not None:
                location = location.replace("{port}", str(port))
                reply = "HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n" % location
            else:
                reply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
            conn.sendall(reply.encode("latin-1"))
    except OSError:
        pass
    finally:
        conn.close()


def main():
    opts = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    port = s.getsockname()[1]
    print("READY %d" % port, flush=True)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve, args=(conn, opts, port), daemon=True).start()


main()
