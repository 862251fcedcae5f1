// Command esp8266sim runs unmodified MicroPython programs on simulated
// ESP8266 boards: `esp8266sim run main.py` runs a script on one board and
// prints its console; `esp8266sim repl` opens the board's REPL.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// Exit codes.
const (
	exitOK        = 0
	exitScriptErr = 1 // the script raised an uncaught exception (or was stopped)
	exitUsage     = 2 // bad command line, unreadable script or firmware
	// exitCancelled is a run interrupted by Ctrl-C (SIGINT): 128+2, as a
	// shell reports a process killed by SIGINT.
	exitCancelled = 130
)

// usageError is a user mistake: one sentence, exit 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// exitError carries a non-zero exit code whose message was already printed.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func main() {
	os.Exit(runWith(os.Args[1:], os.Stdout, os.Stderr))
}

// runWith runs the command line and returns the exit status.
func runWith(args []string, stdout, stderr io.Writer) int {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	fmt.Fprintf(stderr, "esp8266sim: %v\n", err)
	var ue *usageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	return exitScriptErr
}
