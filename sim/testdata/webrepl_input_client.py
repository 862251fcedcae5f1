# A WebREPL client for the tests, on Debian's python3-websocket: log in,
# answer the board's input() and interrupt the next one with Ctrl-C. It
# prints what the board sent back (repr, so "\r\n" shows) for the Go test.
import sys

import websocket

url, password = sys.argv[1], sys.argv[2]
ws = websocket.create_connection(url, timeout=20)


def read_until(marker):
    got = ""
    while marker not in got:
        got += ws.recv()
    return got


ws.recv()  # "Password: "
ws.send(password + "\r")
read_until(">>> ")
ws.send("Ada\r")
print("answer", repr(read_until("hello Ada\r\n")))
ws.send("\x03")
print("interrupt", repr(read_until("interrupted\r\n")))
ws.close()
