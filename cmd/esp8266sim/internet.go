package main

import (
	"github.com/spf13/pflag"
)

// internetFlags open the host's real network to the boards (issue 18).
type internetFlags struct {
	internet bool
	resolve  []string
}

func (f *internetFlags) register(fl *pflag.FlagSet) {
	fl.BoolVar(&f.internet, "internet", false, "let boards reach the host's real network through a NAT (names the scenario does not define resolve through the host's resolver); implies --realtime, since the real network runs in real time")
	fl.StringArrayVar(&f.resolve, "resolve", nil, "pin a name for the boards' DNS as NAME:ADDR, like curl's --resolve (repeatable); with --internet, NAME:127.0.0.2 reaches a service on this computer")
}

// sets are the scenario overrides the flags ask for.
func (f *internetFlags) sets() []string {
	var out []string
	if f.internet {
		out = append(out, "internet.mode=passthrough")
	}
	for _, r := range f.resolve {
		out = append(out, "internet.resolve[+]="+yamlQuote(r))
	}
	return out
}
