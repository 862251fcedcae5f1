package scenario

import (
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/esp8266sim/esp8266sim/scenarios"
	"github.com/esp8266sim/esp8266sim/scripts"
)

func TestMountFS(t *testing.T) {
	fsys := MountFS(map[string]fs.FS{
		"scenarios": fstest.MapFS{"a.yaml": {Data: []byte("boards: [{name: esp1, script: ../scripts/a.py}]\n")}},
		"scripts":   fstest.MapFS{"a.py": {Data: []byte("print(1)\n")}, "lib/b.py": {Data: []byte("")}},
	})
	if err := fstest.TestFS(fsys, "scenarios/a.yaml", "scripts/a.py", "scripts/lib/b.py"); err != nil {
		t.Fatal(err)
	}
	s, err := ParseFS(fsys, "scenarios/a.yaml")
	if err != nil {
		t.Fatalf("ParseFS: %v", err)
	}
	if s.Boards[0].Script != "scripts/a.py" {
		t.Errorf("Script resolved to %q, want scripts/a.py", s.Boards[0].Script)
	}
	data, err := s.ReadFile(s.Boards[0].Script)
	if err != nil || string(data) != "print(1)\n" {
		t.Errorf("ReadFile(%q) = %q, %v", s.Boards[0].Script, data, err)
	}
}

func TestParseFSPathsStayInside(t *testing.T) {
	fsys := fstest.MapFS{
		"s.yaml":  {Data: []byte("boards: [{name: esp1, script: ../../etc/passwd}]\n")},
		"ok.yaml": {Data: []byte("boards: [{name: esp1, script: missing.py}]\n")},
	}
	_, err := ParseFS(fsys, "s.yaml")
	want := `s.yaml:1: boards[0].script: file "../../etc/passwd" not found; paths are relative to the scenario file`
	if err == nil || err.Error() != want {
		t.Errorf("ParseFS error = %v, want %s", err, want)
	}
	_, err = ParseFS(fsys, "ok.yaml")
	want = `ok.yaml:1: boards[0].script: file "missing.py" not found; paths are relative to the scenario file`
	if err == nil || err.Error() != want {
		t.Errorf("ParseFS error = %v, want %s", err, want)
	}
	_, err = ParseFS(fsys, "none.yaml")
	if want := "none.yaml: cannot read scenario: file does not exist"; err == nil || err.Error() != want {
		t.Errorf("ParseFS(missing) error = %v, want %s", err, want)
	}
}

// TestEmbeddedScenarios loads every scenario shipped in the binary: each
// must be valid, with its scripts present.
func TestEmbeddedScenarios(t *testing.T) {
	fsys := MountFS(map[string]fs.FS{"scenarios": scenarios.FS, "scripts": scripts.FS})
	entries, err := List(fsys, "scenarios")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 {
		t.Fatal("no embedded scenarios")
	}
	for _, e := range entries {
		if e.Err != nil {
			t.Errorf("%s: %v", e.Path, e.Err)
		}
		if e.Name == "" || e.Description == "" {
			t.Errorf("%s: name %q, description %q: every shipped scenario needs both", e.Path, e.Name, e.Description)
		}
	}
}

func TestList(t *testing.T) {
	fsys := fstest.MapFS{
		"d/a.yaml":   {Data: []byte("description: first\nboards: [{name: e}]\n")},
		"d/b.toml":   {Data: []byte("name = \"bee\"\n[[boards]]\nname = \"e\"\n")},
		"d/c.json":   {Data: []byte(`{"boards": []}`)},
		"d/notes.md": {Data: []byte("#")},
	}
	got, err := List(fsys, "d")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range got {
		names = append(names, e.Name)
	}
	if strings.Join(names, ",") != "a,bee,c" {
		t.Errorf("names = %v, want a, bee, c", names)
	}
	if got[0].Description != "first" || got[2].Err == nil {
		t.Errorf("entries = %+v", got)
	}
}
