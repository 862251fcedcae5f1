package netstack

import (
	"os/exec"
	"strings"
	"testing"
)

// Imports flow one way: the network never reaches up into the world, the
// boards or the CLI (STYLE.md, rule 1).
func TestDependencies(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not found")
	}
	const mod = "github.com/esp8266sim/esp8266sim/"
	for _, pkg := range []string{mod + "netstack", mod + "internal/trace"} {
		out, err := exec.Command(goTool, "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, bad := range []string{mod + "sim", mod + "board", mod + "wifi", mod + "cmd", "github.com/spf13/"} {
				if dep == bad || strings.HasPrefix(dep, bad+"/") || (strings.HasSuffix(bad, "/") && strings.HasPrefix(dep, bad)) {
					t.Errorf("%s depends on %s; it must not", pkg, dep)
				}
			}
		}
	}
}
