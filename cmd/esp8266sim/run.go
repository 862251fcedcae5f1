package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/esp8266sim/esp8266sim/board"
	"github.com/esp8266sim/esp8266sim/internal/vclock"
)

type runFlags struct {
	heap     int
	watchdog time.Duration
	seed     uint64
	name     string
	realtime bool
}

func newRunCmd(g *globalFlags) *cobra.Command {
	f := &runFlags{}
	cmd := &cobra.Command{
		Use:   "run SCRIPT.py",
		Short: "Run a MicroPython script as main.py on one board and print its console",
		Long: "Run a MicroPython script as main.py on one simulated ESP8266 and print its console.\n" +
			"Exit status: 0 when the script finishes, 1 on an uncaught exception (the board's traceback is printed), 2 on usage errors.",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("run needs exactly one script, e.g. `esp8266sim run main.py`")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			script, err := readScript(args[0])
			if err != nil {
				return err
			}
			fw, err := g.loadFirmware()
			if err != nil {
				return err
			}
			mode := vclock.Fast
			if f.realtime {
				mode = vclock.Realtime
			}
			res, err := runBoard(cmd.Context(), fw, mode, board.Config{
				Name:      f.name,
				HeapBytes: f.heap,
				Watchdog:  f.watchdog,
				Seed:      f.seed,
				Files:     map[string][]byte{"main.py": script},
				Console:   cmd.OutOrStdout(),
			})
			if err != nil {
				return err
			}
			switch res.Outcome {
			case board.Finished:
				return nil
			case board.Exception:
				return &exitError{code: exitScriptErr}
			default:
				fmt.Fprintf(cmd.ErrOrStderr(), "esp8266sim: %s\n", res.Message)
				return &exitError{code: exitScriptErr}
			}
		},
	}
	cmd.Flags().IntVar(&f.heap, "heap", board.DefaultHeapBytes, "MicroPython heap budget in bytes")
	cmd.Flags().DurationVar(&f.watchdog, "watchdog", board.DefaultWatchdog, "wall-clock time Python code may run without waiting before it is stopped")
	cmd.Flags().Uint64Var(&f.seed, "seed", 1, "random seed (MAC address, os.urandom, random)")
	cmd.Flags().StringVar(&f.name, "name", "esp1", "board name")
	cmd.Flags().BoolVar(&f.realtime, "realtime", false, "run the simulator clock at wall-clock speed instead of fast-forwarding")
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
