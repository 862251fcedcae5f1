package scenario

import (
	"os"
	"strings"
	"testing"
)

// TestDocExampleIsFullYAML keeps the annotated example of the package
// comment identical to testdata/good/full.yaml, which the tests load.
func TestDocExampleIsFullYAML(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	_, example, ok := strings.Cut(string(doc), "in full.toml and full.json):\n//\n")
	if !ok {
		t.Fatal("doc.go: the example's introduction is missing")
	}
	example, _, _ = strings.Cut(example, "\npackage scenario")
	var b strings.Builder
	for _, l := range strings.Split(example, "\n") {
		l = strings.TrimPrefix(l, "//")
		b.WriteString(strings.TrimPrefix(l, "\t") + "\n")
	}
	want, err := os.ReadFile("testdata/good/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("the example in doc.go differs from testdata/good/full.yaml; regenerate it from the file")
	}
}
