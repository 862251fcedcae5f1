// Package scenarios holds the scenario files shipped with esp8266sim: the
// tutorial programs' worlds, with their faults and expectations. They are
// embedded in the binary (`esp8266sim list`, `esp8266sim run NAME`) and
// run by the tests. Scripts they reference live in ../scripts; read both
// through scenario.MountFS so "../scripts/x.py" resolves:
//
//	fsys := scenario.MountFS(map[string]fs.FS{"scenarios": scenarios.FS, "scripts": scripts.FS})
//	s, err := scenario.ParseFS(fsys, "scenarios/connect.yaml")
package scenarios

import "embed"

// FS holds every scenario file of this directory.
//
//go:embed *.yaml
var FS embed.FS
