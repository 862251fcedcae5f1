package firmware

import "bytes"

// The ESP8266's sys.path is ['', '.frozen', '/lib', '/'] (py/runtime.c
// mp_init, ports/esp8266/main.c), where '.frozen' names the modules frozen
// into its flash. py/builtinimport.c sends every path starting with the
// text ".frozen/" (MP_FROZEN_PATH_PREFIX) to the firmware's own frozen
// table, never to the filesystem, and the pyscript firmware's table holds
// the pyscript build's modules (unittest, logging, ...), which the ESP8266
// has not. patchFrozenPrefix changes that text's first byte to 0x01, which
// no path starts with: '.frozen' on sys.path is then an ordinary directory
// to the import system, and the host serves it from the board's frozen
// modules (board/syscalls.go), so the board's sys.path prints as on the
// board and the pyscript build's frozen modules are unreachable.

const frozenPrefixText = ".frozen/"

// patchFrozenPrefix returns the firmware with the prefix text changed; ok
// is false (and wasm returned as it was) when the text is not found once.
func patchFrozenPrefix(wasm []byte) (out []byte, ok bool, err error) {
	secs, err := splitSections(wasm)
	if err != nil {
		return nil, false, err
	}
	ds := secs.find(11)
	if ds == nil {
		return wasm, false, nil
	}
	// The text sits in an active segment's bytes; the section's headers
	// are a few LEB128 numbers, which this NUL-framed pattern cannot match.
	pat := append(append([]byte{0}, frozenPrefixText...), 0)
	payload := wasm[ds.start:ds.end]
	i := bytes.Index(payload, pat)
	if i < 0 || bytes.Index(payload[i+1:], pat) >= 0 {
		return wasm, false, nil
	}
	at := ds.start + i + 1
	out = append([]byte(nil), wasm...)
	out[at] = 0x01
	return out, true, nil
}
