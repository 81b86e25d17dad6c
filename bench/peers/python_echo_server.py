"""asyncio echo server (the seeds' language and event loop): read, write,
drain, until the peer closes. Prints its port as a JSON line.

    python3 python_echo_server.py <port>
"""
import asyncio
import json
import sys


async def handle(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", int(sys.argv[1]))
    port = server.sockets[0].getsockname()[1]
    print(json.dumps({"event": "listening", "port": port}), flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
