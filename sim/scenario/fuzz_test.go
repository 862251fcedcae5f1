package scenario

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the loader in every format: it must
// return a scenario or an error, never panic or hang.
func FuzzParse(f *testing.F) {
	for _, glob := range []string{"testdata/good/*.yaml", "testdata/good/*.toml", "testdata/good/*.json", "testdata/bad/*"} {
		files, _ := filepath.Glob(glob)
		for _, p := range files {
			data, err := os.ReadFile(p)
			if err == nil {
				f.Add(data, uint8(len(p)))
			}
		}
	}
	f.Add([]byte("a: &a [*a]"), uint8(0))
	f.Add([]byte("<<: {seed: 1}"), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		format := []string{"yaml", "toml", "json"}[which%3]
		s, err := Overrides{Set: []string{"seed=3", "boards[0].heap=20000"}}.Parse("testdata/fuzz.yaml", data, format)
		if err == nil {
			// A valid scenario must survive its own checks again.
			s.ApplyDefaults()
			if err := s.Validate(); err != nil {
				t.Fatalf("scenario valid once, invalid after ApplyDefaults again: %v", err)
			}
			_ = s.Instances()
		} else if err.Error() == "" {
			t.Fatal("empty error message")
		}
	})
}
