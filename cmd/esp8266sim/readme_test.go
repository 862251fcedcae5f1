package main

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"
)

// readmeBlock returns the lines of the first fenced block after marker in
// README.md.
func readmeBlock(t *testing.T, marker string) []string {
	t.Helper()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	i := strings.Index(s, marker)
	if i < 0 {
		t.Fatalf("README.md lacks %q", marker)
	}
	s = s[i:]
	start := strings.Index(s, "```")
	s = s[start:]
	s = s[strings.Index(s, "\n")+1:]
	body, _, ok := strings.Cut(s, "\n```")
	if !ok {
		t.Fatalf("README.md: unterminated block after %q", marker)
	}
	return strings.Split(body, "\n")
}

// wallTime is the one part of a summary line that differs between runs.
var wallTime = regexp.MustCompile(`wall [0-9.]+s`)

// inOrder checks that the README's lines ("..." skips any number) appear
// in got in that order, wall times aside.
func inOrder(t *testing.T, what string, want []string, got string) {
	t.Helper()
	lines := strings.Split(wallTime.ReplaceAllString(got, "wall Xs"), "\n")
	for i, l := range lines {
		// The console is the serial terminal's: lines end in CR LF.
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	i := 0
	for _, w := range want {
		if w == "..." {
			continue
		}
		w = wallTime.ReplaceAllString(w, "wall Xs")
		for i < len(lines) && lines[i] != w {
			i++
		}
		if i == len(lines) {
			t.Errorf("%s: README line %q is not in the output (in order); the output:\n%s", what, w, got)
			return
		}
		i++
	}
}

// The README's examples are what the commands print.
func TestReadmeExamples(t *testing.T) {
	run := readmeBlock(t, "## What `run` does")
	if run[0] != "$ bin/esp8266sim run" {
		t.Fatalf("README run example starts %q", run[0])
	}
	var stdout, stderr bytes.Buffer
	if code := runWith([]string{"run"}, &stdout, &stderr); code != 0 {
		t.Fatalf("run: exit %d: %s", code, stderr.String())
	}
	inOrder(t, "esp8266sim run", run[1:], stdout.String()+stderr.String())

	trace := readmeBlock(t, "`--trace` prints one line per step")
	stdout.Reset()
	stderr.Reset()
	if code := runWith([]string{"run", "tcp_client", "--trace"}, &stdout, &stderr); code != 0 {
		t.Fatalf("run tcp_client --trace: exit %d: %s", code, stderr.String())
	}
	inOrder(t, "esp8266sim run tcp_client --trace", trace, stdout.String())

	full, err := os.ReadFile("../../sim/scenario/testdata/good/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(readmeBlock(t, "## The scenario format"), "\n") + "\n"; got != string(full) {
		t.Errorf("README's scenario block differs from sim/scenario/testdata/good/full.yaml; copy the file into it")
	}
}
