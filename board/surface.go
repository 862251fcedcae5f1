package board

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// surfaceSource gives the firmware the ESP8266's built-in surface at boot
// (board/lib/_surface.py): the names ports/esp8266/mpconfigport.h compiles
// out leave the firmware's ROM tables and the pyscript build's frozen
// modules stop importing. It runs before _esp8266._hold (memory is not yet
// held, so its few allocations are cheap); applySurface finishes the work.
const surfaceSource = "import _surface\n_surface.apply()\n"

// applySurface removes the built-in C modules the ESP8266 has not from the
// firmware's builtin module map, then drops _surface from sys.modules. The
// map is reachable from no Python object, so the host finds it in linear
// memory: _surface.pairs() gives each module's (qstr key, object) words.
func (b *Board) applySurface(ctx context.Context) error {
	mod, err := b.importPy(ctx, "_surface")
	if err != nil {
		return err
	}
	fn, err := b.attrPy(ctx, mod, "pairs")
	if err != nil {
		return err
	}
	v, err := b.callPy(ctx, fn)
	if err != nil {
		return err
	}
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("board %s: _surface.pairs returned %T", b.cfg.Name, v)
	}
	var words []uint32
	for _, f := range strings.Fields(s) {
		n, err := strconv.ParseUint(f, 10, 32)
		if err != nil {
			return fmt.Errorf("board %s: _surface.pairs: %w", b.cfg.Name, err)
		}
		words = append(words, uint32(n))
	}
	if len(words) == 0 {
		return fmt.Errorf("board %s: _surface.pairs returned nothing", b.cfg.Name)
	}
	// The built-in modules are ROM objects: the firmware's data segment,
	// with its tables and strings, lies around them. Scanning this window
	// rather than all of memory keeps the boot cost to a few milliseconds.
	lo, hi := words[1], words[1]
	for i := 1; i < len(words); i += 2 {
		lo, hi = min(lo, words[i]), max(hi, words[i])
	}
	lo = (lo - min(lo, surfaceWindow)) &^ 7
	hi = min(hi+surfaceWindow, b.mem.Size())
	mem, ok := b.mem.Read(lo, hi-lo)
	if !ok {
		return fmt.Errorf("board %s: reading memory", b.cfg.Name)
	}
	for i := 0; i+1 < len(words); i += 2 {
		removeROMEntry(mem, lo, words[i], words[i+1])
	}
	redirectText(mem, lo, "pystack exhausted", "maximum recursion depth exceeded")
	for _, q := range detachedQstrs {
		shortenQstr(mem, lo, q)
	}
	// _surface stays loaded until hideModules is done with it.
	return b.exec(ctx, "del _surface\n")
}

// removeROMEntry removes the entry (key, val) from the const mp_map_t that
// holds it, in place: mem is the module's linear memory (a view, so writes
// land in the board). A const map's header is three words: the count
// shifted left by 3 over the all-qstr-keys, fixed and ordered bits (all
// set), the allocation (equal to the count) and the table's address.
// Fixed ordered maps are searched linearly over the count, so moving the
// later entries down one pair and lowering the count removes the name as
// if the C source had never defined it. Reports whether it found one.
func removeROMEntry(mem []byte, base, key, val uint32) bool {
	le := binary.LittleEndian
	for e := 0; e+8 <= len(mem); e += 4 {
		if le.Uint32(mem[e:]) != key || le.Uint32(mem[e+4:]) != val {
			continue
		}
		for h := 0; h+12 <= len(mem); h += 4 {
			flags, alloc, table := le.Uint32(mem[h:]), le.Uint32(mem[h+4:]), le.Uint32(mem[h+8:])
			n := flags >> 3
			ea := base + uint32(e)
			if flags&7 != 7 || alloc != n || n == 0 || table < base || ea < table || ea >= table+8*n ||
				(ea-table)%8 != 0 || uint64(table-base)+8*uint64(n) > uint64(len(mem)) {
				continue
			}
			end := int(table - base + 8*n)
			copy(mem[e:end-8], mem[e+8:end])
			le.PutUint32(mem[end-8:], 0)
			le.PutUint32(mem[end-4:], 0)
			le.PutUint32(mem[h:], 7|(n-1)<<3)
			le.PutUint32(mem[h+4:], n-1)
			return true
		}
	}
	return false
}

// detachedQstrs are names the firmware's C code looks for by qstr number
// where the ESP8266's has no such code: a script's name stops matching
// (shortenQstr).
//   - __setattr__, __delattr__: MICROPY_PY_DELATTR_SETATTR is 0, so a
//     class's hooks are plain methods, never called by attribute stores
//     (py/objtype.c).
//   - ps1, ps2: MICROPY_PY_SYS_PS1_PS2 is 0, so sys has neither (the
//     REPL's prompts are read by index, py/modsys.c sys_mutable_keys).
var detachedQstrs = []string{"__setattr__", "__delattr__", "ps1", "ps2"}

// surfaceWindow is how far around the built-in modules applySurface looks
// (the firmware's data segment is some 120 KiB).
const surfaceWindow = 256 << 10

// redirectText makes the firmware's one qstr holding the C string from
// hold the C string to instead, so an error raised with the first message
// carries the second. Reports whether it did; it does nothing unless each
// string and the pointer to from occur exactly once.
func redirectText(mem []byte, base uint32, from, to string) bool {
	addr := func(s string) (uint32, bool) {
		pat := append(append([]byte{0}, s...), 0)
		i := bytes.Index(mem, pat)
		if i < 0 || bytes.Index(mem[i+1:], pat) >= 0 {
			return 0, false
		}
		return base + uint32(i+1), true
	}
	f, ok1 := addr(from)
	t, ok2 := addr(to)
	if !ok1 || !ok2 {
		return false
	}
	at, ok := uniqueWord(mem, f)
	if !ok || len(to) > 255 {
		return false
	}
	l := qstrLength(mem, base, at, len(from))
	if l == nil {
		return false
	}
	*l = byte(len(to))
	binary.LittleEndian.PutUint32(mem[at:], t)
	return true
}

// uniqueWord gives the offset of the one aligned word of mem holding w.
func uniqueWord(mem []byte, w uint32) (int, bool) {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], w)
	at := -1
	for i := 0; i+4 <= len(mem); i += 4 {
		if bytes.Equal(mem[i:i+4], b[:]) {
			if at >= 0 {
				return 0, false
			}
			at = i
		}
	}
	return at, at >= 0
}

// qstrLength finds the length byte of the static qstr whose text pointer
// sits at offset at, textLen long: the pointer is in the pool's qstrs[],
// its length in the parallel lengths[] (one byte each) named by the pool
// header just before qstrs[]: ..., alloc, len, hashes, lengths. The hash
// stays the old one: interning the new text still finds its own qstr
// first.
func qstrLength(mem []byte, base uint32, at, textLen int) *byte {
	le := binary.LittleEndian
	for start := at; start >= 24 && at-start < 4*8192; start -= 4 {
		alloc, n := le.Uint32(mem[start-16:]), le.Uint32(mem[start-12:])
		hashes, lengths := le.Uint32(mem[start-8:]), le.Uint32(mem[start-4:])
		idx := uint32(at-start) / 4
		// A static pool's counts are small; the words of qstrs[] itself
		// (pointers) fail this. Its length byte must read the text's.
		if n > 8192 || alloc > 8192 || idx >= n || hashes < base || int(hashes-base) >= len(mem) ||
			lengths < base || int(lengths-base+n) > len(mem) || mem[lengths-base+idx] != byte(textLen) {
			continue
		}
		return &mem[lengths-base+idx]
	}
	return nil
}

// shortenQstr makes the firmware's static qstr text one byte shorter
// (only its length byte changes), so the name no longer interns to it:
// qstr_find_strn compares hash, length and text, and the binary search of
// a sorted pool still sees the same text. Code that compares with the
// qstr's number then never sees the name a script writes. Reports whether
// it did; it does nothing unless the text and its pointer occur once.
func shortenQstr(mem []byte, base uint32, text string) bool {
	pat := append(append([]byte{0}, text...), 0)
	i := bytes.Index(mem, pat)
	if i < 0 || bytes.Index(mem[i+1:], pat) >= 0 {
		return false
	}
	at, ok := uniqueWord(mem, base+uint32(i+1))
	if !ok {
		return false
	}
	l := qstrLength(mem, base, at, len(text))
	if l == nil {
		return false
	}
	*l--
	return true
}
