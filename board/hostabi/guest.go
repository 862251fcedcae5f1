package hostabi

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/tetratelabs/wazero/api"
)

// Guest is the firmware's linear memory as the host side of its imports
// reads and writes it: the wasm memory's own accessors, plus the shapes the
// import protocol passes (32-bit words, C strings, an Emscripten struct
// stat). It is a view, as cheap to copy as the memory it wraps, and holds
// no state of its own.
//
// U32 and PutU32 panic on an address outside memory: the firmware passes
// addresses it computed itself, so one outside memory is a broken guest,
// and the run ends with that message rather than reading garbage.
type Guest struct {
	api.Memory
}

// NewGuest is the view of mem.
func NewGuest(mem api.Memory) Guest { return Guest{mem} }

// U32 reads the little-endian word at addr.
func (g Guest) U32(addr uint32) uint32 {
	v, ok := g.ReadUint32Le(addr)
	if !ok {
		panic(fmt.Errorf("firmware passed an address outside memory: %#x", addr))
	}
	return v
}

// PutU32 writes v as the little-endian word at addr.
func (g Guest) PutU32(addr, v uint32) {
	if !g.WriteUint32Le(addr, v) {
		panic(fmt.Errorf("firmware passed an address outside memory: %#x", addr))
	}
}

// maxCString bounds CString: the firmware's names and paths are short, and
// a missing NUL must not walk the whole memory.
const maxCString = 4096

// CString reads the NUL-terminated string at addr (at most 4096 bytes; it
// stops at the end of memory).
func (g Guest) CString(addr uint32) string {
	var out []byte
	for i := uint32(0); i < maxCString; i++ {
		c, ok := g.ReadByte(addr + i)
		if !ok || c == 0 {
			break
		}
		out = append(out, c)
	}
	return string(out)
}

// PutCString writes s and a NUL at addr (len(s)+1 bytes the caller
// allocated).
func (g Guest) PutCString(addr uint32, s string) {
	g.Write(addr, []byte(s))
	g.WriteByte(addr+uint32(len(s)), 0)
}

// StatSize is the size of Emscripten's struct stat (wasm32).
const StatSize = 96

// PutStat fills the struct stat at addr for a regular file or a
// directory: mode, size, block size and count, and mtime as all three
// times. The board's FAT has no owner, links or inode to report.
func (g Guest) PutStat(addr uint32, isDir bool, size int, mtime time.Time) {
	var st [StatSize]byte
	mode := uint32(0x8000) // S_IFREG, as FAT on the board reports
	if isDir {
		mode = 0x4000
	}
	binary.LittleEndian.PutUint32(st[4:], mode)
	binary.LittleEndian.PutUint64(st[24:], uint64(size))
	binary.LittleEndian.PutUint32(st[32:], 4096)
	binary.LittleEndian.PutUint32(st[36:], uint32((size+511)/512))
	sec := uint64(mtime.Unix())
	for _, off := range []int{40, 56, 72} {
		binary.LittleEndian.PutUint64(st[off:], sec)
	}
	g.Write(addr, st[:])
}

// IOVec is entry i of the WASI iovec array at iovs (pairs of words:
// address, length): the bytes it names, aliased, or false when they lie
// outside memory.
func (g Guest) IOVec(iovs, i uint32) ([]byte, bool) {
	return g.Read(g.U32(iovs+8*i), g.U32(iovs+8*i+4))
}
