# The board's machine module: the ESP8266 port's machine (modmachine.c,
# machine_pin.c, machine_rtc.c, machine_wdt.c, …) on the simulated
# peripherals of board/machine.
import _board
import _hw
import micropython
from _hostcall import U as _U, exc as _exc

PWRON_RESET = 0
WDT_RESET = 1
SOFT_RESET = 4
DEEPSLEEP_RESET = 5
HARD_RESET = 6
DEEPSLEEP = 4
IDLE = 0
SLEEP = 2

_freq = 80000000

# Interrupt sources ("p4", "t0") → (handler, argument).
_handlers = {}


def _run(_=None):
    # The board's mp_handle_pending: it calls this from its waits (a sleep,
    # a blocking socket call, input()) and queues it from the loop safe
    # point so the VM runs it at its next jump, as the port's interrupt
    # handlers queue theirs with mp_sched_schedule. Each due handler runs
    # once, an exception printed as mp_call_function_1_protected does.
    for s in _hw.irq_begin().split(","):
        h = _handlers.get(s)
        if h:
            try:
                h[0](h[1])
            except BaseException as e:
                import sys

                sys.print_exception(e)
    _hw.irq_end()


# Hand the board its handler runner; the one schedule between the two
# calls shows the board where the scheduler's queue is.
_hw.sched_mark()
micropython.schedule(_run, None)
_hw.irq_hook(id(_run), id(None))
import time as _time


def _call(r):
    if r is _U:
        raise _exc()
    return r


def reset():
    if _board.reset("hard") is _U:
        raise _exc()


def soft_reset(*args):
    # machine.soft_reset is sys.exit on the board (extmod/modmachine.c):
    # main.py ends and the REPL follows; at the REPL it is a soft reboot.
    raise SystemExit(*args)


def reset_cause():
    return _board.reset_cause()


def unique_id():
    # system_get_chip_id(): the low three bytes of the MAC, little-endian.
    m = bytes.fromhex(_board.mac())
    return bytes((m[5], m[4], m[3], 0))


def freq(f=None):
    global _freq
    if f is None:
        return _freq
    if f != 80000000 and f != 160000000:
        raise ValueError("frequency can only be either 80Mhz or 160MHz")
    _freq = f
    _board.set_freq(f)


def idle():
    if _board.poll() is _U:
        raise _exc()
    _hw.serve()


def disable_irq():
    return 0


def enable_irq(state=0):
    pass


def lightsleep(ms=None):
    if ms is None:
        ms = 0xFFFFFFFF // 1000
    if ms < 0:
        ms = 0
    _time.sleep_ms(ms)


sleep = lightsleep


def deepsleep(ms=None):
    _call(_hw.deepsleep(-1 if ms is None else max(ms, 0)))


def time_pulse_us(pin, pulse_level, timeout_us=1000000):
    return _call(_hw.pulse(_pinid(pin), 1 if pulse_level else 0, timeout_us))


def bitstream(pin, encoding, timing, buf):
    # Encoding 0: each bit a high then low period from timing (ns); the
    # strip on the pin latches the bytes.
    if encoding != 0:
        raise ValueError("invalid encoding")
    from uctypes import addressof

    b = _buf(buf)
    _hw.bitstream(_pinid(pin), addressof(b), len(b))


def dht_readinto(pin, buf):
    from uctypes import addressof

    _call(_hw.dht(_pinid(pin), addressof(buf), len(buf)))


def _pinid(p):
    if isinstance(p, Pin):
        return p._id
    if isinstance(p, int) and not isinstance(p, bool):
        _call(_hw.pin_check(p))
        return p
    raise ValueError("invalid pin")


class Pin:
    IN = 0
    OUT = 1
    OPEN_DRAIN = 2
    PULL_UP = 1
    IRQ_RISING = 1
    IRQ_FALLING = 2

    def __init__(self, id, *args, **kw):
        if not isinstance(id, int) or isinstance(id, bool):
            raise ValueError("invalid pin")
        _call(_hw.pin_check(id))
        self._id = id
        if args or kw:
            self.init(*args, **kw)

    def init(self, mode, pull=None, *, value=None):
        _call(
            _hw.pin_init(
                self._id,
                mode,
                0 if pull is None else pull,
                -1 if value is None else (1 if value else 0),
            )
        )

    def value(self, v=None):
        if v is None:
            return _call(_hw.pin_read(self._id))
        _call(_hw.pin_write(self._id, 1 if v else 0))

    def __call__(self, v=None):
        return self.value(v)

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)

    def toggle(self):
        self.value(1 - _hw.pin_out(self._id))

    def irq(self, handler=None, trigger=3, *, hard=False):
        if self._id >= 16:
            raise OSError("pin does not have IRQ capabilities")
        if hard:
            raise ValueError("hard IRQ not supported")
        if handler is None:
            trigger = 0
        _call(_hw.pin_irq(self._id, trigger))
        src = "p%d" % self._id
        if trigger:
            _handlers[src] = (handler, self)
        else:
            _handlers.pop(src, None)
        return _PinIRQ(self._id)

    def __repr__(self):
        return "Pin(%d)" % self._id


class _PinIRQ:
    def __init__(self, id):
        self._id = id

    def __call__(self):
        h = _handlers.get("p%d" % self._id)
        if h:
            h[0](h[1])

    def trigger(self, t=None):
        return 0


class Signal:
    def __init__(self, pin, *args, invert=False, **kw):
        if not isinstance(pin, Pin):
            pin = Pin(pin, *args, **kw)
        self._pin = pin
        self._inv = 1 if invert else 0

    def value(self, v=None):
        if v is None:
            return self._pin.value() ^ self._inv
        self._pin.value((1 if v else 0) ^ self._inv)

    def __call__(self, v=None):
        return self.value(v)

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)


_timer_ids = 0


class Timer:
    ONE_SHOT = 0
    PERIODIC = 1

    def __init__(self, *args, **kw):
        # Every machine.Timer is a virtual (os_timer) timer on the ESP8266;
        # the constructor takes exactly the id (esp_timer_make_new).
        if kw:
            raise TypeError("function doesn't take keyword arguments")
        if len(args) != 1:
            raise TypeError("function takes 1 positional arguments but %d were given" % len(args))
        global _timer_ids
        _timer_ids += 1
        self._t = _timer_ids

    def init(self, *, mode=1, callback=None, period=0xFFFFFFFF, tick_hz=1000, freq=None, hard=False):
        if freq is not None:
            us = int(1000000 / freq)
        elif tick_hz == 1000:
            us = period * 1000
        elif tick_hz == 1000000:
            us = period
        else:
            us = period * 1000000 // tick_hz
        src = "t%d" % self._t
        if callback is None:
            _handlers.pop(src, None)
        elif hard:
            # A hard callback runs in the timer interrupt: the heap is
            # locked, as on the port (esp_timer_cb with mp_sched_lock).
            def _hard(t, cb=callback):
                micropython.heap_lock()
                try:
                    cb(t)
                finally:
                    micropython.heap_unlock()

            _handlers[src] = (_hard, self)
        else:
            _handlers[src] = (callback, self)
        _call(_hw.timer_arm(self._t, us, 1 if mode else 0))

    def deinit(self):
        _hw.timer_stop(self._t)
        _handlers.pop("t%d" % self._t, None)

    def __repr__(self):
        return "Timer(3fff%04x)" % (0x1000 + 32 * self._t)


class WDT:
    def __init__(self, id=0, timeout=5000):
        # The ESP8266's timeout is fixed (machine_wdt.c).
        if timeout != 5000 or id != 0:
            raise ValueError()
        _hw.wdt_feed()

    def feed(self):
        _hw.wdt_feed()


class ADC:
    def __init__(self, id=0):
        if id != 0 and id != 1:
            raise ValueError("ADC(%d) doesn't exist" % id)
        self._id = id

    def read(self):
        if self._id == 1:
            return 65535  # ADC(1) is the supply voltage reading (VCC)
        return _call(_hw.adc())

    def read_u16(self):
        v = self.read()
        return v if self._id == 1 else v * 65535 // 1024


class PWM:
    def __init__(self, pin, freq=-1, duty=-1, duty_u16=-1, duty_ns=-1):
        self._pin = pin if isinstance(pin, Pin) else Pin(pin)
        self._freq = 500
        self._duty = 0
        self._active = False
        self.init(freq=freq, duty=duty, duty_u16=duty_u16, duty_ns=duty_ns)

    def init(self, freq=-1, duty=-1, duty_u16=-1, duty_ns=-1):
        global _pwm_freq
        if freq != -1:
            _pwm_freq = min(max(freq, 1), 1000)
        if duty != -1:
            self._duty = min(max(duty, 0), 1023)
        if duty_u16 != -1:
            self._duty = min(max(duty_u16 * 1000 // 65535, 0), 1023)
        if duty_ns != -1:
            self._duty = min(max(duty_ns * _pwm_freq // 1000000, 0), 1023)
        self._active = True
        _call(_hw.pwm(self._pin._id, _pwm_freq, self._duty))

    def freq(self, f=None):
        if f is None:
            return _pwm_freq
        self.init(freq=f)

    def duty(self, d=None):
        if d is None:
            return self._duty
        self.init(duty=d)

    def duty_u16(self, d=None):
        if d is None:
            return self._duty * 65535 // 1023
        self.init(duty_u16=d)

    def duty_ns(self, d=None):
        if d is None:
            return self._duty * 1000000 // _pwm_freq
        self.init(duty_ns=d)

    def deinit(self):
        _hw.pwm_stop(self._pin._id)
        self._active = False

    def __repr__(self):
        return "PWM(%d, freq=%d, duty=%d)" % (self._pin._id, _pwm_freq, self._duty)


_pwm_freq = 500


class RTC:
    ALARM0 = 0

    # The ESP8266's RTC: datetime() as (year, month, day, weekday, hours,
    # minutes, seconds, subseconds), epoch 2000.
    def __init__(self, id=0):
        pass

    def datetime(self, t=None):
        # The board's time (2000 epoch), whichever module utime names.
        import time

        if t is None:
            s = _board.time()
            y, mo, d, h, mi, se, wd, _ = time.localtime(s)
            return (y, mo, d, wd, h, mi, se, _board.rtc_us())
        y, mo, d, _, h, mi, se = t[:7]
        us = t[7] if len(t) > 7 else 0
        _board.rtc_set(time.mktime((y, mo, d, h, mi, se, 0, 0)), us)

    def memory(self, data=None):
        # User RTC memory: it survives resets and deep sleep.
        if data is None:
            return bytes.fromhex(_hw.rtc_mem())
        from uctypes import addressof

        b = data.encode() if isinstance(data, str) else bytes(data)
        _call(_hw.rtc_mem_set(addressof(b), len(b)))

    def alarm(self, id, time):
        if id != 0:
            raise ValueError("invalid alarm")
        if isinstance(time, tuple):
            raise ValueError("invalid alarm")  # only a duration in ms
        _hw.alarm(time)

    def alarm_left(self, id=0):
        if id != 0:
            raise ValueError("invalid alarm")
        return _hw.alarm_left()

    def irq(self, *, trigger=0, wake=0):
        if trigger != 0:
            raise ValueError("invalid alarm")
        _hw.alarm_wake(1 if wake & DEEPSLEEP else 0)


def _buf(b):
    # Anything with the buffer protocol, str included (its UTF-8 bytes),
    # as mp_get_buffer_raise takes it.
    if isinstance(b, (bytes, bytearray)):
        return b
    if isinstance(b, str):
        return b.encode()
    return bytes(b)


class SoftI2C:
    # The board's one I2C bus, bit-banged on any two pins (on the ESP8266
    # machine.I2C is this same software I2C).
    def __init__(self, scl, sda, *, freq=400000, timeout=50000):
        self.init(scl, sda, freq=freq, timeout=timeout)

    def init(self, scl, sda, *, freq=400000, timeout=50000):
        self._scl = _pinid(scl)
        self._sda = _pinid(sda)
        self._freq = freq

    def scan(self):
        s = _hw.i2c_scan()
        return [int(a) for a in s.split(",")] if s else []

    def writeto(self, addr, buf, stop=True):
        from uctypes import addressof

        b = _buf(buf)
        if not _hw.i2c_write(addr, addressof(b), len(b)):
            raise OSError(19)  # ENODEV: no acknowledge for the address
        return len(b)

    def writevto(self, addr, vector, stop=True):
        b = bytearray()
        for v in vector:
            b += v
        return self.writeto(addr, b, stop)

    def readfrom_into(self, addr, buf, stop=True):
        from uctypes import addressof

        if not _hw.i2c_read(addr, addressof(buf), len(buf)):
            raise OSError(19)

    def readfrom(self, addr, nbytes, stop=True):
        b = bytearray(nbytes)
        self.readfrom_into(addr, b, stop)
        return bytes(b)

    def _mem(self, memaddr, addrsize):
        if addrsize == 16:
            return bytes((memaddr >> 8, memaddr & 0xFF))
        return bytes((memaddr & 0xFF,))

    def writeto_mem(self, addr, memaddr, buf, *, addrsize=8):
        self.writeto(addr, self._mem(memaddr, addrsize) + bytes(buf))

    def readfrom_mem_into(self, addr, memaddr, buf, *, addrsize=8):
        self.writeto(addr, self._mem(memaddr, addrsize), False)
        self.readfrom_into(addr, buf)

    def readfrom_mem(self, addr, memaddr, nbytes, *, addrsize=8):
        b = bytearray(nbytes)
        self.readfrom_mem_into(addr, memaddr, b, addrsize=addrsize)
        return bytes(b)

    def __repr__(self):
        return "SoftI2C(scl=%d, sda=%d, freq=%d)" % (self._scl, self._sda, self._freq)


class I2C(SoftI2C):
    def __init__(self, id=-1, *, scl, sda, freq=400000, timeout=50000):
        if id != -1:
            raise ValueError("invalid I2C peripheral")
        self.init(scl, sda, freq=freq, timeout=timeout)

    def __repr__(self):
        return "I2C(scl=%d, sda=%d, freq=%d)" % (self._scl, self._sda, self._freq)


_FF = b"\xff" * 64


class _SPIBase:
    # Writes reach the devices whose chip select is low (board/machine's
    # one SPI bus); reads see MISO idle (0xff): no simulated part answers.
    # A transfer holds the CPU for its bus time, len·8 bits at the baud
    # rate, as machine_spi_transfer's spi_transaction loop (and softspi's
    # delays) do on the board (_clock).
    def _clock(self, n):
        _hw.spi_time(n * 8000000 // self._baud)

    def _fill(self, buf):
        # MISO idle, 64 bytes a step: the board does this in C.
        mv = memoryview(buf)
        ff = memoryview(_FF)
        n = len(mv)
        i = 0
        while i < n:
            m = min(64, n - i)
            mv[i : i + m] = ff[:m]
            i += m

    def _send(self, buf):
        from uctypes import addressof

        b = _buf(buf)
        _hw.spi_write(addressof(b), len(b))
        return len(b)

    def write(self, buf):
        self._clock(self._send(buf))

    def read(self, nbytes, write=0x00):
        self._clock(nbytes)
        return b"\xff" * nbytes

    def readinto(self, buf, write=0x00):
        self._fill(buf)
        self._clock(len(buf))

    def write_readinto(self, write_buf, read_buf):
        if len(write_buf) != len(read_buf):
            raise ValueError("buffers must be the same length")
        n = self._send(write_buf)
        self._fill(read_buf)
        self._clock(n)

    def deinit(self):
        pass


class SPI(_SPIBase):
    # Hardware SPI is SPI(1) (HSPI: SCK 14, MOSI 13, MISO 12); SPI(0) is the
    # flash's.
    MSB = 0
    LSB = 1

    def __init__(self, id, *args, **kw):
        if id != 1:
            raise ValueError()
        self._baud = 80000000
        self._pol = 0
        self._pha = 0
        self.init(*args, **kw)

    def init(self, baudrate=-1, *, polarity=-1, phase=-1, bits=8, firstbit=0, sck=None, mosi=None, miso=None):
        if baudrate != -1:
            if baudrate != 80000000 and baudrate > 40000000:
                raise ValueError("impossible baudrate")
            if baudrate != 80000000:
                div = 40000000 // baudrate
                pre = min(div, 8192)
                cnt = (div // pre) * 2
                if cnt > 64 or cnt == 0 or pre == 0:
                    raise ValueError("impossible baudrate")
                baudrate = 80000000 // (pre * cnt)
            self._baud = baudrate
        if polarity != -1:
            self._pol = polarity
        if phase != -1:
            self._pha = phase

    def __repr__(self):
        return "HSPI(id=1, baudrate=%u, polarity=%u, phase=%u)" % (self._baud, self._pol, self._pha)


class SoftSPI(_SPIBase):
    MSB = 0
    LSB = 1

    def __init__(self, baudrate=500000, *, polarity=0, phase=0, bits=8, firstbit=0, sck=None, mosi=None, miso=None):
        if bits != 8:
            raise ValueError("bits must be 8")
        if sck is None or mosi is None or miso is None:
            raise ValueError("must specify all of sck/mosi/miso")
        self._pins = (_pinid(sck), _pinid(mosi), _pinid(miso))
        self._baud, self._pol, self._pha = baudrate, polarity, phase

    def init(self, baudrate=-1, *, polarity=-1, phase=-1, **kw):
        if baudrate != -1:
            self._baud = baudrate
        if polarity != -1:
            self._pol = polarity
        if phase != -1:
            self._pha = phase

    def __repr__(self):
        return "SoftSPI(baudrate=%u, polarity=%u, phase=%u, sck=%u, mosi=%u, miso=%u)" % (
            (self._baud, self._pol, self._pha) + self._pins)


# UartDev.baut_rate in the ESP8266 ROM: the rate uart_setup programs.
_uartdev_baud = 115200


class UART:
    # UART0 is the console (REPL); UART1 only transmits, on GPIO 2.
    def __init__(self, id, *args, **kw):
        if id != 0 and id != 1:
            raise ValueError("UART(%d) does not exist" % id)
        self._id = id
        self._baud, self._bits, self._parity, self._stop = 115200, 8, None, 1
        self._timeout, self._timeout_char, self._rxbuf = 0, 1, 15
        self.init(*args, **kw)

    def init(self, baudrate=0, bits=0, parity=-1, stop=0, *, tx=None, rx=None, rxbuf=0, timeout=0, timeout_char=0):
        global _uartdev_baud
        if baudrate > 0:
            self._baud = baudrate
            _uartdev_baud = baudrate
        if bits:
            if bits not in (5, 6, 7, 8):
                raise ValueError("invalid data bits")
            self._bits = bits
        if parity != -1:
            self._parity = parity
        t = 1 if tx is None else _pinid(tx)
        r = 3 if rx is None else _pinid(rx)
        if not ((t == 1 and r == 3) or (t == 15 and r == 13)):
            raise ValueError("invalid tx/rx")
        if stop:
            if stop not in (1, 2):
                raise ValueError("invalid stop bits")
            self._stop = stop
        if rxbuf > 0:
            self._rxbuf = rxbuf
        self._timeout = timeout
        self._timeout_char = max(timeout_char, 13000 // self._baud + 1)
        if self._id == 0:
            # uart_setup(0) programs the ROM's UartDev rate, which any
            # UART's last baudrate= set (machine_uart.c): the console's
            # output then costs that rate's time.
            _board.console_baud(_uartdev_baud)

    def write(self, buf):
        from uctypes import addressof

        b = _buf(buf.encode() if isinstance(buf, str) else buf)
        if self._id == 1:
            _hw.uart1(addressof(b), len(b))
        else:
            _hw.uart0_write(addressof(b), len(b))
        return len(b)

    def _can_read(self):
        if self._id == 1:
            raise OSError("UART(1) can't read")

    # While UART0 is in the terminal (os.dupterm slot 1 at boot) what it
    # receives goes straight to stdin, so read() returns None; once
    # detached its bytes wait here.
    def any(self):
        self._can_read()
        return _hw.uart0_any()

    def read(self, nbytes=None):
        self._can_read()
        n = self.any()
        if not n and self._timeout:
            _time.sleep_ms(self._timeout)
            n = self.any()
        if not n:
            return None
        if nbytes is not None:
            n = min(n, nbytes)
        from uctypes import addressof

        b = bytearray(n)
        return bytes(b[: _hw.uart0_read(addressof(b), n)])

    def readline(self):
        self._can_read()
        out = b""
        while self.any():
            c = self.read(1)
            out += c
            if c == b"\n":
                break
        return out or None

    def readinto(self, buf, nbytes=None):
        d = self.read(len(buf) if nbytes is None else nbytes)
        if d is None:
            return None
        buf[: len(d)] = d
        return len(d)

    def flush(self):
        pass

    def txdone(self):
        return True

    def __repr__(self):
        p = {None: "None", 0: "0", 1: "1"}.get(self._parity, str(self._parity))
        return "UART(%u, baudrate=%u, bits=%u, parity=%s, stop=%u, rxbuf=%u, timeout=%u, timeout_char=%u)" % (
            self._id, self._baud, self._bits, p, self._stop, self._rxbuf, self._timeout, self._timeout_char)
