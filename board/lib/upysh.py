# The board's upysh (micropython-lib's minimal shell, frozen in
# ESP8266_GENERIC), written for this simulator. "from upysh import *" then
# ls, pwd, clear, man as bare words; ls(path), head, cat, cp, mv, rm, cd,
# mkdir, rmdir, newfile as calls. rm(d, recursive=True) removes only one
# level of a tree, as the original does (deeper entries: "rm of ... failed").
import sys
import os

_DIR = 0x4000  # stat.S_IFDIR


class _Word:
    # A command that runs when typed bare at the REPL (its repr).
    def __repr__(self):
        r = self()
        return "" if r is None else r


class LS(_Word):
    def __call__(self, path="."):
        entries = sorted(os.ilistdir(path))
        for e in entries:
            if e[1] == _DIR:
                print("    <dir> %s" % e[0])
        for e in entries:
            if e[1] != _DIR:
                print("% 9d %s" % (e[3], e[0]) if len(e) > 3 else "          %s" % e[0])
        try:
            st = os.statvfs(path)
            print("\n{:,d}k free".format(st[1] * st[3] // 1024))
        except:
            pass


class PWD(_Word):
    def __call__(self):
        return os.getcwd()


class CLEAR(_Word):
    def __call__(self):
        return "\x1b[2J\x1b[H"


def head(f, n=10):
    with open(f) as fh:
        while n > 0:
            line = fh.readline()
            if not line:
                break
            sys.stdout.write(line)
            n -= 1


def cat(f):
    head(f, 1 << 30)


def cp(s, t):
    try:
        if os.stat(t)[0] & _DIR:
            t = t.rstrip("/") + "/" + s
    except OSError:
        pass
    buf = bytearray(512)
    mv_ = memoryview(buf)
    with open(s, "rb") as src, open(t, "wb") as dst:
        while True:
            n = src.readinto(buf)
            if n <= 0:
                break
            dst.write(mv_[:n])


def newfile(path):
    print("Type file contents line by line, finish with EOF (Ctrl+D).")
    with open(path, "w") as f:
        while 1:
            try:
                line = input()
            except EOFError:
                break
            f.write(line)
            f.write("\n")


def rm(d, recursive=False):
    try:
        if recursive and os.stat(d)[0] & _DIR:
            for e in os.ilistdir(d):
                if e[0] not in (".", ".."):
                    rm(d + "/" + e[0])
            os.rmdir(d)
        else:
            os.remove(d)
    except:
        print("rm of '%s' failed" % d)


class Man:
    def __repr__(self):
        return """
upysh is intended to be imported using:
from upysh import *

To see this help text again, type "man".

upysh commands:
clear, ls, ls(...), head(...), cat(...), newfile(...)
cp('src', 'dest'), mv('old', 'new'), rm(...)
pwd, cd(...), mkdir(...), rmdir(...)
"""


man = Man()
pwd = PWD()
ls = LS()
clear = CLEAR()

cd = os.chdir
mkdir = os.mkdir
mv = os.rename
rmdir = os.rmdir

print(man)
