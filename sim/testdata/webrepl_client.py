# A WebREPL client for the tests, on Debian's python3-websocket: log in,
# run a command, put a file and get it back, ask the version. It prints
# one line per step for the Go test to check.
import struct
import sys

import websocket

url, password = sys.argv[1], sys.argv[2]
ws = websocket.create_connection(url, timeout=20)


def read_until(marker):
    got = ""
    while marker not in got:
        try:
            got += ws.recv()
        except websocket.WebSocketConnectionClosedException:
            break
    return got


print("prompt", repr(ws.recv()))
ws.send(password + "\r")
got = read_until(">>> ")
print("login", "WebREPL connected" in got)
if "Access denied" in got or "WebREPL connected" not in got:
    sys.exit(0)
ws.send("print(6 * 7)\r")
print("command", repr(read_until("\n>>> ").split("\n")[-2].strip()))


def header(op, name, size=0):
    n = name.encode()
    return struct.pack("<2sBBQLH64s", b"WA", op, 0, 0, size, len(n), n)


def resp():
    r = ws.recv()
    return r[:2] == b"WB" and struct.unpack("<H", r[2:4])[0]


data = b"hello from the host\n" * 20
ws.send_binary(header(1, "up.txt", len(data)))
print("put open", resp())
for i in range(0, len(data), 64):
    ws.send_binary(data[i : i + 64])
print("put done", resp())

ws.send_binary(header(2, "up.txt"))
print("get open", resp())
back = b""
while True:
    ws.send_binary(b"\0")
    chunk = ws.recv()
    (n,) = struct.unpack("<H", chunk[:2])
    if n == 0:
        break
    back += chunk[2 : 2 + n]
print("get done", resp(), back == data, len(back))

ws.send_binary(header(3, ""))
print("version", tuple(ws.recv()))
ws.send("import os; print(os.stat('up.txt')[6])\r")
print("size on board", read_until("\n>>> ").split("\n")[-2].strip())
ws.close()
