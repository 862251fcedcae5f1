package main

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/esp8266sim/esp8266sim/board"
	"github.com/esp8266sim/esp8266sim/internal/vclock"
)

func newRunCmd(g *globalFlags) *cobra.Command {
	f := &worldFlags{}
	cmd := &cobra.Command{
		Use:   "run [SCENARIO.yaml | SCRIPT.py | NAME]",
		Short: "Run a scenario, or a MicroPython script on a board in the default world",
		Long: `Run a scenario file, a built-in scenario (see 'esp8266sim list') or a MicroPython
script. With no argument, runs the built-in default scenario (` + defaultScenario + `).

A script runs as main.py on board esp1 in the default world: the WPA2 access point
SimNet (password esp8266sim; change it with --wifi SSID:PASSWORD) with its router
(DHCP, DNS, gateway), the PC 192.168.1.10 on the LAN with the tutorial's chat
service on port 8888, and the internet hosts micropython.org, www.example.com
(HTTP and HTTPS) and echo.sim.

The board's console goes to stdout as the serial terminal shows it (prefixed with
time and board name when there are several boards); the summary goes to stderr.

Exit status: 0 when the expectations hold and every board's program ended as
expected (cleanly, still running at the end, or as an exit expectation says),
1 otherwise, 2 on usage errors, 130 when Ctrl-C cancelled the run.`,
		Example: `  esp8266sim run
  esp8266sim run main.py --wifi MyNet:secret123
  esp8266sim run scenarios/tcp_client.yaml --trace --pcap join.pcapng
  esp8266sim run http_get --report http_get.html
  esp8266sim run http_get --latency 200ms --loss 10% --format junit > report.xml
  esp8266sim run server.py --forward 8080:esp1:80`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usagef("run takes at most one scenario or script, e.g. `esp8266sim run main.py`")
			}
			switch f.format {
			case "text", "json", "junit":
			default:
				return usagef("--format must be text, json or junit, not %q", f.format)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			arg := ""
			if len(args) == 1 {
				arg = args[0]
			}
			sc, err := loadScenario(cmd, f, arg)
			if err != nil {
				return err
			}
			return runWorld(cmd, g, f, sc)
		},
	}
	f.register(cmd)
	cmd.Flags().IntVar(&f.ui, "ui", 0, "serve a live view of the run on http://127.0.0.1:PORT/ (the report's diagrams and consoles as they happen, with fault buttons); use with --realtime")
	cmd.Flags().StringVar(&f.report, "report", "", "write a self-contained HTML report: per board a sequence diagram of the network in simulated time, its console and the verdicts, and the world's topology")
	return cmd
}

// readScript reads the user's script: one clear sentence per problem.
func readScript(path string) ([]byte, error) {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, usagef("script %s does not exist", path)
	case err != nil:
		return nil, usagef("cannot read script %s: %v", path, unwrap(err))
	case st.IsDir():
		return nil, usagef("%s is a directory; give the path of a .py file, e.g. %s", path, filepath.Join(path, "main.py"))
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("cannot read script %s: %v", path, unwrap(err))
	}
	if !utf8.Valid(data) {
		line := 1
		for i := 0; i < len(data); {
			r, n := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			if data[i] == '\n' {
				line++
			}
			i += n
		}
		return nil, usagef("script %s is not UTF-8 text (invalid byte on line %d); save it as UTF-8", path, line)
	}
	return data, nil
}

func unwrap(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// runBoard runs one board on its own clock until it finishes or the user
// presses Ctrl-C.
func runBoard(ctx context.Context, fw *board.Firmware, mode vclock.Mode, cfg board.Config) (board.Result, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	clock := vclock.New(vclock.Config{Mode: mode})
	clockCtx, cancelClock := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = clock.Run(clockCtx)
	}()
	defer func() {
		cancelClock()
		<-done
		clock.Close()
	}()
	b, err := board.New(cfg, fw, clock)
	if err != nil {
		return board.Result{}, err
	}
	defer b.Close()
	return b.Run(ctx)
}
