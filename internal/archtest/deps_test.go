// Package archtest holds tests about the shape of the code base itself.
package archtest

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/esp8266sim/esp8266sim"

// forbidden lists, per layer, the layers it must never import. Imports flow
// cmd → sim → {board, wifi, netstack}; board knows nothing of the network
// packages (it owns the small interfaces sim satisfies).
var forbidden = map[string][]string{
	"board":    {"cmd", "sim", "netstack", "wifi"},
	"netstack": {"cmd", "sim", "board", "wifi"},
	"wifi":     {"cmd", "sim", "board"},
	"sim":      {"cmd"},
	"internal": {"cmd", "sim", "board", "wifi", "netstack"},
}

// frameworks may only be imported by the CLI (and, for viper, the scenario
// loader).
var frameworks = map[string][]string{
	"github.com/spf13/cobra": {"cmd"},
	"github.com/spf13/viper": {"cmd", "sim/scenario"},
}

type pkg struct {
	ImportPath string
	// Deps are all transitive dependencies; Imports the direct ones.
	Deps    []string
	Imports []string
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	out, err := exec.Command("go", "list", "-json", module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("decoding go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func layer(importPath string) string {
	rel := strings.TrimPrefix(importPath, module+"/")
	return strings.SplitN(rel, "/", 2)[0]
}

func TestImportsFlowOneWay(t *testing.T) {
	for _, p := range listPackages(t) {
		from := layer(p.ImportPath)
		rel := strings.TrimPrefix(p.ImportPath, module+"/")
		for _, dep := range p.Deps {
			if strings.HasPrefix(dep, module+"/") {
				to := layer(dep)
				for _, bad := range forbidden[from] {
					if to == bad {
						t.Errorf("%s imports %s: %s must not depend on %s", rel, strings.TrimPrefix(dep, module+"/"), from, bad)
					}
				}
			}
		}
		for _, dep := range p.Imports {
			for fw, allowed := range frameworks {
				if dep != fw && !strings.HasPrefix(dep, fw+"/") {
					continue
				}
				ok := false
				for _, a := range allowed {
					if rel == a || strings.HasPrefix(rel, a+"/") {
						ok = true
					}
				}
				if !ok {
					t.Errorf("%s depends on %s, which belongs in %v only", rel, fw, allowed)
				}
			}
		}
	}
}
