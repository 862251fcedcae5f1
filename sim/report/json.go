package report

import (
	"encoding/json"
	"io"
	"time"
)

// The JSON form: snake_case keys, durations in seconds.

type jsonRun struct {
	Scenario     string            `json:"scenario"`
	File         string            `json:"file,omitempty"`
	Seed         uint64            `json:"seed"`
	Started      string            `json:"started,omitempty"`
	Passed       bool              `json:"passed"`
	Error        string            `json:"error,omitempty"`
	SimTime      float64           `json:"sim_time_s"`
	WallTime     float64           `json:"wall_time_s"`
	Frames       uint64            `json:"frames"`
	EndReason    string            `json:"end_reason,omitempty"`
	Boards       []jsonBoard       `json:"boards"`
	Expectations []jsonExpectation `json:"expectations"`
	Internet     *jsonInternet     `json:"internet,omitempty"`
}

type jsonBoard struct {
	Name         string       `json:"name"`
	WiFi         jsonWiFi     `json:"wifi"`
	Exit         jsonExit     `json:"exit"`
	Console      []string     `json:"console"`
	ConsoleLines int          `json:"console_lines"`
	Sockets      []jsonSocket `json:"sockets"`
	Devices      []jsonDevice `json:"devices,omitempty"`
}

type jsonDevice struct {
	Name  string `json:"name"`
	Kind  string `json:"kind"`
	Pin   int    `json:"pin"`
	State string `json:"state"`
}

type jsonWiFi struct {
	Status string `json:"status,omitempty"`
	SSID   string `json:"ssid,omitempty"`
	IP     string `json:"ip,omitempty"`
	RSSI   int    `json:"rssi,omitempty"`
}

type jsonExit struct {
	Kind      string  `json:"kind"`
	Exception string  `json:"exception,omitempty"`
	Message   string  `json:"message,omitempty"`
	Traceback string  `json:"traceback,omitempty"`
	At        float64 `json:"at_s,omitempty"`
}

type jsonSocket struct {
	Proto  string `json:"proto"`
	State  string `json:"state"`
	Local  string `json:"local,omitempty"`
	Remote string `json:"remote,omitempty"`
}

type jsonExpectation struct {
	Description string  `json:"description"`
	Passed      bool    `json:"passed"`
	Reason      string  `json:"reason,omitempty"`
	At          float64 `json:"at_s,omitempty"`
}

func seconds(d time.Duration) float64 { return d.Seconds() }

// WriteJSON writes the run as one indented JSON object.
func WriteJSON(w io.Writer, r *Run) error {
	out := jsonRun{
		Scenario: r.Scenario, File: r.File, Seed: r.Seed, Passed: r.Passed(), Error: r.Error,
		SimTime: seconds(r.SimTime), WallTime: seconds(r.WallTime), Frames: r.Frames, EndReason: r.EndReason,
		Boards: []jsonBoard{}, Expectations: []jsonExpectation{},
		Internet: r.Internet.json(),
	}
	if !r.Started.IsZero() {
		out.Started = r.Started.UTC().Format(time.RFC3339)
	}
	for _, b := range r.Boards {
		jb := jsonBoard{
			Name: b.Name,
			WiFi: jsonWiFi(b.WiFi),
			Exit: jsonExit{Kind: b.Exit.Kind, Exception: b.Exit.Exception, Message: b.Exit.Message,
				Traceback: b.Exit.Traceback, At: seconds(b.Exit.At)},
			Console:      append([]string{}, b.Console...),
			ConsoleLines: max(b.ConsoleLines, len(b.Console)),
			Sockets:      []jsonSocket{},
		}
		if jb.Exit.Kind == "" {
			jb.Exit.Kind = ExitRunning
		}
		for _, s := range b.Sockets {
			jb.Sockets = append(jb.Sockets, jsonSocket(s))
		}
		for _, d := range b.Devices {
			jb.Devices = append(jb.Devices, jsonDevice(d))
		}
		out.Boards = append(out.Boards, jb)
	}
	for _, e := range r.Expectations {
		out.Expectations = append(out.Expectations, jsonExpectation{e.Description, e.Passed, e.Reason, seconds(e.At)})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}
