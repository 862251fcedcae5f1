# A WebREPL client for the tests, on Debian's python3-websocket: log in,
# stop the board's sleep loop with Ctrl-C, answer its input() and
# interrupt the next read with Ctrl-C. It
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
ws.send("\x03")
print("stop", repr(read_until("stopped\r\n")))
ws.send("Ada\r")
print("answer", repr(read_until("hello Ada\r\n")))
ws.send("\x03")
print("interrupt", repr(read_until("interrupted\r\n")))
ws.close()
