"""The seeds' UDP echo server: recvfrom(1024), sendto the sender. Prints
its port as a JSON line.

    python3 python_udp_echo_server.py <port>
"""
import json
import socket
import sys

sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("127.0.0.1", int(sys.argv[1])))
print(json.dumps({"event": "listening", "port": sock.getsockname()[1]}), flush=True)
while True:
    data, addr = sock.recvfrom(1024)
    sock.sendto(data, addr)
