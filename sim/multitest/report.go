package multitest

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteResult prints one test's verdict the way run-multitests.py does,
// with PASS/FAIL/SKIP in front: on FAIL the output ("### TEST ###") and a
// unified diff against the .exp file ("### DIFF ###"); with showOutput
// the output of every test.
func WriteResult(w io.Writer, r *Result, showOutput bool) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s on %s", strings.ToUpper(string(r.Status)), r.File, instanceList(r.Instances))
	switch r.Status {
	case Pass:
		fmt.Fprintf(&b, " (%s simulated)\n", r.SimTime.Round(time.Millisecond))
	default:
		if r.Reason != "" {
			b.WriteString(": " + r.Reason)
		}
		b.WriteString("\n")
	}
	if showOutput || r.Status == Fail {
		b.WriteString("### TEST ###\n")
		b.WriteString(r.Output)
	}
	if showOutput && r.ExpFile != "" && r.Status != Skip {
		b.WriteString("### TRUTH ###\n")
		b.WriteString(r.Expected)
	}
	if r.Diff != "" {
		b.WriteString("### DIFF ###\n")
		b.WriteString(r.Diff)
	}
	for _, m := range r.Metrics {
		fmt.Fprintf(&b, "%s: %s\n", r.File, m)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteText prints every result and the summary line.
func WriteText(w io.Writer, results []*Result, showOutput bool) error {
	for _, r := range results {
		if err := WriteResult(w, r, showOutput); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintln(w, Summary(results))
	return err
}

func instanceList(n int) string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("instance%d", i)
	}
	return strings.Join(names, "|")
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes the results as a JUnit XML report: one testsuite
// "multitest", one testcase per file, a failure with the diff, the output
// as system-out.
func WriteJUnit(w io.Writer, results []*Result) error {
	suite := junitSuite{Name: "multitest"}
	var total time.Duration
	for _, r := range results {
		c := junitCase{
			Name:      r.File,
			Classname: "multitest",
			Time:      seconds(r.WallTime),
			SystemOut: r.Output,
		}
		total += r.WallTime
		suite.Tests++
		switch r.Status {
		case Fail:
			suite.Failures++
			text := r.Diff
			if text == "" {
				text = r.Output
			}
			c.Failure = &junitMessage{Message: r.Reason, Text: text}
		case Skip:
			suite.Skipped++
			c.Skipped = &junitMessage{Message: r.Reason}
		}
		suite.Cases = append(suite.Cases, c)
	}
	suite.Time = seconds(total)
	doc := junitSuites{
		Name: "esp8266sim multitest", Tests: suite.Tests, Failures: suite.Failures,
		Skipped: suite.Skipped, Time: suite.Time, Suites: []junitSuite{suite},
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("multitest: writing JUnit XML: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func seconds(d time.Duration) string {
	return fmt.Sprintf("%.3f", d.Seconds())
}
