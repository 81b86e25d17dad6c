"""The seeds' file sender: connect, write the file in 1 KiB chunks, close.

    python3 send_file.py <port> <file>
"""
import socket
import sys

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.connect(("127.0.0.1", int(sys.argv[1])))
with open(sys.argv[2], "rb") as f:
    while True:
        chunk = f.read(1024)
        if not chunk:
            break
        s.sendall(chunk)
s.close()
