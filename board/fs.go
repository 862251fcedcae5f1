package board

import (
	"embed"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"
	"time"
)

// libFS holds the board's own Python modules, served read-only at
// frozenDir.
//
//go:embed lib/*.py lib/*/*.py
var libFS embed.FS

// frozenDir is where the board's own modules live: the ESP8266 freezes them
// in flash, ahead of /lib on sys.path, so /lib is the user's (mip installs
// there) and starts absent as on a freshly flashed board. The directory is
// read-only and hidden from os.listdir("/").
const frozenDir = "/.frozen"

// boardFrozenEntry is the ESP8266's sys.path entry for its frozen modules,
// a relative path the host takes to mean frozenDir (syscalls.go).
const boardFrozenEntry = ".frozen"

// Linux errno values, which MicroPython's OSError reports (the firmware
// passes a syscall's negative return straight through as errno).
const (
	ePERM     = 1
	eNOENT    = 2
	eIO       = 5
	eBADF     = 9
	eNOMEM    = 12
	eACCES    = 13
	eEXIST    = 17
	eNOTDIR   = 20
	eISDIR    = 21
	eINVAL    = 22
	eMFILE    = 24
	eNOSPC    = 28
	eSPIPE    = 29
	eROFS     = 30
	eRANGE    = 34
	eNOTEMPTY = 39
	eNOSYS    = 38
)

// flashFS is a board's flash filesystem: an in-memory tree of files and
// directories, plus the read-only frozenDir. Paths are absolute and clean.
type flashFS struct {
	mu sync.Mutex
	// files and dirs are guarded by mu.
	files    map[string]*flashFile
	dirs     map[string]time.Time
	capacity int // bytes; writes beyond it fail with ENOSPC
	// hidden holds frozenDir files taken off the filesystem while their
	// modules are built-ins (fs_frozen.go); guarded by mu.
	hidden map[string]*flashFile
}

type flashFile struct {
	data  []byte
	mtime time.Time
	ro    bool
}

// defaultFlashBytes is the user-visible filesystem size of a 4 MiB ESP8266
// module (the firmware takes the first MiB).
const defaultFlashBytes = 3 * 1024 * 1024

func newFlashFS(files map[string][]byte, now time.Time) *flashFS {
	f := &flashFS{files: map[string]*flashFile{}, dirs: map[string]time.Time{"/": now}, capacity: defaultFlashBytes}
	// Packages (umqtt/) are directories of frozenDir.
	_ = fs.WalkDir(libFS, "lib", func(p string, e fs.DirEntry, err error) error {
		to := frozenDir + strings.TrimPrefix(p, "lib")
		switch {
		case err != nil:
		case e.IsDir():
			f.dirs[to] = now
		default:
			if data, err := libFS.ReadFile(p); err == nil {
				f.files[to] = &flashFile{data: data, mtime: now, ro: true}
			}
		}
		return nil
	})
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p := cleanPath("/", name)
		f.mkdirAll(path.Dir(p), now)
		if readOnly(p) {
			continue // the board's own modules cannot be replaced
		}
		f.files[p] = &flashFile{data: append([]byte(nil), files[name]...), mtime: now}
	}
	return f
}

func (f *flashFS) mkdirAll(dir string, now time.Time) {
	for d := dir; d != "/" && d != "."; d = path.Dir(d) {
		if _, ok := f.dirs[d]; !ok {
			f.dirs[d] = now
		}
	}
}

// cleanPath resolves p against cwd into a clean absolute path.
func cleanPath(cwd, p string) string {
	if !strings.HasPrefix(p, "/") {
		p = cwd + "/" + p
	}
	return path.Clean(p)
}

func readOnly(p string) bool { return p == frozenDir || strings.HasPrefix(p, frozenDir+"/") }

func (f *flashFS) used() int {
	n := 0
	for p, file := range f.files {
		if !readOnly(p) {
			n += len(file.data)
		}
	}
	return n
}

// stat reports whether p exists and is a directory, its size and mtime.
func (f *flashFS) stat(p string) (isDir bool, size int, mtime time.Time, errno int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t, ok := f.dirs[p]; ok {
		return true, 0, t, 0
	}
	if file, ok := f.files[p]; ok {
		return false, len(file.data), file.mtime, 0
	}
	return false, 0, time.Time{}, eNOENT
}

// list returns the names in directory p, sorted.
func (f *flashFS) list(p string) ([]string, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.dirs[p]; !ok {
		if _, ok := f.files[p]; ok {
			return nil, eNOTDIR
		}
		return nil, eNOENT
	}
	var names []string
	add := func(full string) {
		if full != p && path.Dir(full) == p && full != frozenDir {
			names = append(names, path.Base(full))
		}
	}
	for d := range f.dirs {
		add(d)
	}
	for name := range f.files {
		add(name)
	}
	sort.Strings(names)
	return names, 0
}

func (f *flashFS) parentOK(p string) int {
	dir := path.Dir(p)
	if _, ok := f.dirs[dir]; ok {
		return 0
	}
	if _, ok := f.files[dir]; ok {
		return eNOTDIR
	}
	return eNOENT
}

func (f *flashFS) mkdir(p string, now time.Time) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if readOnly(p) {
		return eROFS
	}
	if _, ok := f.dirs[p]; ok {
		return eEXIST
	}
	if _, ok := f.files[p]; ok {
		return eEXIST
	}
	if e := f.parentOK(p); e != 0 {
		return e
	}
	f.dirs[p] = now
	return 0
}

func (f *flashFS) rmdir(p string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if readOnly(p) || p == "/" {
		return eROFS
	}
	if _, ok := f.dirs[p]; !ok {
		if _, ok := f.files[p]; ok {
			return eNOTDIR
		}
		return eNOENT
	}
	for d := range f.dirs {
		if path.Dir(d) == p && d != p {
			return eNOTEMPTY
		}
	}
	for name := range f.files {
		if path.Dir(name) == p {
			return eNOTEMPTY
		}
	}
	delete(f.dirs, p)
	return 0
}

func (f *flashFS) unlink(p string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if readOnly(p) {
		return eROFS
	}
	if _, ok := f.dirs[p]; ok {
		return eISDIR
	}
	if _, ok := f.files[p]; !ok {
		return eNOENT
	}
	delete(f.files, p)
	return 0
}

func (f *flashFS) rename(from, to string, now time.Time) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if readOnly(from) || readOnly(to) {
		return eROFS
	}
	if file, ok := f.files[from]; ok {
		if _, isDir := f.dirs[to]; isDir {
			return eISDIR
		}
		if e := f.parentOK(to); e != 0 {
			return e
		}
		delete(f.files, from)
		file.mtime = now
		f.files[to] = file
		return 0
	}
	if _, ok := f.dirs[from]; !ok {
		return eNOENT
	}
	if _, ok := f.dirs[to]; ok {
		return eEXIST
	}
	if _, ok := f.files[to]; ok {
		return eEXIST
	}
	if strings.HasPrefix(to+"/", from+"/") {
		return eINVAL
	}
	if e := f.parentOK(to); e != 0 {
		return e
	}
	moved := map[string]time.Time{}
	for d, t := range f.dirs {
		if d == from || strings.HasPrefix(d, from+"/") {
			moved[to+strings.TrimPrefix(d, from)] = t
			delete(f.dirs, d)
		}
	}
	for d, t := range moved {
		f.dirs[d] = t
	}
	movedFiles := map[string]*flashFile{}
	for name, file := range f.files {
		if strings.HasPrefix(name, from+"/") {
			movedFiles[to+strings.TrimPrefix(name, from)] = file
			delete(f.files, name)
		}
	}
	for name, file := range movedFiles {
		f.files[name] = file
	}
	return 0
}

// open returns the file at p, creating or truncating it as asked.
func (f *flashFS) open(p string, create, trunc, excl, write bool, now time.Time) (*flashFile, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.dirs[p]; ok {
		if write {
			return nil, eISDIR
		}
		return nil, eISDIR
	}
	file, ok := f.files[p]
	if ok && create && excl {
		return nil, eEXIST
	}
	if !ok {
		if !create {
			return nil, eNOENT
		}
		if readOnly(p) {
			return nil, eROFS
		}
		if e := f.parentOK(p); e != 0 {
			return nil, e
		}
		file = &flashFile{mtime: now}
		f.files[p] = file
	}
	if write && file.ro {
		return nil, eROFS
	}
	if trunc && len(file.data) > 0 {
		file.data = nil
		file.mtime = now
	}
	return file, 0
}

// writeAt writes data at off, growing the file; it enforces the capacity.
func (f *flashFS) writeAt(file *flashFile, off int, data []byte, now time.Time) (int, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	end := off + len(data)
	if grow := end - len(file.data); grow > 0 && f.used()+grow > f.capacity {
		return 0, eNOSPC
	}
	if end > len(file.data) {
		if end > cap(file.data) {
			nd := make([]byte, end, end+end/2)
			copy(nd, file.data)
			file.data = nd
		} else {
			file.data = file.data[:end]
		}
	}
	copy(file.data[off:], data)
	file.mtime = now
	return len(data), 0
}

func (f *flashFS) readAt(file *flashFile, off int, buf []byte) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if off >= len(file.data) {
		return 0
	}
	return copy(buf, file.data[off:])
}

func (f *flashFS) size(file *flashFile) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(file.data)
}

// snapshot copies the user files (everything outside frozenDir).
func (f *flashFS) snapshot() map[string][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string][]byte{}
	for p, file := range f.files {
		if !readOnly(p) {
			out[p] = append([]byte(nil), file.data...)
		}
	}
	return out
}
