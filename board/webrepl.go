package board

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"github.com/esp8266sim/esp8266sim/board/sockets"
)

// WebREPL: the _webrepl and websocket C modules and os.dupterm of the
// ESP8266 firmware, done in Go over the board's own socket table. The
// listening socket and the client connection are ordinary board sockets
// (they count against the lwIP PCB pool and show in the socket table).
// The board serves WebREPL whenever it waits (the REPL's prompt, input(),
// sys.stdin, time.sleep, a socket wait: Park and Sleep call serve): accept, the websocket handshake, the
// password, and file put/get/version records as binary frames
// (extmod/modwebrepl.c's protocol). A logged-in client's text frames are
// keys on the UART receive path (os.dupterm_notify fills the same stdin
// ring buffer as the UART on the board), and everything the board writes
// to its UART is echoed to it as text frames. A board with WebREPL started
// stays at its REPL after main.py even with no serial input.

// webreplKey holds a board's *webREPL.
type webreplKey struct{}

// webreplPoll is how often a waiting board looks at the WebREPL sockets
// (simulated time).
const webreplPoll = 20 * time.Millisecond

// Protocol constants of modwebrepl.c.
const (
	webreplPutFile = 1
	webreplGetFile = 2
	webreplGetVer  = 3
	webreplHdrLen  = 82 // "WA", type, flags, offset u64, size u32, name length u16, name[64]
	webreplMaxPass = 9
	wsGUID         = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
)

const (
	wrHandshake = iota
	wrPassword
	wrNormal
)

type webREPL struct {
	b        *Board
	t        *sockets.Table
	interp   any // the interpreter that started it; a soft reset ends it
	password string
	listen   int
	client   int
	state    int
	raw      []byte // received, not yet parsed
	typed    []byte // password so far
	input    []byte // REPL keys waiting
	// A file transfer in progress.
	op       byte
	opName   string
	opLeft   int
	opData   []byte
	frameBin bool // the last frame's payload was binary
	lastCR   bool // the last byte echoed was "\r"
	// busy is set while serve runs and sending while a frame is being
	// sent: the waits inside them (a full send window) must not serve the
	// client again.
	busy, sending bool
}

func init() {
	RegisterFunc("_webrepl", "start", func(b *Board, args []Value) (Value, error) {
		port, err := ArgInt(args, 0)
		if err != nil {
			return nil, err
		}
		pass, err := ArgStr(args, 1)
		if err != nil {
			return nil, err
		}
		return nil, b.startWebREPL(port, pass)
	})
	RegisterFunc("_webrepl", "stop", func(b *Board, args []Value) (Value, error) {
		b.stopWebREPL()
		return nil, nil
	})
}

// startWebREPL listens on port for WebREPL clients.
func (b *Board) startWebREPL(port int, password string) error {
	if len(password) > webreplMaxPass {
		return ValueError("")
	}
	b.stopWebREPL()
	t, err := b.SocketTable()
	if err != nil {
		return err
	}
	fd, err := t.Socket(2, 1, 0)
	if err != nil {
		return sockErr(err)
	}
	_, _ = t.SetSockOpt(fd, 1, 4, 1) // SO_REUSEADDR, as webrepl.py sets it
	if err := t.Bind(fd, "0.0.0.0", port); err != nil {
		t.Close(fd)
		return sockErr(err)
	}
	if err := t.Listen(fd, 1, true); err != nil {
		t.Close(fd)
		return sockErr(err)
	}
	_ = t.SetTimeout(fd, 0)
	b.SetValue(webreplKey{}, &webREPL{b: b, t: t, interp: any(b.mod), password: password, listen: fd, client: -1})
	return nil
}

// sockErr turns a socket table error into the OSError a script sees.
func sockErr(err error) error {
	if n := sockets.Errno(err); n != 0 {
		return OSError(n)
	}
	return err
}

// stopWebREPL closes the server's sockets, also those of an interpreter a
// soft reset replaced (the new boot.py's webrepl.start() rebinds the port).
func (b *Board) stopWebREPL() {
	w, _ := b.Value(webreplKey{}).(*webREPL)
	if w == nil {
		return
	}
	w.closeClient()
	w.t.Close(w.listen)
	b.SetValue(webreplKey{}, nil)
}

// webREPL is the board's running WebREPL, nil if none (or if it belongs to
// an interpreter a soft reset replaced).
func (b *Board) webREPL() *webREPL {
	w, _ := b.Value(webreplKey{}).(*webREPL)
	if w == nil || w.interp != any(b.mod) {
		return nil
	}
	return w
}

// duptermIdle is the board's WebREPL when a wait may serve it: running
// and not already being served or sent to further up the stack.
func (b *Board) duptermIdle() *webREPL {
	w := b.webREPL()
	if w == nil || w.busy || w.sending {
		return nil
	}
	return w
}

func (w *webREPL) closeClient() {
	if w.client >= 0 {
		w.t.Close(w.client)
	}
	w.client = -1
	w.raw, w.typed, w.input, w.op = nil, nil, nil, 0
	w.state = wrHandshake
}

// serve does the socket work that is waiting (accept, handshake, frames)
// without blocking, and hands the keys a logged-in client typed to the
// UART receive path, as os.dupterm_notify puts a dupterm stream's bytes in
// the stdin ring buffer on the board: the REPL, input() and sys.stdin then
// read them like serial keys, and the interrupt character raises
// KeyboardInterrupt. Board goroutine only.
func (w *webREPL) serve(ctx context.Context) {
	w.busy = true
	defer func() { w.busy = false }()
	for i := 0; i < 64; i++ {
		if !w.step(ctx) {
			break
		}
	}
	if len(w.input) > 0 {
		keys := w.input
		w.input = nil
		w.b.uartReceiveWaiting(keys)
	}
}

// step does one round of socket work; false when it found nothing to do.
func (w *webREPL) step(ctx context.Context) bool {
	if w.client >= 0 {
		// webrepl.py serves one client: another is told so and closed.
		if fd, host, port, err := w.t.Accept(ctx, w.listen); err == nil {
			w.b.cookedWrite([]byte(fmt.Sprintf("\nConcurrent WebREPL connection from ('%s', %d) rejected\n", host, port)))
			w.t.Close(fd)
			return true
		}
	}
	if w.client < 0 {
		fd, host, port, err := w.t.Accept(ctx, w.listen)
		if err != nil {
			return false
		}
		_ = w.t.SetTimeout(fd, 0)
		w.client = fd
		w.state = wrHandshake
		w.b.cookedWrite([]byte(fmt.Sprintf("\nWebREPL connection from: ('%s', %d)\n", host, port)))
		return true
	}
	buf := make([]byte, 512)
	n, err := w.t.Recv(ctx, w.client, buf, 0)
	if err != nil {
		if sockets.Errno(err) == sockets.EAGAIN {
			return false
		}
		w.closeClient()
		return true
	}
	if n == 0 {
		w.closeClient()
		return true
	}
	if len(w.raw) < 1<<20 {
		w.raw = append(w.raw, buf[:n]...)
	}
	w.parse(ctx)
	return true
}

// parse consumes what arrived: the HTTP upgrade, then websocket frames.
func (w *webREPL) parse(ctx context.Context) {
	if w.state == wrHandshake {
		end := strings.Index(string(w.raw), "\r\n\r\n")
		if end < 0 {
			return
		}
		req := string(w.raw[:end])
		w.raw = w.raw[end+4:]
		key, upgrade, ws := "", false, false
		for _, line := range strings.Split(req, "\r\n")[1:] {
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			switch {
			case k == "Sec-WebSocket-Key":
				key = v
			case k == "Connection" && strings.Contains(v, "Upgrade"):
				upgrade = true
			case k == "Upgrade" && v == "websocket":
				ws = true
			}
		}
		if !(upgrade && ws && key != "") {
			// webrepl.py answers a plain browser request with a page that
			// loads the client from micropython.org, then closes.
			w.send(ctx, []byte("HTTP/1.0 200 OK\r\n\r\n<base href=\"https://micropython.org/webrepl/\"></base>\r\n<script src=\"webrepl_content.js\"></script>\r\n"))
			w.closeClient()
			return
		}
		sum := sha1.Sum([]byte(key + wsGUID))
		w.send(ctx, []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "+base64.StdEncoding.EncodeToString(sum[:])+"\r\n\r\n"))
		w.state = wrPassword
		w.typed = nil
		w.frame(ctx, 1, []byte("Password: "))
	}
	for w.client >= 0 {
		op, payload, ok := w.nextFrame()
		if !ok {
			return
		}
		switch op {
		case 8: // close
			w.frame(ctx, 8, nil)
			w.closeClient()
			return
		case 9, 10: // ping, pong: modwebsocket.c ignores control frames
		case 1, 2, 0:
			w.data(ctx, op == 2, payload)
		}
	}
}

// nextFrame takes one complete client frame from raw (clients mask).
func (w *webREPL) nextFrame() (op byte, payload []byte, ok bool) {
	r := w.raw
	if len(r) < 2 {
		return 0, nil, false
	}
	op = r[0] & 0x0f
	n := int(r[1] & 0x7f)
	masked := r[1]&0x80 != 0
	i := 2
	switch n {
	case 126:
		if len(r) < 4 {
			return 0, nil, false
		}
		n, i = int(binary.BigEndian.Uint16(r[2:])), 4
	case 127:
		// modwebsocket.c does not take 64-bit lengths: it closes (EIO).
		w.closeClient()
		return 0, nil, false
	}
	var mask []byte
	if masked {
		if len(r) < i+4 {
			return 0, nil, false
		}
		mask = r[i : i+4]
		i += 4
	}
	if len(r) < i+n {
		return 0, nil, false
	}
	payload = append([]byte(nil), r[i:i+n]...)
	for j := range payload {
		if mask != nil {
			payload[j] ^= mask[j%4]
		}
	}
	w.raw = r[i+n:]
	if op == 0 && w.frameBin {
		op = 2
	}
	w.frameBin = op == 2
	return op, payload, true
}

// data handles a text or binary payload as modwebrepl.c does.
func (w *webREPL) data(ctx context.Context, binary bool, p []byte) {
	for len(p) > 0 && w.client >= 0 {
		if w.state == wrPassword {
			c := p[0]
			p = p[1:]
			if c != '\r' && c != '\n' {
				if len(w.typed) < 10 {
					w.typed = append(w.typed, c)
				}
				continue
			}
			if string(w.typed) != w.password || w.password == "" {
				w.frame(ctx, 1, []byte("\r\nAccess denied\r\n"))
				w.closeClient()
				return
			}
			w.state = wrNormal
			w.frame(ctx, 1, []byte("\r\nWebREPL connected\r\n>>> "))
			continue
		}
		if !binary {
			w.input = append(w.input, p...)
			return
		}
		p = w.fileData(ctx, p)
	}
}

// fileData consumes binary records: an 82-byte header, then a PUT's data
// or a GET's acknowledgements.
func (w *webREPL) fileData(ctx context.Context, p []byte) []byte {
	if w.op == 0 {
		need := webreplHdrLen - len(w.opData)
		take := min(need, len(p))
		w.opData = append(w.opData, p[:take]...)
		p = p[take:]
		if len(w.opData) < webreplHdrLen {
			return p
		}
		h := w.opData
		w.opData = nil
		if h[0] != 'W' || h[1] != 'A' {
			return p
		}
		typ := h[2]
		size := int(binary.LittleEndian.Uint32(h[12:]))
		nameLen := min(int(binary.LittleEndian.Uint16(h[16:])), 64)
		name := string(h[18 : 18+nameLen])
		if i := strings.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		switch typ {
		case webreplGetVer:
			w.frame(ctx, 2, []byte{1, 27, 0})
		case webreplPutFile:
			if w.b.fileOp(name, nil, true) != 0 {
				w.frame(ctx, 2, []byte{'W', 'B', 1, 0})
				return p
			}
			w.frame(ctx, 2, []byte{'W', 'B', 0, 0})
			w.op, w.opName, w.opLeft = typ, name, size
			if size == 0 {
				w.finishFile(ctx)
			}
		case webreplGetFile:
			data, ok := w.b.readFlash(name)
			if !ok {
				w.frame(ctx, 2, []byte{'W', 'B', 1, 0})
				return p
			}
			w.frame(ctx, 2, []byte{'W', 'B', 0, 0})
			w.op, w.opName, w.opData = typ, name, data
		}
		return p
	}
	switch w.op {
	case webreplPutFile:
		take := min(w.opLeft, len(p))
		w.opData = append(w.opData, p[:take]...)
		w.opLeft -= take
		p = p[take:]
		if w.opLeft == 0 {
			w.b.fileOp(w.opName, w.opData, false)
			w.finishFile(ctx)
		}
	case webreplGetFile:
		// Each zero byte from the client asks for the next chunk, sent
		// with a 2-byte little-endian length; an empty chunk ends it.
		p = p[1:]
		chunk := w.opData[:min(256, len(w.opData))]
		w.opData = w.opData[len(chunk):]
		w.frame(ctx, 2, append([]byte{byte(len(chunk)), byte(len(chunk) >> 8)}, chunk...))
		if len(chunk) == 0 {
			w.finishFile(ctx)
		}
	}
	return p
}

func (w *webREPL) finishFile(ctx context.Context) {
	w.op, w.opName, w.opData, w.opLeft = 0, "", nil, 0
	w.frame(ctx, 2, []byte{'W', 'B', 0, 0})
}

// fileOp creates (check) or writes a flash file for a PUT; 0 or an errno.
func (b *Board) fileOp(name string, data []byte, check bool) int {
	p := cleanPath("/", name)
	now := b.clock.Now()
	f, e := b.fs.open(p, true, true, false, true, now)
	if e != 0 || check {
		return e
	}
	_, e = b.fs.writeAt(f, 0, data, now)
	return e
}

// readFlash returns a flash file's content for a GET.
func (b *Board) readFlash(name string) ([]byte, bool) {
	p := cleanPath("/", name)
	f, e := b.fs.open(p, false, false, false, false, b.clock.Now())
	if e != 0 {
		return nil, false
	}
	buf := make([]byte, b.fs.size(f))
	b.fs.readAt(f, 0, buf)
	return buf, true
}

// frame sends one unmasked server frame.
func (w *webREPL) frame(ctx context.Context, op byte, payload []byte) {
	if w.client < 0 {
		return
	}
	h := []byte{0x80 | op}
	switch n := len(payload); {
	case n < 126:
		h = append(h, byte(n))
	case n < 1<<16:
		h = append(h, 126, byte(n>>8), byte(n))
	default:
		h = append(h, 127)
		h = binary.BigEndian.AppendUint64(h, uint64(n))
	}
	w.send(ctx, append(h, payload...))
}

func (w *webREPL) send(ctx context.Context, p []byte) {
	if w.client < 0 || w.sending {
		return
	}
	w.sending = true
	defer func() { w.sending = false }()
	_ = w.t.SetTimeout(w.client, -1)
	err := w.t.SendAll(ctx, w.client, p)
	_ = w.t.SetTimeout(w.client, 0)
	if err != nil {
		w.closeClient()
	}
}

// echo copies the UART's output to a logged-in client (os.dupterm: the
// board's mp_hal_stdout_tx_strn writes to every dupterm stream). The board
// writes cooked text ("\r\n"); a board without serial input keeps "\n"
// on its console (see cookedWrite), so its lone "\n" become "\r\n" here,
// as the board would have sent them.
func (w *webREPL) echo(p []byte) {
	if w.client < 0 || w.state != wrNormal || len(p) == 0 {
		return
	}
	if !w.b.cooked {
		var out []byte
		for _, c := range p {
			if c == '\n' && !w.lastCR {
				out = append(out, '\r')
			}
			out = append(out, c)
			w.lastCR = c == '\r'
		}
		p = out
	}
	w.frame(w.b.Context(), 1, p)
}
