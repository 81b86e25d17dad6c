# A UDP echo peer that drops every Nth datagram it receives (the Nth, 2Nth…)
# and echoes the rest. On SIGTERM, or after its time limit (default 120 s),
# prints "received R dropped D echoed E" and exits.
import signal, socket, sys, time

port = int(sys.argv[1])
every = int(sys.argv[2])
limit = float(sys.argv[3]) if len(sys.argv) > 3 else 120
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 * 1024 * 1024)
sock.bind(("127.0.0.1", port))
sock.settimeout(0.2)
received = dropped = echoed = 0
running = True


def stop(*_):
    global running
    running = False


signal.signal(signal.SIGTERM, stop)
print("ready", flush=True)
deadline = time.monotonic() + limit
while running and time.monotonic() < deadline:
    try:
        data, peer = sock.recvfrom(65536)
    except socket.timeout:
        continue
    except InterruptedError:
        continue
    received += 1
    if received % every == 0:
        dropped += 1
        continue
    sock.sendto(data, peer)
    echoed += 1
print(f"received {received} dropped {dropped} echoed {echoed}", flush=True)
