package testnames

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestInFindsTopLevelTestsOnly(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"a_test.go":                "package a\n\nfunc TestOne(t *testing.T) {}\nfunc helper() {}\n\tfunc TestIndented() {}\n",
		"sub/b_test.go":            "package b\n\nfunc TestTwo(t *testing.T) {}\nfunc BenchmarkX(b *testing.B) {}\n",
		"sub/c.go":                 "package b\n\nfunc TestNotATestFile(t *testing.T) {}\n",
		"node_modules/m/m_test.go": "package m\n\nfunc TestVendored(t *testing.T) {}\n",
		".git/x_test.go":           "package x\n\nfunc TestHidden(t *testing.T) {}\n",
		"sub/.cache/y/y_test.go":   "package y\n\nfunc TestHiddenDeeper(t *testing.T) {}\n",
		"sub/testdata/z/z_test.go": "package z\n\nfunc TestInTestdata(t *testing.T) {}\n",
	}
	for name, text := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := In(root)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"TestOne": true, "TestTwo": true, "TestInTestdata": true}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("In = %v, want %v", got, want)
	}
	if _, err := In(filepath.Join(root, "missing")); err == nil {
		t.Error("In of a missing root succeeded")
	}
}
