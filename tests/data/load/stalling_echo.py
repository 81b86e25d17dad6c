# A TCP echo server that stalls 200 ms once a second: single-threaded, so
# while it sleeps no connection is served (the stall wrk2's analysis is about).
import selectors, socket, sys, time

port = int(sys.argv[1])
stall_s = float(sys.argv[2]) if len(sys.argv) > 2 else 0.2
every_s = float(sys.argv[3]) if len(sys.argv) > 3 else 1.0
deadline = time.monotonic() + 120  # bounded even if the test forgets it
sel = selectors.DefaultSelector()
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", port))
server.listen(128)
server.setblocking(False)
sel.register(server, selectors.EVENT_READ)
print("ready", flush=True)
next_stall = time.monotonic() + every_s
stalls = 0
while time.monotonic() < deadline:
    now = time.monotonic()
    if now >= next_stall:
        time.sleep(stall_s)
        stalls += 1
        next_stall = now + every_s
    for key, _ in sel.select(timeout=0.01):
        if key.fileobj is server:
            conn, _ = server.accept()
            conn.setblocking(False)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sel.register(conn, selectors.EVENT_READ)
        else:
            try:
                data = key.fileobj.recv(65536)
            except OSError:
                data = b""
            if data:
                key.fileobj.sendall(data)
            else:
                sel.unregister(key.fileobj)
                key.fileobj.close()
