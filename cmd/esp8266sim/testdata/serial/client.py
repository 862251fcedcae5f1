"""An independent serial client for `esp8266sim serve`: pyserial only.

    python3 client.py URL CHECK

URL is a device path (the PTY symlink), socket://HOST:PORT or
rfc2217://HOST:PORT. CHECK names one of the functions below. Each prints
what it saw and exits 0 when the board behaved as a real ESP8266 on a USB
serial adapter does, 1 (with the reason) when not.
"""
import os
import sys
import time

import serial

TIMEOUT = 20.0
# Ctrl-C must give KeyboardInterrupt within 200 ms (issue #13), measured
# through the PTY as a user's terminal would. Measured latencies are 1-17 ms
# even on a loaded two-core machine, so the bound is the test's.
INTERRUPT_BOUND = float(os.environ.get("INTERRUPT_BOUND", "0.2"))


class Fail(Exception):
    pass


class Port:
    """pyserial with a read buffer that keeps what came after a delimiter."""

    def __init__(self, url):
        self.s = serial.serial_for_url(url, 115200, timeout=0.05)
        self.buf = b""

    def write(self, data):
        self.s.write(data)

    def fill(self):
        self.buf += self.s.read(max(1, self.s.in_waiting))

    def read_until(self, want, timeout=TIMEOUT):
        """Read through want; return everything up to and including it."""
        end = time.time() + timeout
        while want not in self.buf:
            if time.time() > end:
                raise Fail("waited %.0f s for %r, got %r" % (timeout, want, self.buf[-400:]))
            self.fill()
        i = self.buf.index(want) + len(want)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def read(self, n, timeout=TIMEOUT):
        end = time.time() + timeout
        while len(self.buf) < n:
            if time.time() > end:
                raise Fail("waited %.0f s for %d bytes, got %r" % (timeout, n, self.buf))
            self.fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def pending(self):
        """Whether input is waiting (without blocking)."""
        if not self.buf and self.s.in_waiting:
            self.fill()
        return bool(self.buf)

    def drain(self, quiet=0.5, timeout=TIMEOUT):
        """Discard input until the board has been quiet for quiet seconds."""
        end = time.time() + timeout
        last = time.time()
        while time.time() - last < quiet:
            if time.time() > end:
                raise Fail("the board never went quiet")
            if self.s.read(max(1, self.s.in_waiting)):
                last = time.time()
        self.buf = b""

    def close(self):
        self.s.close()

    # pyserial's control lines
    @property
    def dtr(self):
        return self.s.dtr

    @dtr.setter
    def dtr(self, v):
        self.s.dtr = v

    @property
    def rts(self):
        return self.s.rts

    @rts.setter
    def rts(self, v):
        self.s.rts = v


def prompt(s):
    """Get a fresh friendly-REPL prompt, whatever mode the board was left in."""
    s.write(b"\r\x03\x03\x02")
    s.drain(0.3)
    s.write(b"\r")
    s.read_until(b">>> ")
    s.drain(0.1)


def repl(s, line, timeout=TIMEOUT):
    """Type a line at the friendly REPL and return what it printed."""
    s.write(line.encode() + b"\r")
    s.read_until(line.encode() + b"\r\n", timeout)
    return s.read_until(b">>> ", timeout)[:-len(b">>> ")]


def raw_enter(s):
    s.write(b"\r\x03\x03\x02")
    s.drain(0.3)
    s.write(b"\x01")
    s.read_until(b"raw REPL; CTRL-B to exit\r\n>")


def raw_exec(s, code, timeout=TIMEOUT):
    """Run code in the raw REPL (plain, not paste): return (stdout, stderr)."""
    data = code.encode()
    for i in range(0, len(data), 256):
        s.write(data[i:i + 256])
        time.sleep(0.01)
    s.write(b"\x04")
    s.read_until(b"OK", timeout)
    out = s.read_until(b"\x04", timeout)[:-1]
    err = s.read_until(b"\x04", timeout)[:-1]
    s.read_until(b">", timeout)
    return out, err


def open_port(url):
    return Port(url)


def check(cond, what):
    if not cond:
        raise Fail(what)


# --- the checks -------------------------------------------------------------

def files(url):
    """Run code, upload a file, list files, soft-reset: the file stays."""
    s = open_port(url)
    raw_enter(s)
    out, err = raw_exec(s, "print(6*7)")
    check((out, err) == (b"42\r\n", b""), "raw exec gave %r %r" % (out, err))
    body = "".join("line %d of the uploaded file\n" % i for i in range(200))
    out, err = raw_exec(s, "f = open('up.txt', 'wb')\nw = f.write")
    check(err == b"", "open: %r" % err)
    for i in range(0, len(body), 128):
        out, err = raw_exec(s, "w(%r)" % body[i:i + 128].encode())
        check(err == b"", "write: %r" % err)
    out, err = raw_exec(s, "f.close()\nimport os\nprint(os.listdir())\nprint(os.stat('up.txt')[6])")
    check(b"'up.txt'" in out and (b"%d" % len(body)) in out, "listing %r %r" % (out, err))
    # Ctrl-B leaves the raw REPL; Ctrl-D at the friendly prompt soft-resets.
    s.write(b"\x02")
    s.read_until(b">>> ")
    s.write(b"x_before_reset = 1\r")
    s.read_until(b">>> ")
    s.write(b"\x04")
    s.read_until(b"MPY: soft reboot")
    s.read_until(b">>> ")
    out = repl(s, "print(open('up.txt').read() == %r, 'x_before_reset' in globals())" % body)
    check(out == b"True False\r\n", "after soft reset: %r" % out)
    print("files ok")


def rawreset(url):
    """The raw REPL survives Ctrl-D, as pyboard.py and mpremote expect."""
    s = open_port(url)
    raw_enter(s)
    s.write(b"\x04")
    got = s.read_until(b"raw REPL; CTRL-B to exit\r\n>")
    check(b"soft reboot" in got, "no soft reboot in %r" % got)
    out, err = raw_exec(s, "print('still raw')")
    check(out == b"still raw\r\n", "after Ctrl-D: %r %r" % (out, err))
    s.write(b"\x02")
    s.read_until(b">>> ")
    print("rawreset ok")


def rawpaste(url):
    """Raw-paste mode (Ctrl-E A Ctrl-A) with its flow control, a 5 KB script."""
    s = open_port(url)
    raw_enter(s)
    lines = ["total = 0"]
    i = 0
    while len("\n".join(lines)) < 5 * 1024:
        lines.append("total += %d  # padding the script past five kilobytes" % i)
        i += 1
    lines.append("print('sum', total)")
    code = ("\n".join(lines) + "\n").encode()
    check(len(code) >= 5 * 1024, "script too short")
    s.write(b"\x05A\x01")
    s.read_until(b"R", 5)
    flag = s.read(1)
    check(flag == b"\x01", "raw-paste not accepted: %r" % flag)
    win = s.read(2)
    window = win[0] | win[1] << 8
    check(window > 0, "window %r" % win)
    room = window
    sent = 0
    while sent < len(code):
        while room == 0 or s.pending():
            c = s.read(1)
            if c == b"\x01":
                room += window
            elif c == b"\x04":
                raise Fail("board ended the paste early")
        n = min(room, len(code) - sent)
        s.write(code[sent:sent + n])
        sent += n
        room -= n
    s.write(b"\x04")
    s.read_until(b"\x04", TIMEOUT)  # end-of-data acknowledgement
    out = s.read_until(b"\x04")[:-1]
    err = s.read_until(b"\x04")[:-1]
    want = b"sum %d\r\n" % sum(range(i))
    check((out, err) == (want, b""), "paste gave %r %r, want %r" % (out, err, want))
    s.write(b"\x02")
    s.read_until(b">>> ")
    print("rawpaste ok (%d bytes, window %d)" % (len(code), window))


def interrupt_after(s, line, started, name):
    """Type line, wait for started to show, press Ctrl-C; return seconds."""
    s.write(line.encode() + b"\r")
    s.read_until(started)
    time.sleep(0.3)
    s.drain(0.05)
    t0 = time.time()
    s.write(b"\x03")
    got = s.read_until(b"KeyboardInterrupt", 5)
    dt = time.time() - t0
    s.read_until(b">>> ")
    print("%s: KeyboardInterrupt after %.1f ms" % (name, dt * 1000))
    check(dt < INTERRUPT_BOUND, "%s: Ctrl-C took %.0f ms (bound %.0f ms)" % (name, dt * 1000, INTERRUPT_BOUND * 1000))
    return dt


def interrupts(url):
    """Ctrl-C during time.sleep(30), socket accept and the blink loop."""
    s = open_port(url)
    prompt(s)
    interrupt_after(s, "import time; print('sleeping'); time.sleep(30)", b"sleeping\r\n", "sleep")
    repl(s, "import socket; srv = socket.socket(); srv.bind(('0.0.0.0', 8080)); srv.listen(1)")
    interrupt_after(s, "print('accepting'); srv.accept()", b"accepting\r\n", "accept")
    repl(s, "srv.close()")
    repl(s, "from machine import Pin; led = Pin(2, Pin.OUT)")
    interrupt_after(s, "print('blinking')\rwhile True:\r led.value(not led.value()); time.sleep(0.5)\r", b"blinking\r\n", "blink")
    print("interrupts ok")


def inputline(url):
    """x = input() reads a typed line."""
    s = open_port(url)
    prompt(s)
    s.write(b"x = input('name? ')\r")
    s.read_until(b"name? ")
    s.write(b"Ada Lovelace\r")
    s.read_until(b">>> ")
    out = repl(s, "print(repr(x))")
    check(out == b"'Ada Lovelace'\r\n", "input gave %r" % out)
    print("input ok")


def wifi(url):
    """The board joins WiFi from the REPL."""
    s = open_port(url)
    prompt(s)
    repl(s, "import network, time; w = network.WLAN(network.STA_IF); w.active(True)")
    repl(s, "w.connect('SimNet', 'esp8266sim')")
    repl(s, "exec('for _ in range(300):\\n if w.isconnected(): break\\n time.sleep(0.1)')", 60)
    out = repl(s, "print(w.isconnected(), w.ifconfig()[0])")
    check(out.startswith(b"True 192.168.1."), "wifi: %r" % out)
    print("wifi ok:", out.decode().strip())


def reset(url):
    """RTS resets the board through the auto-reset circuit (rfc2217://)."""
    s = open_port(url)
    prompt(s)
    repl(s, "marker = 1")
    s.dtr = False  # RTS asserted, DTR not: EN low
    time.sleep(0.1)
    s.rts = False  # release: the board boots
    s.read_until(b">>> ")
    out = repl(s, "import machine; print(machine.reset_cause(), machine.reset_cause() == machine.HARD_RESET, 'marker' in globals())")
    check(out == b"6 True False\r\n", "after RTS reset: %r" % out)
    print("reset ok")


def download(url):
    """esptool's reset into the ROM bootloader: the ROM banner, then silence
    until an ordinary reset brings MicroPython back."""
    s = open_port(url)
    prompt(s)
    s.dtr, s.rts = False, True  # EN low (GPIO0 high)
    time.sleep(0.1)
    s.dtr, s.rts = True, False  # EN released with GPIO0 low
    got = s.read_until(b"boot mode:(1,6)", 5)
    s.write(b"print('not the ROM')\r")
    time.sleep(1.0)
    s.fill()
    check(b"not the ROM" not in s.buf, "download mode answered: %r" % s.buf)
    s.dtr = False               # both released: chip runs
    s.rts = True                # EN low again
    time.sleep(0.1)
    s.rts = False               # released with GPIO0 high: MicroPython boots
    s.read_until(b">>> ")
    out = repl(s, "import machine; print(machine.reset_cause())")
    check(out == b"6\r\n", "after leaving download mode: %r" % out)
    print("download ok")


def raw(url):
    """A raw socket:// client drives the REPL; a telnet IAC byte is data."""
    s = open_port(url)
    prompt(s)
    out = repl(s, "print(sum(range(10)))")
    check(out == b"45\r\n", "socket REPL: %r" % out)
    print("raw ok")


def garbage(url):
    """Random bytes (telnet commands, control keys, invalid UTF-8) do not
    wedge the port: afterwards the REPL still answers."""
    s = open_port(url)
    import random
    rnd = random.Random(1)
    junk = bytes(rnd.randrange(256) for _ in range(20000))
    # No Ctrl-D (a soft reset is fine but slow) and no Ctrl-A/E modes left open.
    for i in range(0, len(junk), 512):
        s.write(junk[i:i + 512])
    prompt(s)
    out = repl(s, "print('alive', 1+1)")
    check(out == b"alive 2\r\n", "after garbage: %r" % out)
    print("garbage ok")


def reopen(url):
    """Closing and reopening the port does not stop the board."""
    s = open_port(url)
    prompt(s)
    repl(s, "import time; t0 = time.ticks_ms(); kept = 'still here'")
    s.close()
    time.sleep(1.0)
    s = open_port(url)
    prompt(s)
    out = repl(s, "print(kept, time.ticks_diff(time.ticks_ms(), t0) >= 900)")
    check(out == b"still here True\r\n", "after reopen: %r" % out)
    print("reopen ok")


def flood(url):
    """The board prints 2 MB while a TCP client that never reads is
    connected: the board is not held back (its output to that client is
    dropped past the bound) and answers here afterwards. This reader may
    itself lose some of the flood if it falls behind on a loaded machine."""
    s = open_port(url)
    prompt(s)
    t0 = time.time()
    s.write(b"exec('for i in range(20000): print(\\'%098d\\' % i)'); print('flood' + 'done')\r")
    end = time.time() + 120
    while b"flooddone" not in s.buf[-200:]:
        check(time.time() < end, "the flood did not end within 120 s")
        s.fill()
        s.buf = s.buf[-400:]
    prompt(s)
    out = repl(s, "print('after flood')")
    check(out == b"after flood\r\n", "after flood: %r" % out)
    print("flood ok in %.1f s" % (time.time() - t0))


def pair(urls):
    """Two boards of one world, each on its own port: the first serves TCP,
    the second connects to it by the address DHCP gave the first."""
    a_url, b_url = urls.split(",")
    a, b = open_port(a_url), open_port(b_url)
    prompt(a)
    prompt(b)
    # boot.py gave up after 10 s on a slow machine: wait for both joins.
    for p in (a, b):
        out = repl(p, "import network, time, socket; w = network.WLAN(network.STA_IF); exec('for _ in range(300):\\n if w.isconnected(): break\\n time.sleep(0.1)'); print(w.isconnected())", 60)
        check(out == b"True\r\n", "a board did not join: %r" % out)
    ip = repl(a, "print(w.ifconfig()[0])").strip().decode()
    check(ip.startswith("192.168.1."), "first board's address %r" % ip)
    repl(a, "srv = socket.socket(); srv.bind(('0.0.0.0', 5000)); srv.listen(1)")
    a.write(b"c, addr = srv.accept(); print('got', c.recv(100), addr[0])\r")
    time.sleep(0.3)
    repl(b, "import socket; s = socket.socket(); s.connect((%r, 5000)); s.send(b'hello from the second board'); s.close()" % ip)
    got = a.read_until(b">>> ")
    check(b"got b'hello from the second board' 192.168.1." in got, "first board printed %r" % got)
    print("pair ok:", ip)


def main():
    url, name = sys.argv[1], sys.argv[2]
    try:
        globals()[name](url)
    except Fail as e:
        print("FAIL:", e)
        sys.exit(1)


if __name__ == "__main__":
    main()
