package main

import (
	"github.com/spf13/cobra"

	"github.com/esp8266sim/esp8266sim/board"
)

// globalFlags are shared by every subcommand.
type globalFlags struct {
	// firmware is a path to another MicroPython WebAssembly build; empty
	// means the one embedded in the binary.
	firmware string
}

func newRootCmd() *cobra.Command {
	g := &globalFlags{}
	root := &cobra.Command{
		Use:           "esp8266sim",
		Short:         "Run MicroPython programs on simulated ESP8266 boards",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&g.firmware, "firmware", "", "MicroPython WebAssembly firmware to run (default: the one built into esp8266sim)")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usagef("%v (see %s --help)", err, c.CommandPath()) })
	root.AddCommand(newRunCmd(g), newReplCmd(g), newValidateCmd(), newListCmd())
	root.AddCommand(newMultitestCmd(g), newServeCmd(g))
	return root
}

// loadFirmware returns the selected firmware; errors are usage errors.
func (g *globalFlags) loadFirmware() (*board.Firmware, error) {
	var (
		fw  *board.Firmware
		err error
	)
	if g.firmware != "" {
		fw, err = board.LoadFirmware(g.firmware)
	} else {
		fw, err = board.DefaultFirmware()
	}
	if err != nil {
		return nil, &usageError{err.Error()}
	}
	return fw, nil
}
