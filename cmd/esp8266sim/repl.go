package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/esp8266sim/esp8266sim/board"
	"github.com/esp8266sim/esp8266sim/sim"
)

func newReplCmd(g *globalFlags) *cobra.Command {
	f := &worldFlags{desk: true, realtime: true}
	var heap int
	cmd := &cobra.Command{
		Use:   "repl",
		Short: "Open the MicroPython REPL of a simulated board in the default world (Ctrl-C interrupts, Ctrl-D soft-resets, Ctrl-E paste mode, Ctrl-X exits)",
		Long: `Open the REPL of board esp1 in the default world (the access point SimNet,
password esp8266sim, with its router, a PC on the LAN and the tutorials'
internet hosts), in real time: network.WLAN() works and the board can join
SimNet. This is 'esp8266sim serve' with the terminal as the serial port.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 0 {
				return usagef("repl takes no arguments")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("heap") {
				f.set = append(f.set, fmt.Sprintf("boards[0].heap=%d", heap))
			}
			sc, err := loadScenario(cmd, f, "")
			if err != nil {
				return err
			}
			fw, err := g.loadFirmware()
			if err != nil {
				return err
			}
			in := io.Reader(os.Stdin)
			fd := int(os.Stdin.Fd())
			if term.IsTerminal(fd) {
				old, err := term.MakeRaw(fd)
				if err != nil {
					return fmt.Errorf("putting the terminal in raw mode: %w", err)
				}
				defer term.Restore(fd, old)
				fmt.Fprint(cmd.ErrOrStderr(), "esp8266sim: board esp1 REPL; Ctrl-X to exit\r\n")
				in = &exitOnCtrlX{r: os.Stdin}
			}
			w, err := sim.New(sc, sim.Options{
				Firmware:    fw,
				Watchdog:    -1,
				MaxResets:   serveMaxResets,
				ConsoleKeep: serveConsoleKeep,
				Serial:      map[string]sim.Serial{"esp1": {In: in, Out: cmd.OutOrStdout()}},
			})
			if err != nil {
				return err
			}
			defer w.Close()
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			// The run ends when the input does (Ctrl-X, end of file).
			_, err = w.Run(ctx, sim.RunOptions{UntilCancelled: true})
			return err
		},
	}
	cmd.Flags().Uint64Var(&f.seed, "seed", 1, "random seed")
	cmd.Flags().StringVar(&f.wifi, "wifi", "", "the access point's network as SSID[:PASSWORD] (default SimNet:esp8266sim)")
	cmd.Flags().IntVar(&heap, "heap", board.DefaultHeapBytes, "MicroPython heap budget in bytes")
	return cmd
}

// exitOnCtrlX ends the input at Ctrl-X, the simulator's exit key (Ctrl-D is
// the board's soft reset).
type exitOnCtrlX struct{ r io.Reader }

func (e *exitOnCtrlX) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	for i := 0; i < n; i++ {
		if p[i] == 0x18 {
			return i, io.EOF
		}
	}
	return n, err
}
