# A UDP echo peer that drops every Nth datagram it receives (the Nth, 2Nth…)
# and echoes the rest (twice each with a fourth argument "dup"). On SIGTERM, or after its time limit (default 120 s),
# prints "received R dropped D echoed E" and exits. One blocking receive per
# datagram (no poll before it), so it keeps up with tens of thousands a second.
import signal, socket, sys

port = int(sys.argv[1])
every = int(sys.argv[2])
limit = int(float(sys.argv[3])) if len(sys.argv) > 3 else 120
copies = 2 if len(sys.argv) > 4 and sys.argv[4] == "dup" else 1


class Stop(Exception):
    pass


def stop(*_):
    raise Stop()


signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGALRM, stop)
signal.alarm(max(1, limit))
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 * 1024 * 1024)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 * 1024 * 1024)
sock.bind(("127.0.0.1", port))
buf = bytearray(65536)
view = memoryview(buf)
receive = sock.recvfrom_into
send = sock.sendto
received = dropped = echoed = 0
print("ready", flush=True)
try:
    while True:
        n, peer = receive(buf)
        received += 1
        if received % every == 0:
            dropped += 1
            continue
        for _ in range(copies):
            send(view[:n], peer)
        echoed += 1
except Stop:
    pass
print(f"received {received} dropped {dropped} echoed {echoed}", flush=True)
