package main

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/esp8266sim/esp8266sim/internal/serialport"
	"github.com/esp8266sim/esp8266sim/sim"
	"github.com/esp8266sim/esp8266sim/sim/scenario"
)

// serveMaxResets is how many resets a served board follows: a board on a
// desk is soft-reset by every tool that connects, for as long as it runs.
const serveMaxResets = 1 << 30

// serveConsoleKeep bounds each board's recorded console in a run that
// lasts until signalled (the live view and the ports see all of it).
const serveConsoleKeep = 256 << 10

// romDownloadBanner is what the ESP8266 ROM prints when it leaves reset
// with GPIO0 low (boot mode 1: UART download), before waiting for esptool.
const romDownloadBanner = "\r\n ets Jan  8 2013,rst cause:2, boot mode:(1,6)\r\n\r\nwaiting for host\r\n"

func newServeCmd(g *globalFlags) *cobra.Command {
	f := &worldFlags{desk: true}
	var serialDir string
	var serialTCP int
	cmd := &cobra.Command{
		Use:   "serve [SCENARIO.yaml | SCRIPT.py | NAME]",
		Short: "Run a world in real time with each board's UART as a serial port (PTY, optionally TCP/RFC 2217)",
		Long: `Run a world in real time until interrupted (Ctrl-C, SIGTERM), then print the
usual report. Each board's UART is a pseudo-terminal that any serial tool opens
as it would /dev/ttyUSB0 (pyserial, mpremote, pyboard.py, Thonny, screen,
picocom), reachable through the stable symlink DIR/<board> (--serial-dir).

With --serial-tcp PORT board i also listens on 127.0.0.1:PORT+i for raw bytes
(pyserial socket://HOST:PORT) and telnet RFC 2217 (rfc2217://HOST:PORT), whose
DTR and RTS drive the board like a NodeMCU's auto-reset circuit: RTS asserted
with DTR released holds the board in reset and releasing it reboots the board
(machine.reset_cause() == machine.HARD_RESET); leaving reset with DTR asserted
and RTS released (GPIO0 low) enters the ROM's download mode, which prints the
ROM banner and then stays silent until the next reset (esptool's flasher
protocol is not simulated).

With no argument: the default world (as for 'esp8266sim run SCRIPT.py'), one
board esp1 at the REPL. A script becomes esp1's main.py; a scenario serves all
its boards. Every board stays at the REPL after its main.py. Closing and
reopening a port does not stop its board; output while nobody has the port
open is dropped, as a UART's output is with nothing plugged in.`,
		Example: `  esp8266sim serve
  python3 -m serial.tools.miniterm esp8266sim-serial/esp1 115200
  esp8266sim serve main.py --serial-tcp 4000
  python3 -c "import serial; s = serial.serial_for_url('rfc2217://127.0.0.1:4000'); s.write(b'1+1\r')"`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usagef("serve takes at most one scenario or script, e.g. `esp8266sim serve main.py`")
			}
			switch f.format {
			case "text", "json", "junit":
			default:
				return usagef("--format must be text, json or junit, not %q", f.format)
			}
			if cmd.Flags().Changed("serial-tcp") && (serialTCP < 1 || serialTCP > 65535) {
				return usagef("--serial-tcp must be a port from 1 to 65535, not %d", serialTCP)
			}
			if serialDir == "" {
				return usagef("--serial-dir needs a directory, e.g. --serial-dir ./esp8266sim-serial")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			arg := ""
			if len(args) == 1 {
				arg = args[0]
			}
			f.realtime = true
			sc, err := loadScenario(cmd, f, arg)
			if err != nil {
				return err
			}
			return serveWorld(cmd, g, f, sc, serveConfig{dir: serialDir, tcp: serialTCP})
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&serialDir, "serial-dir", "esp8266sim-serial", "directory for the symlinks DIR/<board> to the boards' serial devices")
	// Its own usage line (serve always runs in real time), so the flag
	// coverage table lists it apart from run's.
	cmd.Flags().IntVar(&f.ui, "ui", 0, "serve a live view of the world on http://127.0.0.1:PORT/ (diagrams, consoles and trace as they happen, with fault buttons)")
	cmd.Flags().IntVar(&serialTCP, "serial-tcp", 0, "also serve board i's serial port on 127.0.0.1:PORT+i (raw socket:// and RFC 2217 rfc2217://)")
	return cmd
}

// serveConfig is how the boards' serial ports are offered.
type serveConfig struct {
	// dir holds the PTY symlinks.
	dir string
	// tcp is board 0's TCP port (0: none).
	tcp int
}

// servedBoard is one board's serial line and its endpoints.
type servedBoard struct {
	name string
	line *serialport.Line
	pty  *serialport.PTY
	tcp  *serialport.TCP
}

// openPorts opens every board's PTY and TCP listener; errors are one
// sentence and usage errors (a directory or port the user chose).
func openPorts(names []string, cfg serveConfig) ([]*servedBoard, func(), error) {
	var boards []*servedBoard
	closeAll := func() {
		// Lines first: that releases endpoint goroutines waiting to hand
		// the board input.
		for _, b := range boards {
			b.line.Close()
		}
		for _, b := range boards {
			if b.pty != nil {
				b.pty.Close()
			}
			if b.tcp != nil {
				b.tcp.Close()
			}
		}
	}
	if cfg.tcp > 0 && cfg.tcp+len(names)-1 > 65535 {
		return nil, closeAll, usagef("--serial-tcp %d leaves no room for %d boards (ports up to %d)", cfg.tcp, len(names), cfg.tcp+len(names)-1)
	}
	dir, err := filepath.Abs(cfg.dir)
	if err != nil {
		return nil, closeAll, usagef("cannot use the serial directory %s: %v", cfg.dir, err)
	}
	for i, name := range names {
		sb := &servedBoard{name: name, line: serialport.NewLine(name)}
		boards = append(boards, sb)
		if sb.pty, err = serialport.OpenPTY(sb.line, filepath.Join(dir, name)); err != nil {
			closeAll()
			return nil, func() {}, usagef("%v", err)
		}
		if cfg.tcp > 0 {
			addr := fmt.Sprintf("127.0.0.1:%d", cfg.tcp+i)
			if sb.tcp, err = serialport.ListenTCP(sb.line, addr); err != nil {
				closeAll()
				return nil, func() {}, usagef("%v", err)
			}
		}
	}
	return boards, closeAll, nil
}

// enRise is how long after RTS releases EN the chip leaves reset and
// samples GPIO0. On a NodeMCU the capacitor on EN delays it, so esptool's
// sequence (DTR on while still in reset, then RTS off) reaches the chip as
// "GPIO0 low at reset". Over RFC 2217 each line change is a round trip
// (pyserial waits at least 50 ms for its acknowledgement), so the delay here
// is longer than the capacitor's, as in esptool's esp_rfc2217_server.
const enRise = 150 * time.Millisecond

// wirePins makes a board's DTR/RTS act on it through the auto-reset
// circuit: reset held silences the line; its release reboots the board,
// into the ROM's download mode when GPIO0 is low as EN rises.
func wirePins(w *sim.World, sb *servedBoard) {
	var mu sync.Mutex // two clients may move the lines at once
	held := false
	var rise *time.Timer
	sb.line.OnPins(func(p serialport.Pins) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case p.ResetHeld:
			held = true
			if rise != nil {
				rise.Stop()
				rise = nil
			}
			sb.line.Hold(true)
		case held:
			held = false
			rise = time.AfterFunc(enRise, func() {
				mu.Lock()
				defer mu.Unlock()
				now := serialport.PinsFor(sb.line.Control())
				if held || now.ResetHeld {
					return
				}
				rise = nil
				_ = w.ExternalReset(sb.name)
				if now.BootLow {
					sb.line.Announce(romDownloadBanner)
					return
				}
				sb.line.Hold(false)
			})
		}
	})
}

// serveWorld builds sc with serial ports, runs it until signalled and
// prints the report.
func serveWorld(cmd *cobra.Command, g *globalFlags, f *worldFlags, sc *scenario.Scenario, cfg serveConfig) error {
	fw, err := g.loadFirmware()
	if err != nil {
		return err
	}
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	var names []string
	for _, in := range sc.Instances() {
		names = append(names, in.Name)
	}
	boards, closePorts, err := openPorts(names, cfg)
	if err != nil {
		return err
	}
	defer closePorts()

	opts := sim.Options{Firmware: fw, Watchdog: f.watchdog, MaxResets: serveMaxResets, ConsoleKeep: serveConsoleKeep, Serial: map[string]sim.Serial{}}
	if !cmd.Flags().Changed("watchdog") {
		// A board at the REPL may compute as long as its user likes;
		// Ctrl-C stops it.
		opts.Watchdog = -1
	}
	for _, b := range boards {
		opts.Serial[b.name] = sim.Serial{In: b.line, Out: b.line}
	}
	if f.format == "text" && !f.quiet {
		opts.Console = stdout
	}
	bw, err := buildWorld(cmd, f, sc, opts)
	if err != nil {
		return err
	}
	defer bw.close()
	w := bw.w
	for _, b := range boards {
		wirePins(w, b)
	}
	for _, b := range boards {
		where := fmt.Sprintf("%s: %s -> %s", b.name, b.pty.Link, b.pty.Path)
		if b.tcp != nil {
			where += fmt.Sprintf(", socket://%s and rfc2217://%s", b.tcp.Addr, b.tcp.Addr)
		}
		fmt.Fprintln(stderr, where)
	}
	fmt.Fprintln(stderr, "serving until interrupted (Ctrl-C or SIGTERM)")

	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := w.Run(ctx, sim.RunOptions{UntilCancelled: !cmd.Flags().Changed("timeout")})
	if err != nil {
		return err
	}
	return bw.report(res)
}
