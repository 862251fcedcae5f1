package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/esp8266sim/esp8266sim/sim"
)

// writeDisplays writes every board's display panels as PNG files into dir
// (--display-dir), named board-device.png.
func writeDisplays(dir string, res *sim.Result) error {
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--display-dir: %w", err)
	}
	for _, b := range res.Boards {
		names := make([]string, 0, len(b.Displays))
		for n := range b.Displays {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			file := filepath.Join(dir, b.Name+"-"+strings.NewReplacer("@", "-", "/", "-").Replace(n)+".png")
			if err := os.WriteFile(file, b.Displays[n], 0o644); err != nil {
				return fmt.Errorf("--display-dir: %w", err)
			}
		}
	}
	return nil
}
