package board

import (
	"encoding/binary"
	"strings"
	"testing"
)

// The names the ESP8266 build compiles out (ports/esp8266/mpconfigport.h)
// fail on the simulated board as on the real one, and their neighbours in
// the same tables still work.
func TestSurfaceMatchesESP8266(t *testing.T) {
	src := `
def t(label, f):
    try:
        r = f()
        print(label, 'ok', r)
    except Exception as e:
        print(label, type(e).__name__)

def imp(n):
    return lambda: __import__(n) and 1

for n in ('cmath', 'js', 'jsffi', 'unittest', 'logging', 'functools', 'abc', 'zlib', 'math', 'binascii', 'random', 'uctypes'):
    t('import ' + n, imp(n))
import random, math, binascii
t('center', lambda: 'a'.center(5))
t('partition', lambda: 'a,b'.partition(','))
t('rpartition', lambda: 'a,b'.rpartition(','))
t('splitlines', lambda: 'a\nb'.splitlines())
t('bytes.center', lambda: b'a'.center(5))
t('replace', lambda: 'abc'.replace('b', 'x'))
t('getattr center', lambda: getattr('a', ''.join(['cen', 'ter'])))
t('randint', lambda: random.randint(1, 2))
t('choice', lambda: random.choice([1]))
t('uniform', lambda: random.uniform(1, 2))
t('randrange', lambda: random.randrange(3))
t('random.random', lambda: random.random())
t('getrandbits', lambda: random.getrandbits(0))
t('math.inf', lambda: math.inf)
t('math.nan', lambda: math.nan)
t('math.tau', lambda: math.tau)
t('math.erf', lambda: math.erf)
t('math.gamma', lambda: math.gamma)
t('math.factorial', lambda: math.factorial)
t('math.isclose', lambda: math.isclose)
t('math.sqrt', lambda: math.sqrt(4))
t('crc32', lambda: binascii.crc32(b'a'))
t('hexlify', lambda: binascii.hexlify(b'a'))
t('compile', lambda: compile)
t('execfile', lambda: execfile)
t('NotImplemented', lambda: NotImplemented)
t('complex', lambda: complex)
t('exec', lambda: exec('1'))
def deep(a, b, c, d):
    x = [a, b, c, d]
    for i in range(2):
        deep(a, b, x, (a, b))
try:
    deep(1, 2, 3, 4)
except RuntimeError as e:
    print('recursion', e)
import sys
print('mpy', sys.implementation._mpy)
print('frozen path', '.frozen' in sys.path)  # the board's; the pyscript build's frozen modules stay out (import unittest)
print('surface module', '_surface' in sys.modules)
class A:
    def __setattr__(self, k, v):
        print('called', k)
    def __delattr__(self, k):
        print('called', k)
a = A()
a.x = 1
a.__setattr__('y', 2)
t('setattr plain', lambda: a.x)
del a.x
t('delattr plain', lambda: a.x)
t('object.__setattr__', lambda: object.__setattr__)
t('object.__delattr__', lambda: object.__delattr__)
import os, vfs
t('os.VfsPosix', lambda: os.VfsPosix)
t('vfs.VfsPosix', lambda: vfs.VfsPosix)
t('os.listdir', lambda: type(os.listdir('/')).__name__)
import select
t('poll fd', lambda: select.poll().register(0))
t('select fd', lambda: select.select([0], [], [], 0))
t('sys.ps1', lambda: sys.ps1)
t('sys.ps2', lambda: sys.ps2)
import deflate, io
t('DeflateIO.write', lambda: deflate.DeflateIO(io.BytesIO(), deflate.RAW).write(b'a'))
t('DeflateIO.read', lambda: deflate.DeflateIO(io.BytesIO(b'\x03\x00'), deflate.RAW).read())
`
	got, res := runScript(t, Config{Files: files(src)}, nil)
	if res.Outcome != Finished {
		t.Fatalf("outcome %v: %s", res.Outcome, got)
	}
	want := []string{
		"import cmath ImportError", "import js ImportError", "import jsffi ImportError",
		"import unittest ImportError", "import logging ImportError", "import functools ImportError",
		"import abc ImportError", "import zlib ImportError",
		"import math ok 1", "import binascii ok 1", "import random ok 1", "import uctypes ok 1",
		"center AttributeError", "partition AttributeError", "rpartition AttributeError",
		"splitlines AttributeError", "bytes.center AttributeError", "replace ok axc",
		"getattr center AttributeError",
		"randint AttributeError", "choice AttributeError", "uniform AttributeError",
		"randrange AttributeError", "random.random AttributeError", "getrandbits ok 0",
		"math.inf AttributeError", "math.nan AttributeError", "math.tau AttributeError",
		"math.erf AttributeError", "math.gamma AttributeError", "math.factorial AttributeError",
		"math.isclose AttributeError", "math.sqrt ok 2.0",
		"crc32 AttributeError", "hexlify ok b'61'",
		"compile NameError", "execfile NameError", "NotImplemented NameError", "complex NameError",
		"exec ok None", "recursion maximum recursion depth exceeded",
		"mpy 9990", "frozen path True", "surface module False",
		"called y", "setattr plain ok 1", "delattr plain AttributeError",
		"object.__setattr__ AttributeError", "object.__delattr__ AttributeError",
		"os.VfsPosix AttributeError", "vfs.VfsPosix AttributeError", "os.listdir ok list",
		"poll fd OSError", "select fd OSError", "sys.ps1 AttributeError", "sys.ps2 AttributeError",
		"DeflateIO.write AttributeError", "DeflateIO.read ok b''",
	}
	lines := strings.Split(strings.ReplaceAll(strings.TrimSpace(got), "\r\n", "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(want), got)
	}
	for i, w := range want {
		if lines[i] != w {
			t.Errorf("line %d: got %q, want %q", i, lines[i], w)
		}
	}
}

// removeROMEntry compacts the table of the const map holding the entry and
// lowers its count; other memory is untouched.
func TestRemoveROMEntry(t *testing.T) {
	le := binary.LittleEndian
	mem := make([]byte, 256)
	put := func(off int, w ...uint32) {
		for i, v := range w {
			le.PutUint32(mem[off+4*i:], v)
		}
	}
	// header at 16, table at 64 with three entries
	put(16, 7|3<<3, 3, 64)
	put(64, 10, 100, 20, 200, 30, 300)
	// the same pair outside any table, before it: must be skipped
	put(40, 20, 200)
	if !removeROMEntry(mem, 0, 20, 200) {
		t.Fatal("entry not found")
	}
	if le.Uint32(mem[16:]) != 7|2<<3 || le.Uint32(mem[20:]) != 2 {
		t.Errorf("header not lowered: %x %x", le.Uint32(mem[16:]), le.Uint32(mem[20:]))
	}
	for i, w := range []uint32{10, 100, 30, 300, 0, 0} {
		if g := le.Uint32(mem[64+4*i:]); g != w {
			t.Errorf("table word %d: got %d, want %d", i, g, w)
		}
	}
	if le.Uint32(mem[40:]) != 20 {
		t.Error("pair outside the table changed")
	}
	if removeROMEntry(mem, 0, 99, 99) {
		t.Error("removed an absent entry")
	}
}

// shortenQstr lowers the length byte of the static qstr whose pointer sits
// in a pool's qstrs[], and nothing else.
func TestShortenQstr(t *testing.T) {
	le := binary.LittleEndian
	mem := make([]byte, 256)
	copy(mem[200:], "\x00__setattr__\x00")
	// pool at 100: prev, total_prev_len, alloc, len, hashes, lengths, qstrs[2]
	for i, w := range []uint32{0, 0, 10, 2, 160, 170, 190, 201} {
		le.PutUint32(mem[100+4*i:], w)
	}
	mem[170], mem[171] = 3, 11
	if !shortenQstr(mem, 0, "__setattr__") {
		t.Fatal("not shortened")
	}
	if mem[171] != 10 || mem[170] != 3 || string(mem[201:212]) != "__setattr__" {
		t.Errorf("lengths %d %d, text %q", mem[170], mem[171], mem[201:212])
	}
	if shortenQstr(mem, 0, "__setattr__") {
		t.Error("shortened twice (the length byte no longer reads the text's)")
	}
}
