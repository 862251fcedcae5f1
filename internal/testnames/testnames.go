// Package testnames lists the Test functions declared in a repository's
// test files, for the coverage tests that map every CLI flag, scenario
// field and kind to the test that shows its effect (cmd/esp8266sim's
// flags_test.go, sim's coverage_test.go): an entry naming a test that does
// not exist fails them.
package testnames

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

var testFunc = regexp.MustCompile(`(?m)^func (Test\w+)\(`)

// In returns the name of every top-level TestXxx function in the _test.go
// files under root, skipping node_modules and hidden directories (a
// worktree's .git, editor state) below it.
func In(root string) (map[string]bool, error) {
	names := map[string]bool{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != root && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if !strings.HasSuffix(p, "_test.go") {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range testFunc.FindAllSubmatch(data, -1) {
			names[string(m[1])] = true
		}
		return nil
	})
	return names, err
}
