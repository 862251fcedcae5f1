# A pystone-like workload of our own (not pystone's code): each pass
# builds and updates small records, calls a chain of short functions with
# several arguments, compares and slices strings, indexes lists and a 2-D
# array and does integer arithmetic, in roughly pystone's proportions.
# STONE_PASSES passes run; the script prints how long they took and the rate
# converted to pystones/s by STONE_WEIGHT (pystone passes one of ours is
# worth, measured once against MicroPython's perf_bench pystone under the
# same CPU model; see RATIONALE.md).
import time

STONE_PASSES = 300
STONE_WEIGHT = 0.86


class Rec:
    def __init__(self, link=None, kind=0, num=0, text=""):
        self.link = link
        self.kind = kind
        self.num = num
        self.text = text

    def clone(self):
        return Rec(self.link, self.kind, self.num, self.text)


grid = [[0] * 30 for _ in range(30)]
row = [0] * 30
shared = Rec()


def bump(a, b):
    return a + b + 2


def pick(kind):
    if kind == 1:
        return 2
    if kind == 2:
        return 3
    return 1


def same_head(s, t):
    return s[0] == t[0] and s < t


def fill(arr, arr2, i, v):
    j = i + 5
    arr[j] = v
    arr[j + 1] = arr[j]
    arr[j + 10] = j
    r = arr2[j]
    for k in range(j, j + 2):
        r[k] = j
    r[j - 1] += 1
    arr2[j + 10][j] = arr[j]


def update(rec):
    nxt = rec.link
    if nxt is None:
        nxt = Rec()
        rec.link = nxt
    c = nxt.clone()
    c.num = 5
    c.kind = pick(rec.kind)
    if c.kind == 2:
        c.num = bump(c.num, 10)
    rec.num = c.num
    return c


def one_pass(i):
    a = 2
    b = 3
    s1 = "DHRYSTONE PROGRAM, 1'ST STRING"
    s2 = "DHRYSTONE PROGRAM, 2'ND STRING"
    rec = Rec(shared, i % 3, i, s1)
    ok = not same_head(s1, s2)
    while a < b:
        c = 5 * a - b
        c = bump(a, c)
        a += 1
    fill(row, grid, a, c)
    rec = update(rec)
    ch = "A"
    for ch2 in "AB":
        if ch2 == "C":
            ch = ch2
    c = b * a
    b = c // a
    c = 7 * (c - b) - a
    return rec.num + c + (1 if ok else 0) + len(s1[5:12]) + ord(ch)


def run(n):
    t = 0
    for i in range(n):
        t += one_pass(i)
    return t


t0 = time.ticks_us()
run(STONE_PASSES)
dt = time.ticks_diff(time.ticks_us(), t0)
print("stones", STONE_PASSES, "us", dt, "pystones/s", int(STONE_PASSES * STONE_WEIGHT * 1000000 / dt))
