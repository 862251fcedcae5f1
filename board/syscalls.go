package board

import (
	"context"
	"encoding/binary"
	"path"
	"strings"
	"time"

	"github.com/esp8266sim/esp8266sim/board/hostabi"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// The firmware's POSIX layer (musl over Emscripten syscalls and WASI fd_*)
// served from the board's flash filesystem. Nothing here touches host files.
// Errors are returned as Linux errno values, which MicroPython reports in
// OSError as the board's VFS does ([Errno 2] ENOENT, …).

const (
	atFDCWD     = -100
	atRemoveDir = 0x200
	oAccMode    = 3
	oWronly     = 1
	oRdwr       = 2
	oCreat      = 0100
	oExcl       = 0200
	oTrunc      = 01000
	oAppend     = 02000
	oDirectory  = 0200000
	maxOpen     = 32
)

type openFile struct {
	path   string
	file   *flashFile
	dir    bool
	names  []string
	pos    int
	read   bool
	write  bool
	append bool
}

type fdTable struct {
	files map[int32]*openFile
}

func newFDTable() fdTable { return fdTable{files: map[int32]*openFile{}} }

func (t *fdTable) add(f *openFile) int32 {
	if len(t.files) >= maxOpen {
		return -eMFILE
	}
	for fd := int32(3); ; fd++ {
		if _, used := t.files[fd]; !used {
			t.files[fd] = f
			return fd
		}
	}
}

func neg(errno int) uint64 { return uint64(uint32(int32(-errno))) }

func (b *Board) pathAt(dirfd int32, p uint32) (string, int) {
	name := b.guest().CString(p)
	if name == "" {
		return "", eNOENT
	}
	if dirfd != atFDCWD && name[0] != '/' {
		of, ok := b.fds.files[dirfd]
		if !ok {
			return "", eBADF
		}
		return b.notePath(cleanPath(of.path, name)), 0
	}
	if b.fw.img.FrozenDir && (name == boardFrozenEntry || strings.HasPrefix(name, boardFrozenEntry+"/")) {
		// '.frozen' on sys.path: the board's frozen modules, whatever the
		// current directory (firmware/frozenprefix.go).
		return b.notePath(frozenDir + name[len(boardFrozenEntry):]), 0
	}
	return b.notePath(cleanPath(b.cwd, name)), 0
}

// notePath records a path the interpreter's setup looked at (bootsnap.go).
func (b *Board) notePath(p string) string {
	if b.setupRec != nil {
		b.setupRec.paths[p] = true
	}
	return p
}

func (b *Board) statPath(p string, buf uint32) uint64 {
	isDir, size, mtime, e := b.fs.stat(p)
	if e != 0 {
		return neg(e)
	}
	b.guest().PutStat(buf, isDir, size, mtime)
	return 0
}

func defineSyscalls(def func(string, []api.ValueType, []api.ValueType, goFn), p func(int) []api.ValueType, r1 []api.ValueType) {
	def("__syscall_openat", p(4), r1, func(ctx context.Context, m api.Module, s []uint64) {
		b := boardFrom(ctx)
		pth, e := b.pathAt(int32(s[0]), uint32(s[1]))
		if e != 0 {
			s[0] = neg(e)
			return
		}
		flags := int(uint32(s[2]))
		acc := flags & oAccMode
		of := &openFile{path: pth, read: acc != oWronly, write: acc == oWronly || acc == oRdwr, append: flags&oAppend != 0}
		if isDir, _, _, e := b.fs.stat(pth); e == 0 && isDir {
			if of.write {
				s[0] = neg(eISDIR)
				return
			}
			names, e := b.fs.list(pth)
			if e != 0 {
				s[0] = neg(e)
				return
			}
			of.dir, of.names = true, names
		} else {
			if flags&oDirectory != 0 {
				if e == 0 {
					s[0] = neg(eNOTDIR)
				} else {
					s[0] = neg(eNOENT)
				}
				return
			}
			file, e := b.fs.open(pth, flags&oCreat != 0, flags&oTrunc != 0 && of.write, flags&oExcl != 0, of.write, b.clock.Now())
			if e != 0 {
				s[0] = neg(e)
				return
			}
			of.file = file
			if readOnly(pth) && !of.write {
				b.cpuFrozenImport()
			}
		}
		s[0] = uint64(uint32(b.fds.add(of)))
	})
	statLike := func(ctx context.Context, pathPtr, buf uint32) uint64 {
		b := boardFrom(ctx)
		pth, e := b.pathAt(atFDCWD, pathPtr)
		if e != 0 {
			return neg(e)
		}
		return b.statPath(pth, buf)
	}
	def("__syscall_stat64", p(2), r1, func(ctx context.Context, m api.Module, s []uint64) {
		s[0] = statLike(ctx, uint32(s[0]), uint32(s[1]))
	})
	def("__syscall_lstat64", p(2), r1, func(ctx context.Context, m api.Module, s []uint64) {
		s[0] = statLike(ctx, uint32(s[0]), uint32(s[1]))
	})
	def("__syscall_newfstatat", p(4), r1, func(ctx context.Context, m api.Module, s []uint64) {
		b := boardFrom(ctx)
		const atEmptyPath = 0x1000
		if int(s[3])&atEmptyPath != 0 && b.guest().CString(uint32(s[1])) == "" {
			s[0] = b.fstat(int32(s[0]), uint32(s[2]))
			return
		}
		pth, e := b.pathAt(int32(s[0]), uint32(s[1]))
		if e != 0 {
			s[0] = neg(e)
			return
		}
		s[0] = b.statPath(pth, uint32(s[2]))
	})
	def("__syscall_fstat64", p(2), r1, func(ctx context.Context, m api.Module, s []uint64) {
		s[0] = boardFrom(ctx).fstat(int32(s[0]), uint32(s[1]))
	})
	def("__syscall_mkdirat", p(3), r1, func(ctx context.Context, m api.Module, s []uint64) {
		b := boardFrom(ctx)
		pth, e := b.pathAt(int32(s[0]), uint32(s[1]))
		if e == 0 {
			e = b.fs.mkdir(pth, b.clock.Now())
		}
		s[0] = neg(e)
	})
	def("__syscall_unlinkat", p(3), r1, func(ctx context.Context, m api.Module, s []uint64) {
		b := boardFrom(ctx)
		pth, e := b.pathAt(int32(s[0]), uint32(s[1]))
		if e == 0 {
			if int(s[2])&atRemoveDir != 0 {
				e = b.fs.rmdir(pth)
			} else {
				e = b.fs.unlink(pth)
			}
		}
		s[0] = neg(e)
	})
	def("__syscall_rmdir", p(1), r1, func(ctx context.Context, m api.Module, s []uint64) {
		b := boardFrom(ctx)
		pth, e := b.pathAt(atFDCWD, uint32(s[0]))
		if e == 0 {
			e = b.fs.rmdir(pth)
		}
		s[0] = neg(e)
	})
	def("__syscall_renameat", p(4), r1, func(ctx context.Context, m api.Module, s []uint64) {
		b := boardFrom(ctx)
		from, e := b.pathAt(int32(s[0]), uint32(s[1]))
		if e == 0 {
			var to string
			to, e = b.pathAt(int32(s[2]), uint32(s[3]))
			if e == 0 {
				e = b.fs.rename(from, to, b.clock.Now())
			}
		}
		s[0] = neg(e)
	})
	def("__syscall_chdir", p(1), r1, func(ctx context.Context, m api.Module, s []uint64) {
		b := boardFrom(ctx)
		pth, e := b.pathAt(atFDCWD, uint32(s[0]))
		if e == 0 {
			isDir, _, _, se := b.fs.stat(pth)
			switch {
			case se != 0:
				e = se
			case !isDir:
				e = eNOTDIR
			default:
				b.cwd = pth
			}
		}
		s[0] = neg(e)
	})
	def("__syscall_getcwd", p(2), r1, func(ctx context.Context, m api.Module, s []uint64) {
		b := boardFrom(ctx)
		size := uint32(s[1])
		if size == 0 {
			s[0] = neg(eINVAL)
			return
		}
		if uint32(len(b.cwd)+1) > size {
			s[0] = neg(eRANGE)
			return
		}
		b.guest().Write(uint32(s[0]), append([]byte(b.cwd), 0))
		s[0] = uint64(len(b.cwd) + 1)
	})
	def("__syscall_getdents64", p(3), r1, func(ctx context.Context, m api.Module, s []uint64) {
		b := boardFrom(ctx)
		of, ok := b.fds.files[int32(s[0])]
		if !ok || !of.dir {
			s[0] = neg(eBADF)
			return
		}
		const rec = 280
		dirp, count := uint32(s[1]), int(uint32(s[2]))
		written := 0
		for of.pos < len(of.names) && written+rec <= count {
			name := of.names[of.pos]
			var ent [rec]byte
			binary.LittleEndian.PutUint64(ent[0:], uint64(of.pos+1))
			binary.LittleEndian.PutUint64(ent[8:], uint64((of.pos+1)*rec))
			binary.LittleEndian.PutUint16(ent[16:], rec)
			ent[18] = 8 // DT_REG
			if isDir, _, _, e := b.fs.stat(path.Join(of.path, name)); e == 0 && isDir {
				ent[18] = 4 // DT_DIR
			}
			copy(ent[19:rec-1], name)
			b.guest().Write(dirp+uint32(written), ent[:])
			written += rec
			of.pos++
		}
		s[0] = uint64(written)
	})
	def("__syscall_statfs64", p(3), r1, func(ctx context.Context, m api.Module, s []uint64) {
		b := boardFrom(ctx)
		var st [88]byte
		const bsize = 4096
		blocks := uint64(b.fs.capacity / bsize)
		b.fs.mu.Lock()
		free := uint64((b.fs.capacity - b.fs.used()) / bsize)
		b.fs.mu.Unlock()
		binary.LittleEndian.PutUint32(st[4:], bsize)
		binary.LittleEndian.PutUint64(st[8:], blocks)
		binary.LittleEndian.PutUint64(st[16:], free)
		binary.LittleEndian.PutUint64(st[24:], free)
		binary.LittleEndian.PutUint32(st[56:], 255)
		binary.LittleEndian.PutUint32(st[60:], bsize)
		b.guest().Write(uint32(s[2]), st[:])
		s[0] = 0
	})
	def("__syscall_poll", p(3), r1, func(ctx context.Context, m api.Module, s []uint64) {
		b := boardFrom(ctx)
		fds, n := uint32(s[0]), uint32(s[1])
		ready := 0
		for i := uint32(0); i < n && i < 64; i++ {
			pfd := fds + 8*i
			fd := int32(b.guest().U32(pfd))
			ev, _ := b.guest().ReadUint16Le(pfd + 4)
			var rev uint16
			switch {
			case fd == 1 || fd == 2:
				rev = ev & 4 // POLLOUT
			case fd == 0:
				rev = 0
			default:
				if _, ok := b.fds.files[fd]; ok {
					rev = ev & 5
				} else {
					rev = 0x20 // POLLNVAL
				}
			}
			b.guest().WriteUint16Le(pfd+6, rev)
			if rev != 0 {
				ready++
			}
		}
		if ready == 0 && int32(s[2]) > 0 {
			if err := b.Sleep(time.Duration(int32(s[2])) * time.Millisecond); err != nil && isStop(err) {
				panic(err)
			}
		}
		s[0] = uint64(ready)
	})
}

func (b *Board) fstat(fd int32, buf uint32) uint64 {
	if fd >= 0 && fd <= 2 {
		var st [hostabi.StatSize]byte
		binary.LittleEndian.PutUint32(st[4:], 0x2000) // S_IFCHR
		b.guest().Write(buf, st[:])
		return 0
	}
	of, ok := b.fds.files[fd]
	if !ok {
		return neg(eBADF)
	}
	if of.dir {
		return b.statPath(of.path, buf)
	}
	b.guest().PutStat(buf, false, b.fs.size(of.file), of.file.mtime)
	return 0
}

func defineWASI(w wazero.HostModuleBuilder) {
	i32, i64 := api.ValueTypeI32, api.ValueTypeI64
	def := func(name string, params []api.ValueType, fn goFn) {
		w.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, m api.Module, s []uint64) {
			noteHost(ctx, name)
			fn(ctx, m, s)
		}), params, []api.ValueType{i32}).Export(name)
	}
	def("fd_write", []api.ValueType{i32, i32, i32, i32}, func(ctx context.Context, m api.Module, s []uint64) {
		b := boardFrom(ctx)
		fd, iovs, n, nwritten := int32(s[0]), uint32(s[1]), uint32(s[2]), uint32(s[3])
		total := 0
		if fd == 1 || fd == 2 || fd == cookedStdout || fd == cookedStderr {
			b.cpuBeforeConsole()
		}
		for i := uint32(0); i < n && i < 1024; i++ {
			data, ok := b.guest().IOVec(iovs, i)
			if !ok {
				s[0] = eINVAL
				return
			}
			switch {
			case fd == 1 || fd == 2:
				b.consoleWrite(data)
				total += len(data)
			case fd == cookedStdout || fd == cookedStderr:
				b.cookedWrite(data)
				total += len(data)
			default:
				of, ok := b.fds.files[fd]
				if !ok || !of.write || of.dir {
					s[0] = eBADF
					return
				}
				if of.append {
					of.pos = b.fs.size(of.file)
				}
				w, e := b.fs.writeAt(of.file, of.pos, data, b.clock.Now())
				of.pos += w
				total += w
				if e != 0 {
					if total == 0 {
						s[0] = uint64(e)
						return
					}
					break
				}
			}
		}
		b.guest().PutU32(nwritten, uint32(total))
		s[0] = 0
		if fd == 1 || fd == 2 || fd == cookedStdout || fd == cookedStderr {
			// print() is the host call most loops make: a collection point
			// (after the text has been consumed).
			b.collectIfPending(ctx)
		}
	})
	def("fd_read", []api.ValueType{i32, i32, i32, i32}, func(ctx context.Context, m api.Module, s []uint64) {
		b := boardFrom(ctx)
		fd, iovs, n, nread := int32(s[0]), uint32(s[1]), uint32(s[2]), uint32(s[3])
		if fd == 0 {
			b.guest().PutU32(nread, 0) // the UART has no input for scripts: EOF
			s[0] = 0
			return
		}
		of, ok := b.fds.files[fd]
		if !ok || !of.read || of.dir {
			s[0] = eBADF
			return
		}
		total := 0
		for i := uint32(0); i < n && i < 1024; i++ {
			buf, ok := b.guest().IOVec(iovs, i)
			if !ok {
				s[0] = eINVAL
				return
			}
			got := b.fs.readAt(of.file, of.pos, buf)
			of.pos += got
			total += got
			if got < len(buf) {
				break
			}
		}
		b.guest().PutU32(nread, uint32(total))
		s[0] = 0
	})
	def("fd_seek", []api.ValueType{i32, i64, i32, i32}, func(ctx context.Context, m api.Module, s []uint64) {
		b := boardFrom(ctx)
		fd, off, whence, out := int32(s[0]), int64(s[1]), uint32(s[2]), uint32(s[3])
		of, ok := b.fds.files[fd]
		if !ok {
			if fd >= 0 && fd <= 2 {
				s[0] = eSPIPE
			} else {
				s[0] = eBADF
			}
			return
		}
		var base int64
		switch whence {
		case 0:
		case 1:
			base = int64(of.pos)
		case 2:
			if of.file != nil {
				base = int64(b.fs.size(of.file))
			}
		default:
			s[0] = eINVAL
			return
		}
		np := base + off
		if np < 0 || np > 1<<30 {
			s[0] = eINVAL
			return
		}
		of.pos = int(np)
		b.guest().WriteUint64Le(out, uint64(np))
		s[0] = 0
	})
	def("fd_close", []api.ValueType{i32}, func(ctx context.Context, m api.Module, s []uint64) {
		b := boardFrom(ctx)
		fd := int32(s[0])
		if _, ok := b.fds.files[fd]; !ok {
			if fd >= 0 && fd <= 2 {
				s[0] = 0
				return
			}
			s[0] = eBADF
			return
		}
		delete(b.fds.files, fd)
		s[0] = 0
	})
	def("fd_sync", []api.ValueType{i32}, func(ctx context.Context, m api.Module, s []uint64) {
		s[0] = 0
	})
}
