package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/esp8266sim/esp8266sim/sim"
)

func TestWriteDisplays(t *testing.T) {
	dir := t.TempDir()
	res := &sim.Result{Boards: []sim.BoardResult{{Name: "esp1", Displays: map[string][]byte{"ssd1306@0x3c": []byte("png-bytes")}}}}
	if err := writeDisplays(filepath.Join(dir, "out"), res); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "out", "esp1-ssd1306-0x3c.png"))
	if err != nil || !bytes.Equal(got, []byte("png-bytes")) {
		t.Fatalf("file: %q, %v", got, err)
	}
	if err := writeDisplays("", res); err != nil {
		t.Fatalf("no directory: %v", err)
	}
}
