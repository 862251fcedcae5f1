package scenario

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// canonical renders a scenario as indented JSON, the form of the golden
// files.
func canonical(tb testing.TB, s *Scenario) []byte {
	tb.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s); err != nil {
		tb.Fatalf("json.Encode: %v", err)
	}
	return b.Bytes()
}

func golden(tb testing.TB, path string, got []byte) {
	tb.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			tb.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		tb.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

var ignoreUnexported = cmpopts.IgnoreUnexported(Scenario{})

// TestFormatsAgree checks config in → struct out: the same scenario
// written in YAML, TOML and JSON loads into the same struct, and that
// struct is the golden one.
func TestFormatsAgree(t *testing.T) {
	yml, err := Load("testdata/good/full.yaml")
	if err != nil {
		t.Fatalf("Load(full.yaml): %v", err)
	}
	golden(t, "testdata/good/full.golden.json", canonical(t, yml))
	for _, name := range []string{"full.toml", "full.json"} {
		t.Run(name, func(t *testing.T) {
			got, err := Load(filepath.Join("testdata/good", name))
			if err != nil {
				t.Fatalf("Load(%s): %v", name, err)
			}
			if got.File != filepath.Join("testdata/good", name) {
				t.Errorf("File = %q", got.File)
			}
			got.File = yml.File
			if diff := cmp.Diff(yml, got, ignoreUnexported); diff != "" {
				t.Errorf("Load(%s) differs from full.yaml (-yaml +%s):\n%s", name, name, diff)
			}
		})
	}
}

// TestGoodFiles loads every other scenario in testdata/good and compares
// it with its golden JSON.
func TestGoodFiles(t *testing.T) {
	files, _ := filepath.Glob("testdata/good/*.yaml")
	for _, f := range files {
		if strings.HasSuffix(f, "full.yaml") {
			continue
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			s, err := Load(f)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			golden(t, strings.TrimSuffix(f, ".yaml")+".golden.json", canonical(t, s))
		})
	}
}

func TestParseFormatArgument(t *testing.T) {
	const src = `{"boards": [{"name": "esp1"}]}`
	for _, format := range []string{"", "json", "yaml"} {
		s, err := Parse("inline", []byte(src), format)
		if err != nil {
			t.Fatalf("Parse(format %q): %v", format, err)
		}
		if s.Boards[0].Name != "esp1" || s.Name != "inline" {
			t.Errorf("Parse(format %q) = board %q name %q", format, s.Boards[0].Name, s.Name)
		}
	}
	_, err := Parse("x", []byte(src), "xml")
	if want := `x: unknown scenario format "xml"; use yaml, toml or json`; err == nil || err.Error() != want {
		t.Errorf("Parse(format xml) error = %v, want %s", err, want)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/nope.yaml")
	if want := "testdata/nope.yaml: cannot read scenario: no such file or directory"; err == nil || err.Error() != want {
		t.Errorf("Load error = %v, want %s", err, want)
	}
	if !os.IsNotExist(AsErrors(err)[0].Err) {
		t.Errorf("the cause is not a not-exist error: %#v", AsErrors(err)[0].Err)
	}
}
