package main

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/esp8266sim/esp8266sim/scenarios"
	"github.com/esp8266sim/esp8266sim/sim/scenario"
)

func newValidateCmd() *cobra.Command {
	var set []string
	cmd := &cobra.Command{
		Use:   "validate SCENARIO.yaml...",
		Short: "Check scenario files without running them",
		Long: "Check scenario files (YAML, TOML or JSON) without running them: unknown keys, wrong types,\n" +
			"impossible values and references to missing boards, hosts or files are reported with file, line and field.\n" +
			"Exit status: 0 when every file is valid, 2 otherwise.",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("validate needs at least one scenario file, e.g. `esp8266sim validate scenarios/http_get.yaml`")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o := scenario.Overrides{Set: set, Env: true}
			bad := 0
			for _, path := range args {
				var err error
				switch {
				case isScenarioFile(path):
					_, err = o.Load(path)
				case strings.EqualFold(filepath.Ext(path), ".py"):
					// Not a scenario: say so rather than name a .yaml
					// nobody asked about.
					err = fmt.Errorf("%s is a MicroPython script, not a scenario file; `esp8266sim run %s` runs it", path, path)
				case filepath.Ext(path) != "":
					err = fmt.Errorf("%s is not a scenario file (want .yaml, .yml, .toml or .json)", path)
				default:
					if _, err = o.ParseFS(shippedFS, "scenarios/"+path+".yaml"); errors.Is(err, fs.ErrNotExist) {
						err = fmt.Errorf("%s: no built-in scenario of that name (see `esp8266sim list`)", path)
					}
				}
				if err != nil {
					bad++
					fmt.Fprintln(cmd.ErrOrStderr(), err)
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: ok\n", path)
			}
			if bad > 0 {
				return &exitError{code: exitUsage}
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&set, "set", nil, "override a field before checking, e.g. --set seed=7 (repeatable)")
	return cmd
}

func newListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the scenarios built into esp8266sim",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			entries, err := scenario.List(shippedFS, "scenarios")
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tDESCRIPTION")
			for _, e := range entries {
				name := strings.TrimSuffix(path.Base(e.Path), path.Ext(e.Path))
				desc := e.Description
				if e.Err != nil {
					desc = "(does not load: " + e.Err.Error() + ")"
				}
				fmt.Fprintf(tw, "%s\t%s\n", name, desc)
			}
			tw.Flush()
			fmt.Fprintf(cmd.OutOrStdout(), "\nRun one with `esp8266sim run NAME`; `esp8266sim run` alone runs %s.\n", defaultScenario)
			return nil
		},
	}
}

var _ fs.FS = scenarios.FS
