package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
)

// JUnit XML as CI systems read it (the Ant/Jenkins schema): a testsuites
// root, one testsuite per run, one testcase per expectation.

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
	SystemOut  string          `xml:"system-out,omitempty"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Error     *junitFailure `xml:"error,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes the runs as one JUnit XML document. Each expectation
// is a testcase (its time is the simulated time of its verdict); a failed
// expectation has a failure element with the reason; a run error is an
// error testcase named "run". Console tails go to system-out.
func WriteJUnit(w io.Writer, runs ...*Run) error {
	doc := junitSuites{Name: "esp8266sim"}
	var total time.Duration
	for _, r := range runs {
		s := junitSuite{
			Name: r.Scenario,
			Time: fmt.Sprintf("%.3f", r.WallTime.Seconds()),
			Properties: []junitProperty{
				{"seed", fmt.Sprint(r.Seed)},
				{"sim_time", secs(r.SimTime)},
				{"frames", fmt.Sprint(r.Frames)},
			},
		}
		if r.EndReason != "" {
			s.Properties = append(s.Properties, junitProperty{"end_reason", r.EndReason})
		}
		if r.File != "" {
			s.Properties = append(s.Properties, junitProperty{"file", r.File})
		}
		if !r.Started.IsZero() {
			s.Timestamp = r.Started.UTC().Format("2006-01-02T15:04:05")
		}
		class := "esp8266sim." + r.Scenario
		if r.Error != "" {
			s.Errors++
			s.Cases = append(s.Cases, junitCase{Name: "run", Classname: class, Time: "0.000",
				Error: &junitFailure{Message: firstLine(r.Error), Type: "error", Text: r.Error}})
		}
		if r.Cancelled {
			s.Errors++
			s.Cases = append(s.Cases, junitCase{Name: "run", Classname: class, Time: "0.000",
				Error: &junitFailure{Message: "the run was cancelled", Type: "cancelled", Text: r.EndReason}})
		}
		for _, b := range r.Boards {
			// A program that ended in a way nothing expected fails CI even
			// when every expectation held.
			if !b.endedAsExpected() {
				s.Failures++
				why := exitText(b.Exit)
				s.Cases = append(s.Cases, junitCase{Name: b.Name + " program ends as expected", Classname: class, Time: fmt.Sprintf("%.3f", b.Exit.At.Seconds()),
					Failure: &junitFailure{Message: why, Type: "exit", Text: why + "\n" + b.Exit.Traceback}})
			}
		}
		for _, e := range r.Expectations {
			c := junitCase{Name: e.Description, Classname: class, Time: fmt.Sprintf("%.3f", e.At.Seconds())}
			if !e.Passed {
				s.Failures++
				c.Failure = &junitFailure{Message: firstLine(e.Reason), Type: "expectation", Text: e.Reason}
			}
			s.Cases = append(s.Cases, c)
		}
		s.Tests = len(s.Cases)
		var out strings.Builder
		for _, b := range r.Boards {
			fmt.Fprintf(&out, "== %s: %s; wifi %s\n", b.Name, exitText(b.Exit), wifiText(b.WiFi))
			for _, l := range b.Console {
				out.WriteString(l + "\n")
			}
		}
		s.SystemOut = out.String()
		doc.Suites = append(doc.Suites, s)
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Errors += s.Errors
		total += r.WallTime
	}
	doc.Time = fmt.Sprintf("%.3f", total.Seconds())
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("writing junit xml: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
