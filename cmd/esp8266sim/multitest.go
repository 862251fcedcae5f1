package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/esp8266sim/esp8266sim/sim/multitest"
)

// multitestFlags are the flags of `esp8266sim multitest`.
type multitestFlags struct {
	format     string
	loss       string
	latency    time.Duration
	seed       uint64
	timeout    time.Duration
	instances  int
	showOutput bool
	trace      bool
	netTrace   bool
}

func newMultitestCmd(g *globalFlags) *cobra.Command {
	f := &multitestFlags{}
	cmd := &cobra.Command{
		Use:   "multitest FILE.py [FILE.py…]",
		Short: "Run MicroPython multi-instance tests (run-multitests.py files) on simulated boards",
		Long: "Run MicroPython multi-instance test files, as tests/run-multitests.py does, with one simulated\n" +
			"ESP8266 per instanceN() function on one WiFi network (DHCP addresses). The instances run in\n" +
			"lock-step through the multitest helper (next, broadcast, wait, globals, get_network_ip, skip,\n" +
			"flush, output_metric, expect_reboot); their output is compared with FILE.py.exp.\n" +
			"Exit status: 0 when no test failed, 1 when one did, 2 on usage errors.",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("multitest needs at least one test file, e.g. `esp8266sim multitest tests/multi_net/tcp_data.py`")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := f.options()
			if err != nil {
				return err
			}
			for _, a := range args {
				st, err := os.Stat(a)
				switch {
				case errors.Is(err, fs.ErrNotExist):
					return usagef("test file %s does not exist", a)
				case err != nil:
					return usagef("cannot read test file %s: %v", a, unwrap(err))
				case st.IsDir():
					return usagef("%s is a directory; give test files, e.g. %s/*.py", a, strings.TrimSuffix(a, "/"))
				}
			}
			fw, err := g.loadFirmware()
			if err != nil {
				return err
			}
			opts.Firmware = fw
			out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
			if f.trace {
				opts.Console = func(i int, line string) { fmt.Fprintf(errOut, "i%d : %s\n", i, line) }
			}
			if f.netTrace {
				opts.Trace = func(line string) { fmt.Fprintln(errOut, line) }
			}
			var results []*multitest.Result
			for _, file := range slices.Sorted(slices.Values(args)) {
				r, err := multitest.RunFile(cmd.Context(), file, opts)
				if err != nil {
					return err
				}
				results = append(results, r)
				if f.format == "text" {
					if err := multitest.WriteResult(out, r, f.showOutput); err != nil {
						return err
					}
				}
			}
			if f.format == "junit" {
				if err := multitest.WriteJUnit(out, results); err != nil {
					return err
				}
				fmt.Fprintln(errOut, multitest.Summary(results))
			} else {
				fmt.Fprintln(out, multitest.Summary(results))
			}
			for _, r := range results {
				if r.Status == multitest.Fail {
					return &exitError{code: exitScriptErr}
				}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.format, "format", "text", "report format: text or junit (JUnit XML on stdout, summary on stderr)")
	fl.StringVar(&f.loss, "loss", "0", "chance that a frame a board sends is lost, in percent (e.g. 5 or 5%)")
	fl.DurationVar(&f.latency, "latency", 0, "one-way delay of every frame a board sends (e.g. 50ms)")
	fl.Uint64Var(&f.seed, "seed", 1, "random seed of the world (loss, the boards' random numbers)")
	fl.DurationVar(&f.timeout, "timeout", multitest.DefaultTimeout, "simulated time one test may take before its running instances print TIMEOUT")
	fl.IntVar(&f.instances, "instances", 0, "number of boards (default: one per instanceN function in the file)")
	fl.BoolVarP(&f.showOutput, "show-output", "s", false, "print every test's output, not only a failing one's")
	fl.BoolVarP(&f.trace, "trace-output", "c", false, "print the instances' console lines on stderr as they are printed")
	fl.BoolVar(&f.netTrace, "trace", false, "print the readable network trace (WiFi, DHCP, ARP, TCP/UDP frames, socket calls) on stderr")
	return cmd
}

// options checks the flags and turns them into multitest options.
func (f *multitestFlags) options() (multitest.Options, error) {
	var o multitest.Options
	switch f.format {
	case "text", "junit":
	default:
		return o, usagef("--format %q is not a report format; use text or junit", f.format)
	}
	loss, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(f.loss), "%")), 64)
	if err != nil || loss < 0 || loss > 100 {
		return o, usagef("--loss %q is not a percentage from 0 to 100 (e.g. 5 or 5%%)", f.loss)
	}
	if f.latency < 0 {
		return o, usagef("--latency %v is negative", f.latency)
	}
	if f.timeout <= 0 {
		return o, usagef("--timeout %v must be positive (e.g. 60s)", f.timeout)
	}
	if f.instances < 0 || f.instances > multitest.MaxInstances {
		return o, usagef("--instances %d is outside 0 to %d", f.instances, multitest.MaxInstances)
	}
	o.Loss, o.Latency, o.Seed, o.Timeout, o.Instances = loss, f.latency, f.seed, f.timeout, f.instances
	return o, nil
}
