# asyncio TCP server and client: start_server() and open_connection(),
# line-based echo with readline(), then the client closes and the server
# sees EOF.

try:
    import asyncio
except ImportError:
    print("SKIP")
    raise SystemExit

PORT = 8000


async def handle(reader, writer):
    while True:
        line = await reader.readline()
        if not line:
            break
        print("server echo", line)
        writer.write(line.upper())
        await writer.drain()
    print("server got EOF")
    writer.close()
    await writer.wait_closed()
    done.set()


async def server():
    global done
    done = asyncio.Event()
    srv = await asyncio.start_server(handle, "0.0.0.0", PORT)
    print("server running")
    multitest.next()
    async with srv:
        await asyncio.wait_for(done.wait(), 30)
    print("server done")


async def client():
    reader, writer = await asyncio.open_connection(IP, PORT)
    for msg in (b"first\n", b"second\n", b"third\n"):
        writer.write(msg)
        await writer.drain()
        print("client got", await reader.readline())
    writer.close()
    await writer.wait_closed()
    print("client closed")


def instance0():
    multitest.globals(IP=multitest.get_network_ip())
    asyncio.run(server())


def instance1():
    multitest.next()
    asyncio.run(client())
