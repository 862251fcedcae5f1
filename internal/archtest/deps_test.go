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
				if !within(rel, allowed) {
					t.Errorf("%s depends on %s, which belongs in %v only", rel, fw, allowed)
				}
			}
		}
	}
}

// boardRooms lists, for each package under board/, the other board packages
// it may import. Arrows run from board down into its rooms, never back up:
// the Board composes firmware, host ABI, network, machine and devices, and
// none of them knows the Board (STYLE.md, "Where board/ is heading").
var boardRooms = map[string][]string{
	"board/firmware": {},
	"board/hostabi":  {},
	"board/net":      {"board/hostabi", "board/sockets"},
	"board/sockets":  {},
	"board/machine":  {},
	"board/devices":  {},
}

func TestBoardRoomsDoNotImportBoard(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range listPackages(t) {
		rel := strings.TrimPrefix(p.ImportPath, module+"/")
		if !strings.HasPrefix(rel, "board/") {
			continue
		}
		room := strings.Join(strings.SplitN(rel, "/", 3)[:2], "/")
		allowed, known := boardRooms[room]
		if !known {
			t.Errorf("%s is a board package this test does not know: add it to boardRooms with the rooms it may import", rel)
			continue
		}
		seen[room] = true
		for _, dep := range p.Deps {
			d := strings.TrimPrefix(dep, module+"/")
			if d == dep || !within(d, []string{"board"}) || within(d, []string{room}) {
				continue
			}
			if !within(d, allowed) {
				t.Errorf("%s imports %s: board's rooms import only %v, never the Board", rel, d, allowed)
			}
		}
	}
	if !seen["board/firmware"] {
		t.Error("found no board/firmware package: is the module path right?")
	}
}

// within reports whether the package path rel is one of dirs or below one.
func within(rel string, dirs []string) bool {
	for _, a := range dirs {
		if rel == a || strings.HasPrefix(rel, a+"/") {
			return true
		}
	}
	return false
}
