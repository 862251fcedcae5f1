package board

import (
	"bytes"
	"context"
	"fmt"
	"strings"
)

// The REPL, as the ESP8266 firmware's (MICROPY_REPL_EVENT_DRIVEN=0 in
// ports/esp8266/mpconfigport.h: the blocking pyexec_friendly_repl and
// pyexec_raw_repl of shared/runtime/pyexec.c, driven from main.c).
//
// The firmware we run is the event-driven build (mp_js_repl_process_char).
// Its friendly REPL, paste mode and raw REPL print the same bytes as the
// blocking ones, so characters go to it one at a time. What differs is done
// here:
//   - the REPL mode survives a soft reset (pyexec_mode_kind is a C global
//     on the board; here each boot is a fresh instance, so the host keeps it
//     and puts a fresh instance back in raw mode silently);
//   - raw-paste (Ctrl-E 'A' Ctrl-A in the raw REPL) reads stdin while it
//     compiles, which the event-driven build cannot (its stdin read is a
//     constant 0 and spins): the host speaks the raw-paste protocol
//     (window, flow control, end of data) and then runs the received text
//     through the firmware's own raw REPL, whose "OK" becomes raw-paste's
//     end-of-data acknowledgement; the rest of the framing is identical;
//   - a soft reboot prints the banner without the blank line of a hard boot.

const (
	ctrlA = 0x01
	ctrlB = 0x02
	ctrlC = 0x03
	ctrlD = 0x04
	ctrlE = 0x05
)

// replMode is pyexec_mode_kind.
type replMode int

const (
	friendlyREPL replMode = iota
	rawREPL
)

// rawPasteWindow is MICROPY_REPL_STDIN_BUFFER_MAX/2 (pyexec.c's default of
// 256: the ESP8266 port does not set it).
const rawPasteWindow = 128

// rawREPLBanner is what pyexec_raw_repl prints on entry.
const rawREPLBanner = "raw REPL; CTRL-B to exit\r\n"

// outFilter shapes what the firmware prints while the REPL drives it.
type outFilter struct {
	// mute drops everything.
	mute bool
	// drop is removed from the start of the output (then cleared).
	drop []byte
	// capture, when set, records the output too.
	capture *bytes.Buffer
}

// consoleWrite sends what the firmware writes to the UART.
func (b *Board) consoleWrite(p []byte) {
	if b.setupRec != nil {
		b.setupRec.console += len(p)
	}
	if b.bannerFix {
		p = bytes.ReplaceAll(p, []byte("; JS with Emscripten"), []byte("; ESP module with ESP8266"))
	}
	f := &b.out
	if f.mute || len(p) == 0 {
		return
	}
	for len(f.drop) > 0 && len(p) > 0 && p[0] == f.drop[0] {
		p, f.drop = p[1:], f.drop[1:]
	}
	f.drop = nil
	if f.capture != nil {
		f.capture.Write(p)
	}
	b.chargeConsole(len(p))
	b.uartTX(p)
}

// uartTX is the UART's transmit pin: the console, and a logged-in WebREPL
// client (os.dupterm duplicates the terminal's output).
func (b *Board) uartTX(p []byte) {
	if b.uart0Attached() {
		_, _ = b.console.Write(p)
	}
	b.duptermTX(p)
	if w := b.webREPL(); w != nil {
		w.echo(p)
	}
}

// cookedWrite writes text as mp_hal_stdout_tx_strn_cooked does on an
// interactive board: each "\n" becomes "\r\n".
func (b *Board) cookedWrite(p []byte) {
	if b.cooked && bytes.IndexByte(p, '\n') >= 0 {
		p = bytes.ReplaceAll(p, []byte("\n"), []byte("\r\n"))
	}
	b.consoleWrite(p)
}

// Python-level stdout and stderr (print, sys.stdout.write, the REPL's
// echo of values) reach the host on these file descriptors once
// setupConsole has moved them, so that they alone are cooked: the
// firmware's own REPL text already carries its "\r\n".
const (
	cookedStdout = 101
	cookedStderr = 102
)

// setupConsole installs the board's input(), help() and, on an interactive
// board, the cooked stdout.
func (b *Board) setupConsole(ctx context.Context) error {
	mod, err := b.importPy(ctx, "_esp8266")
	if err != nil {
		return err
	}
	fn, err := b.attrPy(ctx, mod, "_console")
	if err != nil {
		return err
	}
	v, err := b.callPy(ctx, fn, b.cooked)
	b.afterTopLevel(ctx)
	if err != nil {
		return err
	}
	if !b.cooked {
		return nil
	}
	ids, ok := v.(string)
	if !ok {
		return fmt.Errorf("board %s: console setup returned %T", b.cfg.Name, v)
	}
	var out, errOut uint32
	if _, err := fmt.Sscanf(ids, "%d %d", &out, &errOut); err != nil {
		return fmt.Errorf("board %s: console setup: %w", b.cfg.Name, err)
	}
	// The firmware's sys.stdout/sys.stderr are {base, fd} objects in static
	// memory (extmod/vfs_posix_file.c); only retarget ones that hold the
	// expected descriptor.
	for _, o := range []struct{ addr, from, to uint32 }{{out, 1, cookedStdout}, {errOut, 2, cookedStderr}} {
		if v, ok := b.mem.ReadUint32Le(o.addr + 4); ok && v == o.from {
			b.mem.WriteUint32Le(o.addr+4, o.to)
		}
	}
	return nil
}

// inisetupBootPy is the boot.py the ESP8266's first boot writes
// (ports/esp8266/modules/inisetup.py, setup()): comments and imports only.
const inisetupBootPy = `# This file is executed on every boot (including wake-boot from deepsleep)
#import esp
#esp.osdebug(None)
import os, machine
#os.dupterm(None, 1) # disable REPL on UART(0)
import gc
#import webrepl
#webrepl.start()
gc.collect()
`

// firstBootSetup writes boot.py on the board's first boot when the flash
// holds none, as inisetup.setup() does on a freshly flashed board.
func (b *Board) firstBootSetup() {
	if b.flashInitDone {
		return
	}
	b.flashInitDone = true
	if _, _, _, e := b.fs.stat("/boot.py"); e == 0 {
		return
	}
	if f, e := b.fs.open("/boot.py", true, true, false, true, b.clock.Now()); e == 0 {
		b.fs.writeAt(f, 0, []byte(inisetupBootPy), b.clock.Now())
	}
}

// repl runs the REPL until a soft or hard reset ("soft"/"hard") or the end
// of the input ("").
func (b *Board) repl(ctx context.Context, soft bool) (again string, err error) {
	defer func() { b.out = outFilter{} }()
	if b.replMode == rawREPL {
		// A fresh instance starts friendly: switch it silently, then print
		// what pyexec_raw_repl prints on entry.
		b.out = outFilter{mute: true}
		if _, err := b.topCall(ctx, b.fn.replInit); err != nil {
			return "", b.guestErr("starting the REPL", err)
		}
		if _, err := b.feed(ctx, ctrlA); err != nil {
			return "", err
		}
		b.out = outFilter{}
		b.consoleWrite([]byte(rawREPLBanner + ">"))
	} else {
		if soft {
			// The event-driven init prints "\r\n" before the banner, which
			// main.c prints only after a hard boot.
			b.out = outFilter{drop: []byte("\r\n")}
		}
		b.bannerFix = true
		_, err := b.topCall(ctx, b.fn.replInit)
		b.bannerFix = false
		b.out = outFilter{}
		if err != nil {
			return "", b.guestErr("starting the REPL", err)
		}
	}
	// The raw REPL's line so far, as far as raw-paste needs it.
	var rawHead [2]byte
	rawLen := 0
	// pasteMode is the friendly REPL's paste mode (Ctrl-E), where every
	// key is text.
	pasteMode := false
	for {
		c, ok, err := b.uartReadREPL(ctx)
		if err != nil || !ok {
			return "", err
		}
		var r int32
		if b.replMode == rawREPL {
			switch c {
			case ctrlA:
				if rawLen == 2 && rawHead[0] == ctrlE && rawHead[1] == 'A' {
					r, err = b.rawPaste(ctx)
					rawLen = 0
					if err != nil {
						return "", err
					}
					if again, done := b.afterREPLChar(r); done {
						return again, nil
					}
					continue
				}
				rawLen = 0
			case ctrlB:
				b.replMode = friendlyREPL
				rawLen = 0
			case ctrlC, ctrlD:
				rawLen = 0
			default:
				if rawLen < 2 {
					rawHead[rawLen] = c
				}
				rawLen++
			}
			r, err = b.feed(ctx, c)
		} else {
			if !pasteMode && espIgnoredKey(c) {
				continue
			}
			var seen bytes.Buffer
			b.out.capture = &seen
			r, err = b.feed(ctx, c)
			b.out.capture = nil
			switch {
			case pasteMode && (c == ctrlC || c == ctrlD):
				pasteMode = false
			case !pasteMode && c == ctrlE && strings.HasPrefix(seen.String(), "\r\npaste mode; "):
				pasteMode = true
			}
			// Ctrl-A on an empty line: the friendly REPL handed over to the
			// raw one (pyexec_friendly_repl returns, pyexec_raw_repl starts).
			if c == ctrlA && seen.String() == "\r\n"+rawREPLBanner+">" {
				b.replMode = rawREPL
				rawLen = 0
			}
		}
		if err != nil {
			return "", err
		}
		if again, done := b.afterREPLChar(r); done {
			return again, nil
		}
	}
}

// espIgnoredKey reports the keys the ESP8266's readline ignores and the
// firmware we run would act on: its build has MICROPY_REPL_EMACS_KEYS,
// which ports/esp8266/mpconfigport.h turns off (Ctrl-F, Ctrl-K, Ctrl-N,
// Ctrl-P, Ctrl-U; Ctrl-B and Ctrl-D on an empty line are REPL commands in
// both and pass).
func espIgnoredKey(c byte) bool {
	switch c {
	case 0x06, 0x0b, 0x0e, 0x10, 0x15:
		return true
	}
	return false
}

// afterREPLChar decides what a REPL step's result means: a requested
// machine.reset(), or PYEXEC_FORCED_EXIT (Ctrl-D, sys.exit()) → soft reset.
func (b *Board) afterREPLChar(r int32) (string, bool) {
	if b.resetReq != "" {
		return b.resetReq, true
	}
	if r != 0 {
		return "soft", true
	}
	return "", false
}

// feed gives one character to the firmware's REPL.
func (b *Board) feed(ctx context.Context, c byte) (int32, error) {
	b.wd.arm(b.cfg.Watchdog, b.watchdogFired)
	b.bannerFix = true
	r, err := b.topCall(ctx, b.fn.replChar, uint64(c))
	b.bannerFix = false
	b.wd.disarm()
	b.afterTopLevel(ctx)
	if err != nil {
		return 0, b.guestErr("running the REPL", err)
	}
	return int32(r[0]), nil
}

// rawPaste speaks raw-paste mode (pyexec.c do_reader_stdin with 'A'):
// "R\x01", the window size (two bytes, little-endian) and a first window
// increment; the sender may then send a window of bytes per "\x01" it
// receives; Ctrl-D ends the data and is answered with "\x04"; the code runs
// and its output is framed as in the raw REPL: output, "\x04", the
// exception if any, "\x04", then the raw prompt ">".
func (b *Board) rawPaste(ctx context.Context) (int32, error) {
	b.consoleWrite([]byte{'R', 0x01, rawPasteWindow & 0xff, rawPasteWindow >> 8, 0x01})
	var src []byte
	remain := rawPasteWindow
	for {
		c, ok, err := b.uartReadREPL(ctx)
		if err != nil || !ok {
			return 0, err
		}
		if c == ctrlC || c == ctrlD {
			// The reader's end of data.
			b.consoleWrite([]byte{0x04})
			if c == ctrlC {
				// The reader raises KeyboardInterrupt (without traceback)
				// before anything runs.
				b.out = outFilter{mute: true}
				_, err := b.feed(ctx, ctrlC)
				b.out = outFilter{}
				b.consoleWrite([]byte("\x04KeyboardInterrupt: \r\n\x04>"))
				return 0, err
			}
			break
		}
		src = append(src, c)
		if remain--; remain == 0 {
			b.consoleWrite([]byte{0x01})
			remain = rawPasteWindow
		}
	}
	// Run it through the firmware's raw REPL: clear its line ("\x05A"),
	// enter the text, Ctrl-D. Its "OK" stands for the "\x04" sent above.
	b.out = outFilter{mute: true}
	if _, err := b.feed(ctx, ctrlC); err != nil {
		return 0, err
	}
	for _, c := range src {
		if c == ctrlA || c == ctrlB {
			// The raw REPL would take these as commands; on the board they
			// are part of the text. Keep the line intact and let the
			// compiler see an invalid byte instead.
			c = 0x7f
		}
		if _, err := b.feed(ctx, c); err != nil {
			return 0, err
		}
	}
	b.out = outFilter{drop: []byte("OK")}
	r, err := b.feed(ctx, ctrlD)
	b.out = outFilter{}
	return r, err
}

// ---- input() ----

func init() {
	RegisterFunc("_board", "uart_readline", func(b *Board, args []Value) (Value, error) {
		return b.uartReadline()
	})
	RegisterFunc("_board", "uart_any", func(b *Board, args []Value) (Value, error) {
		if err := b.PollYield(); err != nil {
			return nil, err
		}
		return b.uartAvailable(), nil
	})
	RegisterFunc("_board", "uart_read", func(b *Board, args []Value) (Value, error) {
		buf, err := b.ArgBuf(args, 0)
		if err != nil {
			return nil, err
		}
		text := len(args) > 2 && args[2] == true
		n, err := b.uartReadStdin(buf, text)
		return int64(n), err
	})
}

// uartReadline is input()'s mp_hal_readline with an empty prompt
// (shared/readline/readline.c, ESP8266 settings: no Emacs keys): typed
// characters are echoed, backspace erases, Enter ends the line, Ctrl-C
// raises KeyboardInterrupt, Ctrl-D on an empty line EOFError.
func (b *Board) uartReadline() (Value, error) {
	var line []byte
	esc := 0
	for {
		c, err := b.uartReadProgram()
		if err != nil {
			return nil, err
		}
		switch {
		case esc == 1:
			esc = 0
			if c == '[' || c == 'O' {
				esc = 2
			}
			continue
		case esc == 2:
			if c < '0' || c > '9' {
				esc = 0
			}
			continue
		}
		switch {
		case c == 27:
			esc = 1
		case c == '\r':
			b.consoleWrite([]byte("\r\n"))
			return string(line), nil
		case c == ctrlC:
			return nil, ErrInterrupted
		case c == ctrlD && len(line) == 0:
			return nil, &PyError{Type: "EOFError"}
		case (ctrlA <= c && c <= ctrlE) && len(line) == 0:
			// A control character on an empty line ends readline.
			return "", nil
		case c == 8 || c == 127:
			if len(line) > 0 {
				line = line[:len(line)-1]
				b.consoleWrite([]byte("\b\x1b[K"))
			}
		case c >= 32 && c <= 126:
			line = append(line, c)
			b.consoleWrite([]byte{c})
		}
	}
}

// uartReadStdin is sys.stdin's read: it waits for the first byte, then
// takes what is there (at most len(buf)), "\r" read as "\n"
// (shared/runtime/sys_stdio_mphal.c).
func (b *Board) uartReadStdin(buf []byte, text bool) (int, error) {
	if len(buf) == 0 {
		return 0, nil
	}
	c, err := b.uartReadProgram()
	if err != nil {
		return 0, err
	}
	n := 0
	for {
		if c == '\r' && text {
			c = '\n'
		}
		buf[n] = c
		n++
		if n == len(buf) {
			return n, nil
		}
		var ok bool
		if c, ok, _ = b.uartTake(); !ok {
			return n, nil
		}
	}
}
