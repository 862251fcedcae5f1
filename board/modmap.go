package board

import (
	"context"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// On the ESP8266 the modules a script imports most (machine, network,
// time, os, socket, gc, sys, ...) are C built-ins: py/builtinimport.c
// returns them straight from the firmware's module maps, so they never
// appear in sys.modules, and `import utime` reaches `time` through the
// u-alias of the extensible map (py/objmodule.c mp_module_get_builtin).
// The board's stand-ins for them are Python modules, and the simulator's
// own modules (_board, _sock, ...) are registered host modules: both land
// in sys.modules when they load. hideModules moves them into the
// firmware's two built-in module maps instead, at boot, after the board's
// modules have loaded (board/lib/_surface.py hide lists them).

func init() {
	// _board.keep(obj): the host holds the firmware's handle of obj for the
	// life of the interpreter, so obj (and what it refers to) is a GC root:
	// the module maps are in static memory, which the collector does not
	// scan.
	RegisterFunc("_board", "keep", func(b *Board, args []Value) (Value, error) {
		if len(args) != 1 {
			return nil, TypeError("keep() takes one argument")
		}
		o, ok := args[0].(PyObject)
		if !ok {
			return nil, TypeError("keep() takes an object")
		}
		for i, r := range b.refs.pendingFree {
			if r == o.Ref() {
				b.refs.pendingFree = append(b.refs.pendingFree[:i], b.refs.pendingFree[i+1:]...)
				break
			}
		}
		return nil, nil
	})
}

// hideModules runs _surface.hide, which empties sys.modules, and writes
// the modules into the firmware's maps: the extensible ones (_EXT) into
// the extensible map, their files off frozenDir (fs_frozen.go); the frozen
// ones (_FROZEN) into the built-in map, hooked to enter sys.modules on
// first import; packages (_PKG) back into sys.modules; _DROP nowhere; the
// rest into the built-in map. Each map is a const mp_map_t
// (count<<3 | qstr keys, fixed and ordered; alloc; table) searched
// linearly: its new table (C heap, live as long as the interpreter) holds
// the old entries, the value of a key we also give replaced, then ours.
func (b *Board) hideModules(ctx context.Context) error {
	mod, err := b.importPy(ctx, "_surface")
	if err != nil {
		return err
	}
	hide, err := b.attrPy(ctx, mod, "hide")
	if err != nil {
		return err
	}
	// The ESP8266's sys.path names its frozen modules '.frozen'; a firmware
	// whose import sends that prefix to its own frozen table keeps
	// frozenDir (firmware/frozenprefix.go).
	entry := frozenDir
	if b.fw.img.FrozenDir {
		entry = boardFrozenEntry
	}
	v, err := b.callPy(ctx, hide, entry)
	if err != nil {
		return err
	}
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("board %s: _surface.hide returned %T", b.cfg.Name, v)
	}
	fields := strings.Fields(s)
	if len(fields) < 10 {
		return fmt.Errorf("board %s: _surface.hide returned %q", b.cfg.Name, s)
	}
	var w []uint32
	for _, f := range fields[:10] {
		n, err := strconv.ParseUint(f, 10, 32)
		if err != nil {
			return fmt.Errorf("board %s: _surface.hide: %w", b.cfg.Name, err)
		}
		w = append(w, uint32(n))
	}
	keys, vals := b.listWords(w[4]), b.listWords(w[5])
	if len(keys) != len(vals) {
		return fmt.Errorf("board %s: _surface.hide: %d keys, %d values", b.cfg.Name, len(keys), len(vals))
	}
	// names: the key words of _EXT and _FROZEN, in order, to their names.
	names := map[uint32]string{}
	set := func(t uint32) map[uint32]bool {
		m := map[uint32]bool{}
		for _, k := range b.tupleWords(t) {
			m[k] = true
			if len(names) < len(fields)-10 {
				names[k] = fields[10+len(names)]
			}
		}
		return m
	}
	ext, frozen, pkg, drop := set(w[6]), set(w[7]), set(w[8]), set(w[9])
	var add [2][][2]uint32
	var back, hooks []string
	var files []string
	for i, k := range keys {
		switch e := [2]uint32{k, vals[i]}; {
		case drop[k]:
		case pkg[k]:
			back = append(back, strconv.Itoa(i))
		case frozen[k]:
			hooks = append(hooks, strconv.Itoa(i))
			add[0] = append(add[0], e)
		case ext[k]:
			add[1] = append(add[1], e)
			files = append(files, names[k])
		default:
			add[0] = append(add[0], e)
		}
	}
	for m := range 2 {
		hdr, ok := b.findROMMap(w[2*m], w[2*m+1])
		if !ok {
			return fmt.Errorf("board %s: module map %d not found", b.cfg.Name, m)
		}
		if err := b.extendROMMap(ctx, hdr, add[m]); err != nil {
			return err
		}
	}
	b.fs.hideFrozen(files)
	// A handle of a Python object lasts until the next call: look again.
	if mod, err = b.importPy(ctx, "_surface"); err != nil {
		return err
	}
	restore, err := b.attrPy(ctx, mod, "restore")
	if err != nil {
		return err
	}
	_, err = b.callPy(ctx, restore, strings.Join(back, " "), strings.Join(hooks, " "))
	return err
}

// listWords reads the items of the list object at addr (mp_obj_list_t:
// base, alloc, len, items).
func (b *Board) listWords(addr uint32) []uint32 {
	n, _ := b.mem.ReadUint32Le(addr + 8)
	items, _ := b.mem.ReadUint32Le(addr + 12)
	return b.words(items, n)
}

// tupleWords reads the items of the tuple object at addr (base, len,
// items...).
func (b *Board) tupleWords(addr uint32) []uint32 {
	n, _ := b.mem.ReadUint32Le(addr + 4)
	return b.words(addr+8, n)
}

func (b *Board) words(addr, n uint32) []uint32 {
	if n > 1<<12 {
		return nil
	}
	data, ok := b.mem.Read(addr, 4*n)
	if !ok {
		return nil
	}
	out := make([]uint32, n)
	for i := range out {
		out[i] = binary.LittleEndian.Uint32(data[4*i:])
	}
	return out
}

// romMaps remembers where each module map's header was found, by anchor:
// the firmware's data segment is laid out the same at every boot, so the
// scan runs once per process. A remembered place is checked before use.
var romMaps sync.Map // [2]uint32{key, val} -> header address

// findROMMap gives the address of the const map whose table holds the
// entry (key, val), searching the window around val as applySurface does.
func (b *Board) findROMMap(key, val uint32) (uint32, bool) {
	anchor := [2]uint32{key, val}
	if h, ok := romMaps.Load(anchor); ok && b.romMapHolds(h.(uint32), key, val) {
		return h.(uint32), true
	}
	lo := (val - min(val, surfaceWindow)) &^ 7
	hi := min(val+surfaceWindow, b.mem.Size())
	mem, ok := b.mem.Read(lo, hi-lo)
	if !ok {
		return 0, false
	}
	h, ok := romMapOf(mem, lo, key, val)
	if !ok {
		return 0, false
	}
	romMaps.Store(anchor, lo+uint32(h))
	return lo + uint32(h), true
}

// romMapHolds reports whether hdr is a const map whose table holds the
// entry (key, val).
func (b *Board) romMapHolds(hdr, key, val uint32) bool {
	w := b.words(hdr, 3)
	if len(w) != 3 {
		return false
	}
	n := w[0] >> 3
	if w[0]&7 != 7 || w[1] != n || n == 0 {
		return false
	}
	t := b.words(w[2], 2*n)
	for i := 0; i+1 < len(t); i += 2 {
		if t[i] == key && t[i+1] == val {
			return true
		}
	}
	return false
}

// romMapOf finds the header of the const map (see removeROMEntry) whose
// table holds the pair (key, val): its offset in mem.
func romMapOf(mem []byte, base, key, val uint32) (int, bool) {
	le := binary.LittleEndian
	for e := 0; e+8 <= len(mem); e += 4 {
		if le.Uint32(mem[e:]) != key || le.Uint32(mem[e+4:]) != val {
			continue
		}
		ea := base + uint32(e)
		for h := 0; h+12 <= len(mem); h += 4 {
			flags, alloc, table := le.Uint32(mem[h:]), le.Uint32(mem[h+4:]), le.Uint32(mem[h+8:])
			n := flags >> 3
			if flags&7 != 7 || alloc != n || n == 0 || table < base || ea < table || ea >= table+8*n ||
				(ea-table)%8 != 0 || uint64(table-base)+8*uint64(n) > uint64(len(mem)) {
				continue
			}
			return h, true
		}
	}
	return 0, false
}

// extendROMMap gives the const map at hdr a new table: its entries, the
// values of keys in add replaced, then the rest of add.
func (b *Board) extendROMMap(ctx context.Context, hdr uint32, add [][2]uint32) error {
	if len(add) == 0 {
		return nil
	}
	flags, _ := b.mem.ReadUint32Le(hdr)
	table, _ := b.mem.ReadUint32Le(hdr + 8)
	n := flags >> 3
	old, ok := b.mem.Read(table, 8*n)
	if !ok {
		return fmt.Errorf("board %s: module map table outside memory", b.cfg.Name)
	}
	entries := mergeEntries(old, add)
	p := b.malloc(ctx, uint32(8*len(entries)))
	if p == 0 {
		return fmt.Errorf("board %s: out of memory extending the module map", b.cfg.Name)
	}
	buf := make([]byte, 8*len(entries))
	for i, e := range entries {
		binary.LittleEndian.PutUint32(buf[8*i:], e[0])
		binary.LittleEndian.PutUint32(buf[8*i+4:], e[1])
	}
	b.mem.Write(p, buf)
	c := uint32(len(entries))
	b.mem.WriteUint32Le(hdr, flags&7|c<<3)
	b.mem.WriteUint32Le(hdr+4, c)
	b.mem.WriteUint32Le(hdr+8, p)
	return nil
}

// mergeEntries returns the (key, value) pairs of the table old with the
// values of keys in add replaced, followed by add's other pairs in order.
func mergeEntries(old []byte, add [][2]uint32) [][2]uint32 {
	le := binary.LittleEndian
	byKey := map[uint32]int{}
	var out [][2]uint32
	for i := 0; i+8 <= len(old); i += 8 {
		k := le.Uint32(old[i:])
		byKey[k] = len(out)
		out = append(out, [2]uint32{k, le.Uint32(old[i+4:])})
	}
	for _, a := range add {
		if i, ok := byKey[a[0]]; ok {
			out[i][1] = a[1]
			continue
		}
		byKey[a[0]] = len(out)
		out = append(out, a)
	}
	return out
}
