# An HTTP/1.1 keep-alive server answering its Nth request with the Nth status
# of a comma-separated list (cycling), each head the same length ("OK" as
# every reason phrase), so only the status digits differ between heads.
# Prints "req <status>" per answer. Bounded: exits after 60 s.
import socket, sys, threading, time

port = int(sys.argv[1])
statuses = [int(s) for s in sys.argv[2].split(",")]
deadline = time.monotonic() + 60
count = 0
lock = threading.Lock()


def serve(conn):
    global count
    conn.settimeout(30)
    buf = b""
    try:
        while True:
            while b"\r\n\r\n" not in buf:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buf += chunk
            _, buf = buf.split(b"\r\n\r\n", 1)
            with lock:
                status = statuses[count % len(statuses)]
                count += 1
                print(f"req {status}", flush=True)
            conn.sendall(b"HTTP/1.1 %d OK\r\nContent-Length: 2\r\n\r\nok" % status)
    except OSError:
        pass
    finally:
        conn.close()


server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", port))
server.listen(16)
server.settimeout(1)
while time.monotonic() < deadline:
    try:
        conn, _ = server.accept()
    except socket.timeout:
        continue
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
