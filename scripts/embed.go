// Package scripts holds the MicroPython programs of the tutorials, runnable
// as they are on a real ESP8266 or in esp8266sim. They are embedded so the
// scenarios in ../scenarios can be run from the binary alone.
package scripts

import "embed"

// FS holds every script of this directory.
//
//go:embed *.py www ref
var FS embed.FS
