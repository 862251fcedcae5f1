package board

import "testing"

// wsStreams are the streams the websocket cases read from: Chunks gives
// its input a piece per read (as a socket whose bytes arrive in bursts)
// and records what the websocket writes, setblocking calls and closes.
// They are io.IOBase subclasses, the streams the C module takes from
// Python code.
const wsStreams = `import io, websocket
class Chunks(io.IOBase):
    def __init__(self, *chunks):
        self.chunks = list(chunks)
        self.out = b""
    def readinto(self, b):
        if not self.chunks:
            return 0
        c = self.chunks[0]
        n = min(len(b), len(c))
        b[:n] = c[:n]
        if n < len(c):
            self.chunks[0] = c[n:]
        else:
            self.chunks.pop(0)
        return n
    def write(self, b):
        self.out += bytes(b)
        return len(b)
    def setblocking(self, f):
        print("setblocking", f)
    def ioctl(self, req, arg):
        print("stream ioctl", req)
        return 0
def ws(*chunks):
    return websocket.websocket(Chunks(*chunks))
`

// The expected consoles follow extmod/modwebsocket.c's state machine and
// py/stream.c's loops (mp_stream_rw, stream_readall,
// stream_unbuffered_readline), worked by hand from the C source.
func TestWebsocketReadsAcrossFrames(t *testing.T) {
	runScripts(t, []scriptCase{
		// read(n) goes on into the next frames until n bytes or the end.
		{"read(n) spans fragments", wsStreams + `w = ws(b"\x01\x03abc\x00\x02de\x80\x01f")
print(w.read(4), w.read(10), w.read(1), w.ioctl(8))
`, "b'abcd' b'ef' b'' 1\n"},
		// read() to the end: an empty data frame is not the end.
		{"read() to the end", wsStreams + `w = ws(b"\x82\x02ab\x82\x00\x82\x01c")
print(w.read(), w.ioctl(8))
`, "b'abc' 2\n"},
		{"readinto spans frames", wsStreams + `w = ws(b"\x81\x02ab\x81\x03cde\x81\x01f")
b = bytearray(5)
print(w.readinto(b), b)
b = bytearray(4)
print(w.readinto(b, 2), b)
`, "5 bytearray(b'abcde')\n1 bytearray(b'f\\x00\\x00\\x00')\n"},
		{"readline spans frames", wsStreams + `w = ws(b"\x81\x02he\x81\x06llo\nwo")
print(w.readline(), w.readline(), w.readline())
`, "b'hello\\n' b'wo' b''\n"},
		// The mask position carries over partial reads of a frame.
		{"masked frame read in parts", wsStreams + `m = b"\x01\x02\x03\x04"
p = bytes(c ^ m[i % 4] for i, c in enumerate(b"hello"))
w = ws(b"\x81\x85" + m + p)
print(w.read(2), w.read(3))
w = ws(b"\x81\xfe\x00\x05" + m + p)
print(w.read(5))
`, "b'he' b'llo'\nb'hello'\n"},
	})
}

func TestWebsocketControlFrames(t *testing.T) {
	runScripts(t, []scriptCase{
		// Ping and pong are skipped, but their header sets what ioctl(8)
		// reports, and a continuation keeps that opcode.
		{"ping inside a fragmented message", wsStreams + `w = ws(b"\x01\x02ab\x89\x02xy\x80\x02cd")
print(w.read(4), w.ioctl(8))
`, "b'abcd' 9\n"},
		{"pong skipped", wsStreams + `print(ws(b"\x8a\x01p\x81\x01q").read(1))
`, "b'q'\n"},
		// A control payload longer than the read reaches the caller.
		{"control payload beyond the read", wsStreams + `w = ws(b"\x89\x03xyz\x81\x02ab")
print(w.read(2), w.read(2))
`, "b'xy' b'ab'\n"},
		// Close is answered with an empty close frame and reads as the end
		// of the stream; the frames after it are still read.
		{"close answered, then the end", wsStreams + `s = Chunks(b"\x88\x02\x03\xe8\x81\x02ab")
w = websocket.websocket(s)
print(w.read(5), s.out, w.read(5))
`, "b'' b'\\x88\\x00' b'ab'\n"},
		// blocking_write (True, not merely true) makes the socket blocking
		// around each frame sent, the close answer included.
		{"blocking write around the close answer", wsStreams + `s = Chunks(b"\x88\x00")
print(websocket.websocket(s, True).read(1))
print(websocket.websocket(Chunks(b"\x88\x00"), 1).read(1))
`, "setblocking True\nsetblocking False\nb''\nb''\n"},
	})
}

func TestWebsocketPartialReads(t *testing.T) {
	runScripts(t, []scriptCase{
		// A header that arrives in pieces is EAGAIN: None, even though the
		// stream would block; the state carries over to the next read.
		{"split header is EAGAIN", wsStreams + `w = ws(b"\x81", b"\x04", b"ab", b"cd")
print(w.read(4), w.read(4))
w = ws(b"\x81", b"\x7e\x00", b"\x05hello")
print(w.read(5), w.read(5), w.read(5))
`, "None b'abcd'\nNone None b'hello'\n"},
		// EAGAIN after some data gives the data.
		{"data then a split header", wsStreams + `w = ws(b"\x81\x01a", b"\x81", b"\x01b")
print(w.read(2), w.read(2))
w = ws(b"\x81\x01a", b"\x81", b"\x01b")
print(w.read(), w.read())
w = ws(b"\x81\x01a", b"\x81", b"\x01\n")
print(w.readline(), w.readline())
`, "b'a' b'b'\nb'a' b'b'\nb'a' b'\\n'\n"},
		{"64-bit length closes the stream", wsStreams + `w = ws(b"\x81\x7f" + bytes(8))
try:
    w.read(1)
except OSError as e:
    print("EIO", e.errno == 5)
`, "stream ioctl 4\nEIO True\n"},
	})
}

func TestWebsocketWriteAndIoctl(t *testing.T) {
	runScripts(t, []scriptCase{
		{"frame headers", wsStreams + `s = Chunks()
w = websocket.websocket(s)
print(w.write(b"x" * 125), s.out[:3])
s.out = b""
print(w.write("y" * 126), s.out[:5])
s.out = b""
print(w.write(b"abcdef", 2), w.write(b"abcdef", 1, 3), s.out)
`, "125 b'\\x81}x'\n126 b'\\x81~\\x00~y'\n2 3 b'\\x81\\x02ab\\x81\\x03bcd'\n"},
		{"ioctl", wsStreams + `s = Chunks()
w = websocket.websocket(s)
print(w.ioctl(8), w.ioctl(9, 2), w.ioctl(9, 0x12), w.ioctl(9))
w.ioctl(9, 2)
w.write(b"z")
print(s.out)
for r in (3, -1):
    try:
        w.ioctl(r)
    except OSError as e:
        print(r, e.errno == 22)
w.close()
print(w.ioctl(4))
`, "0 1 2 2\nb'\\x82\\x01z'\n3 True\n-1 True\nstream ioctl 4\nstream ioctl 4\n0\n"},
		// A stream to firmware code: print(file=) writes through it (a
		// frame per piece), and poll raises websocket_ioctl's EINVAL.
		{"a stream to the firmware", wsStreams + `import select
s = Chunks()
w = websocket.websocket(s)
print("hi", file=w)
print(s.out)
p = select.poll()
p.register(w, select.POLLIN)
try:
    p.poll(0)
except OSError as e:
    print("poll", e.errno)
`, "b'\\x81\\x02hi\\x81\\x01\\n'\npoll 22\n"},
		{"constructor", wsStreams + `for a, k in (((1,), {}), ((Chunks(),), {"x": 1}), ((Chunks(), 1, 2), {})):
    try:
        websocket.websocket(*a, **k)
    except Exception as e:
        print(type(e).__name__, e)
`, "OSError stream operation not supported\nTypeError function doesn't take keyword arguments\nTypeError function expected at most 2 arguments, got 3\n"},
	})
}
