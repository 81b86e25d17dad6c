# An HTTP/1.1 server that answers N requests on a connection, says
# "Connection: close" on the Nth and closes it: a keep-alive client must
# open a new connection to go on. Prints "conn" for each connection it
# accepts and "req" for each request it answers. Bounded: exits after 120 s.
import socket, sys, threading, time

port = int(sys.argv[1])
every = int(sys.argv[2])
deadline = time.monotonic() + 120
lock = threading.Lock()


def say(word):
    with lock:
        print(word, flush=True)


def serve(conn):
    conn.settimeout(30)
    buf = b""
    answered = 0
    try:
        while answered < every:
            while b"\r\n\r\n" not in buf:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buf += chunk
            _, buf = buf.split(b"\r\n\r\n", 1)
            answered += 1
            last = answered == every
            body = b"hello"
            head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n" % len(body)
            if last:
                head += b"Connection: close\r\n"
            # Said before the answer goes out: once the client has its last
            # answer the test may stop this server, and a "req" printed after
            # sendall would be lost with it.
            say("req")
            conn.sendall(head + b"\r\n" + body)
    except OSError:
        pass
    finally:
        conn.close()


server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", port))
server.listen(128)
server.settimeout(0.5)
say("ready")
while time.monotonic() < deadline:
    try:
        conn, _ = server.accept()
    except socket.timeout:
        continue
    say("conn")
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
