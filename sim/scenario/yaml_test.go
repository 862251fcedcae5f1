package scenario

import (
	"strings"
	"testing"
)

func TestYAMLAnchorsAndMerge(t *testing.T) {
	src := `
boards:
  - &base {name: a, heap: 20000, code: "print(1)"}
  - <<: *base
    name: b
links:
  - &lossy {node: a, loss: 5}
  - {<<: *lossy, node: b}
`
	s, err := Parse("m.yaml", []byte(src), "")
	if err != nil {
		t.Fatal(err)
	}
	if b := s.Boards[1]; b.Name != "b" || b.Heap != 20000 || b.Code != "print(1)" {
		t.Errorf("merged board = %+v", b)
	}
	if l := s.Links[1]; l.Node != "b" || l.Loss != 5 {
		t.Errorf("merged link = %+v", l)
	}
}

func TestYAMLLimits(t *testing.T) {
	// A "billion laughs" document must fail cleanly.
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		b.WriteString("a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [")
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + string(rune('0'+i-1)))
		}
		b.WriteString("]\n")
	}
	_, err := Parse("bomb.yaml", []byte(b.String()), "")
	if err == nil || !strings.Contains(err.Error(), "document too large") {
		t.Errorf("alias bomb: error = %v, want 'document too large'", err)
	}
}

func TestJSONWithTabs(t *testing.T) {
	src := "{\n\t\"seed\": 3,\n\t\"boards\": [\n\t\t{\"name\": \"esp1\", \"heep\": 1}\n\t]\n}\n"
	_, err := Parse("t.json", []byte(src), "")
	want := `t.json:4: boards[0].heep: unknown key "heep" (did you mean "heap"?)`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
}

func TestEmptyDocument(t *testing.T) {
	_, err := Parse("empty.yaml", nil, "")
	want := "empty.yaml: boards: no boards: add at least one, e.g. boards: [{name: esp1, script: main.py}]"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
}

func TestNullMeansUnset(t *testing.T) {
	s, err := Parse("n.yaml", []byte("seed:\nduration: ~\nboards: [{name: esp1}]\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	if s.Seed != DefaultSeed || s.Duration.D() != DefaultDuration {
		t.Errorf("seed %d duration %s, want the defaults", s.Seed, s.Duration)
	}
}

// TestFaultForAlias checks that "duration" is another name of a fault's
// "for", and that giving both is an error.
func TestFaultForAlias(t *testing.T) {
	s, err := Parse("f.yaml", []byte("boards: [{name: e}]\nfaults: [{at: 1s, duration: 2s, kind: ap_down}]\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	if s.Faults[0].For.D().Seconds() != 2 {
		t.Errorf("For = %s", s.Faults[0].For)
	}
	_, err = Parse("f.yaml", []byte("boards: [{name: e}]\nfaults: [{at: 1s, for: 1s, duration: 2s, kind: ap_down}]\n"), "")
	want := `f.yaml:2: faults[0].duration: "for" and "duration" are the same setting; keep one`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
}
