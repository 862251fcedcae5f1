package report

// Internet is set on a run that used the host's real network (internet
// passthrough): its flows leave the simulation, so the run is neither
// reproducible nor sandboxed, and the report says so.
type Internet struct {
	// Flows are the NAT mappings in the order they were made, one line
	// each: protocol, board endpoint, destination (and its name), host
	// endpoint dialed, bytes each way and how the flow ended.
	Flows []string
	// More counts flows not listed (the list keeps the first thousand).
	More int
}

type jsonInternet struct {
	RealNetwork bool     `json:"real_network"`
	Flows       []string `json:"flows"`
	More        int      `json:"more_flows,omitempty"`
}

func (in *Internet) json() *jsonInternet {
	if in == nil {
		return nil
	}
	return &jsonInternet{RealNetwork: true, Flows: append([]string{}, in.Flows...), More: in.More}
}

// writeInternet says, even in quiet mode, that the run used the real
// network (so its outcome may depend on the world outside); the flows
// follow unless quiet.
func writeInternet(ew *errWriter, in *Internet, quiet bool) {
	if in == nil {
		return
	}
	ew.printf("this run used the real network (internet passthrough); flows through the NAT: %d\n", len(in.Flows)+in.More)
	if quiet {
		return
	}
	for _, f := range in.Flows {
		ew.printf("  %s\n", printable(f))
	}
	if in.More > 0 {
		ew.printf("  … and %d more\n", in.More)
	}
}
