"""asyncio echo client: writes <bytes> random bytes in <chunk>-byte writes
(draining after each) while a second task reads the echo back and compares
it; prints the throughput as a JSON line. The clock runs from just before
connecting to the last byte of the echo.

    python3 python_echo_client.py <port> <bytes> <chunk>
"""
import asyncio
import json
import os
import socket
import sys
import time


async def main(port, total, chunk):
    payload = os.urandom(total)
    view = memoryview(payload)
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    async def send():
        for off in range(0, total, chunk):
            writer.write(view[off:off + chunk])
            await writer.drain()

    async def receive():
        got = 0
        mismatches = 0
        while got < total:
            data = await reader.read(65536)
            if not data:
                raise ConnectionError(f"closed after {got} bytes")
            # A bytes slice compares with memcmp; a memoryview slice item by item.
            if payload[got:got + len(data)] != data:
                mismatches += 1
            got += len(data)
        return got, mismatches

    sending = asyncio.create_task(send())
    got, mismatches = await receive()
    await sending
    seconds = time.perf_counter() - started
    writer.close()
    await writer.wait_closed()
    print(json.dumps({
        "bytes": got,
        "mismatches": mismatches,
        "seconds": seconds,
        "mib_s": got / seconds / 1048576,
    }))


asyncio.run(main(*map(int, sys.argv[1:4])))
