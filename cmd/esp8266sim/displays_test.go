package main

import (
	"bytes"
	"image/png"
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

// run --display-dir writes each simulated display's panel as a PNG.
func TestDisplayDirFlag(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := runWith([]string{"run", "hw_display_strip", "--quiet", "--display-dir", dir}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	pngs, _ := filepath.Glob(filepath.Join(dir, "*.png"))
	if len(pngs) == 0 {
		t.Fatalf("no PNG written to %s (stderr %s)", dir, stderr.String())
	}
	f, err := os.Open(pngs[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil || cfg.Width != 128 || cfg.Height != 64 {
		t.Errorf("%s: %dx%d, %v; want a 128x64 PNG", pngs[0], cfg.Width, cfg.Height, err)
	}
}
