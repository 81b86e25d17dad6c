"""The seeds' file receiver: accept one connection, write everything until
EOF into a file, 1 KiB per recv. No header, no checksum.

    python3 receive_file.py <port> <file>
"""
import socket
import sys

srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", int(sys.argv[1])))
srv.listen(1)
conn, _ = srv.accept()
with open(sys.argv[2], "wb") as f:
    while True:
        data = conn.recv(1024)
        if not data:
            break
        f.write(data)
conn.close()
srv.close()
