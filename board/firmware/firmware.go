// Package firmware embeds the pinned MicroPython WebAssembly firmware
// (npm package @micropython/micropython-webassembly-pyscript, version and
// integrity hash pinned in package-lock.json) into the binary.
//
// The .wasm file is not committed: `make firmware` (part of `make`) fetches it
// with `npm ci` and copies it to board/firmware/micropython.wasm, where the
// go:embed below picks it up at build time. A build without it fails to
// compile with "pattern micropython.wasm: no matching files found": run make.
//
// The package answers "what code does the chip run?": it reads the image
// (wasmparse.go), patches it before compiling (a loop countdown to a host
// safe point, safepoint.go; direct exports for Emscripten's invoke_
// crossings, invoke.go), compiles it and finds the addresses the board needs
// (runtime.go). It knows nothing of the board: the host modules the image
// imports are the board's (board/firmware_host.go) and board/hostabi's.
package firmware

import _ "embed"

// Wasm is the embedded firmware image.
//
//go:embed micropython.wasm
var Wasm []byte

// Name describes the embedded firmware for messages.
const Name = "@micropython/micropython-webassembly-pyscript@1.27.0"
