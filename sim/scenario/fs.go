package scenario

import (
	"errors"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"
)

// MountFS joins file systems under top-level directory names, so scenarios
// embedded in one package can reference scripts embedded in another by
// the same relative paths they use on disk ("../scripts/x.py"). Each key
// is one path element.
func MountFS(mounts map[string]fs.FS) fs.FS {
	m := make(mountFS, len(mounts))
	for k, v := range mounts {
		m[k] = v
	}
	return m
}

type mountFS map[string]fs.FS

var _ fs.ReadDirFS = mountFS(nil)

func (m mountFS) split(op, name string) (fs.FS, string, error) {
	if !fs.ValidPath(name) {
		return nil, "", &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	first, rest, _ := strings.Cut(name, "/")
	sub, ok := m[first]
	if !ok {
		return nil, "", &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
	}
	if rest == "" {
		rest = "."
	}
	return sub, rest, nil
}

// Open opens name; "." is a directory of the mount points.
func (m mountFS) Open(name string) (fs.File, error) {
	if name == "." {
		return &rootDir{entries: m.entries()}, nil
	}
	sub, rest, err := m.split("open", name)
	if err != nil {
		return nil, err
	}
	f, err := sub.Open(rest)
	if err != nil || rest != "." {
		return f, err
	}
	// A mount point is seen under its name, not ".".
	d, ok := f.(fs.ReadDirFile)
	if !ok {
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: name, Err: errors.New("mounted file system has no directory listing")}
	}
	return mountPoint{d, name}, nil
}

type mountPoint struct {
	fs.ReadDirFile
	name string
}

func (m mountPoint) Stat() (fs.FileInfo, error) { return dirInfo(m.name), nil }

// ReadDir lists a directory.
func (m mountFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if name == "." {
		return m.entries(), nil
	}
	sub, rest, err := m.split("readdir", name)
	if err != nil {
		return nil, err
	}
	return fs.ReadDir(sub, rest)
}

func (m mountFS) entries() []fs.DirEntry {
	out := make([]fs.DirEntry, 0, len(m))
	for k := range m {
		out = append(out, fs.FileInfoToDirEntry(dirInfo(k)))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out
}

type dirInfo string

func (d dirInfo) Name() string     { return string(d) }
func (dirInfo) Size() int64        { return 0 }
func (dirInfo) Mode() fs.FileMode  { return fs.ModeDir | 0o555 }
func (dirInfo) ModTime() time.Time { return time.Time{} }
func (dirInfo) IsDir() bool        { return true }
func (dirInfo) Sys() any           { return nil }

type rootDir struct {
	entries []fs.DirEntry
	off     int
}

func (d *rootDir) Stat() (fs.FileInfo, error) { return dirInfo("."), nil }
func (d *rootDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: ".", Err: errors.New("is a directory")}
}
func (d *rootDir) Close() error { return nil }
func (d *rootDir) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.entries[d.off:]
	if n <= 0 {
		d.off = len(d.entries)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(rest))
	d.off += n
	return rest[:n], nil
}

// Entry is one scenario file found by List.
type Entry struct {
	// Path is the file's path in the file system.
	Path string
	// Name and Description are the scenario's; Name defaults to the file
	// name.
	Name, Description string
	// Err is set when the scenario does not load; Name is then the file
	// name.
	Err error
}

// List loads every scenario file (.yaml, .yml, .toml, .json) in dir of
// fsys, in name order; each entry carries its load error, if any.
func List(fsys fs.FS, dir string) ([]Entry, error) {
	des, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, de := range des {
		ext := strings.ToLower(path.Ext(de.Name()))
		if de.IsDir() || (ext != ".yaml" && ext != ".yml" && ext != ".toml" && ext != ".json") {
			continue
		}
		p := path.Join(dir, de.Name())
		e := Entry{Path: p, Name: strings.TrimSuffix(de.Name(), path.Ext(de.Name()))}
		if s, err := ParseFS(fsys, p); err != nil {
			e.Err = err
		} else {
			e.Name, e.Description = s.Name, s.Description
		}
		out = append(out, e)
	}
	return out, nil
}
