package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/esp8266sim/esp8266sim/board"
	"github.com/esp8266sim/esp8266sim/internal/vclock"
)

func newReplCmd(g *globalFlags) *cobra.Command {
	var seed uint64
	var heap int
	cmd := &cobra.Command{
		Use:   "repl",
		Short: "Open the MicroPython REPL of a simulated board (Ctrl-C interrupts, Ctrl-D soft-resets, Ctrl-E paste mode, Ctrl-X exits)",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 0 {
				return usagef("repl takes no arguments")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
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
			_, err = runBoard(cmd.Context(), fw, vclock.Realtime, board.Config{
				Name:      "esp1",
				Seed:      seed,
				HeapBytes: heap,
				Watchdog:  -1,
				Console:   &crlf{w: cmd.OutOrStdout()},
				Stdin:     in,
			})
			return err
		},
	}
	cmd.Flags().Uint64Var(&seed, "seed", 1, "random seed")
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

// crlf turns the firmware's bare \n into \r\n, as the board's UART driver
// does at the REPL, so a raw-mode terminal shows proper lines.
type crlf struct {
	w      io.Writer
	lastCR bool
}

func (c *crlf) Write(p []byte) (int, error) {
	out := make([]byte, 0, len(p)+8)
	for _, ch := range p {
		if ch == '\n' && !c.lastCR {
			out = append(out, '\r')
		}
		c.lastCR = ch == '\r'
		out = append(out, ch)
	}
	if _, err := c.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}
