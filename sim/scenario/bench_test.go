package scenario

import (
	"os"
	"testing"
)

// BenchmarkParse measures loading the complete example in each format
// (decode, file checks, defaults, validation).
func BenchmarkParse(b *testing.B) {
	for _, name := range []string{"full.yaml", "full.toml", "full.json"} {
		data, err := os.ReadFile("testdata/good/" + name)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse("testdata/good/"+name, data, ""); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
