package board

import "testing"

// vfsLogger is a user filesystem (the VFS protocol, as extmod/vfs.c calls
// it) that prints each call it gets: the consoles below are the order and
// arguments extmod/vfs.c makes them in, worked by hand from the C source.
const vfsLogger = `import os, vfs, io, sys
class L:
    def __init__(self, n):
        self.n = n
    def mount(self, ro, mkfs):
        print(self.n, "mount", ro, mkfs)
    def umount(self):
        print(self.n, "umount")
    def ilistdir(self, d):
        print(self.n, "ilistdir", d)
        return iter([("f", 0x8000, 0, 3)])
    def chdir(self, d):
        print(self.n, "chdir", d)
    def getcwd(self):
        print(self.n, "getcwd")
        return "/sub"
    def mkdir(self, p):
        print(self.n, "mkdir", p)
    def remove(self, p):
        print(self.n, "remove", p)
    def rename(self, a, b):
        print(self.n, "rename", a, b)
    def rmdir(self, p):
        print(self.n, "rmdir", p)
    def stat(self, p):
        print(self.n, "stat", p)
        if p.endswith("mod.py"):
            return (0x8000, 0, 0, 0, 0, 0, 7, 0, 0, 0)
        raise OSError(2)
    def statvfs(self, p):
        print(self.n, "statvfs", p)
        return (self.n,)
    def open(self, p, m):
        print(self.n, "open", p, m)
        return io.BytesIO(b"X = 42\n")
def t(label, f, *a):
    try:
        print(label, "ok", f(*a))
    except OSError as e:
        print(label, e.errno)
`

func TestVfsUserMountDispatch(t *testing.T) {
	runScripts(t, []scriptCase{
		// The os functions and open() send a mounted path to its object,
		// with the path inside it; others stay on the flash.
		{"dispatch by path", vfsLogger + `vfs.mount(L("a"), "/m")
vfs.mount(L("b"), "/mm", readonly=True)
print(os.listdir("/m"), os.listdir("/mm/d"))
t("stat", os.stat, "/m/x")
print(os.statvfs("/mm"))
os.mkdir("/m/d"); os.rmdir("/m/d"); os.remove("/m/f"); os.rename("/m/f", "/m/g")
print(open("/m/mod.py").read())
with open("/mm/w", "wb") as f:
    pass
l = os.listdir("/")
print(l[:2], "main.py" in l, os.listdir("m"))
`, "a mount False False\nb mount True False\na ilistdir /\nb ilistdir /d\n['f'] ['f']\na stat /x\nstat 2\nb statvfs /\n('b',)\n" +
			"a mkdir /d\na rmdir /d\na remove /f\na rename /f /g\na open /mod.py r\nb'X = 42\\n'\nb open /w wb\n" +
			"a ilistdir /\n['m', 'mm'] True ['f']\n"},
		// Relative paths go to the current mount; getcwd is the mount
		// point and the object's own directory; chdir("/") leaves it.
		{"current directory in a mount", vfsLogger + `vfs.mount(L("a"), "/m")
os.chdir("/m")
print(os.getcwd())
os.remove("rel")
open("rel2", "w")
print(os.listdir())
os.chdir("/")
print(os.getcwd())
os.chdir("m")
vfs.umount("/m")
print(os.getcwd())
`, "a mount False False\na chdir /\na getcwd\n/m/sub\na remove rel\na open rel2 w\na ilistdir \n['f']\n/\na chdir /\na umount\n/\n"},
		// import looks on sys.path through the VFS: stat, then open "rb".
		{"import from a mount", vfsLogger + `vfs.mount(L("a"), "/m")
sys.path.append("/m")
import mod
print(mod.X)
`, "a mount False False\na stat /mod\na stat /mod.py\na open /mod.py rb\n42\n"},
		// The flash keeps littlefs's four-field entries, the mount points
		// in the root listing have three, a user's are its own; a missing
		// directory raises at the call, not at the first next().
		{"ilistdir entries", vfsLogger + `open("/x.txt", "w").write("abcd")
vfs.mount(L("a"), "/m")
print([e for e in os.ilistdir("/") if e[0] in ("m", "x.txt")])
print(list(os.ilistdir("/m")))
try:
    os.ilistdir("/nope")
    print("no error at the call")
except OSError as e:
    print("ilistdir", e.errno)
`, "a mount False False\n[('m', 16384, 0), ('x.txt', 32768, 0, 4)]\na ilistdir /\n[('f', 32768, 0, 3)]\nilistdir 2\n"},
	})
}

func TestVfsUserMountErrors(t *testing.T) {
	runScripts(t, []scriptCase{
		// The object's mount runs before the mount point is checked.
		{"EPERM, EEXIST, EINVAL", vfsLogger + `a = L("a")
vfs.mount(a, "/m")
t("again", vfs.mount, L("b"), "/m")
t("nested", vfs.mount, L("c"), "/m/n")
t("rename across", os.rename, "/m/x", "/y")
t("mkdir mount point", os.mkdir, "/m")
t("umount unknown", vfs.umount, "/nope")
t("umount by object", vfs.umount, a)
t("umount twice", vfs.umount, a)
`, "a mount False False\nb mount False False\nagain 1\nc mount False False\nnested 1\nrename across 1\n" +
			"mkdir mount point 17\numount unknown 22\na umount\numount by object ok None\numount twice 22\n"},
		// With nothing at "/", a path no mount holds is ENODEV and the
		// root itself EPERM, as mp_vfs_proxy_call raises them.
		{"ENODEV and EPERM with nothing at the root", vfsLogger + `vfs.umount("/")
t("stat", os.stat, "/x")
t("stat relative", os.stat, "x")
t("listdir", os.listdir, "/x")
t("open", open, "/x")
t("chdir", os.chdir, "/x")
t("remove root", os.remove, "/")
t("rmdir root", os.rmdir, "/")
print(os.getcwd(), os.listdir("/"), os.stat("/"), os.statvfs("/")[9])
`, "stat 19\nstat relative 19\nlistdir 19\nopen 19\nchdir 19\nremove root 1\nrmdir root 1\n/ [] (16384, 0, 0, 0, 0, 0, 0, 0, 0, 0) 128\n"},
	})
}
