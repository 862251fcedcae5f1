"""Drive Thonny's ESP8266 MicroPython back-end headless, as Thonny's GUI does.

    python3 thonny_driver.py PORT

Thonny runs its back-end (thonny/plugins/esp/esp_back.py) as a subprocess
and talks to it with messages on stdin/stdout (thonny.common: a \\x02
marker, a line count, and the repr of a Record). This script plays the GUI's
part: it starts the back-end on PORT, runs code as the Shell does, writes,
lists and reads a file as the Files view does, clicks "Run current script"
(soft reboot, then the script) and checks every answer. Exit 0 when all
held, 1 with the reason when not.
"""
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time

import thonny.plugins.esp.esp_back as esp_back
from thonny.common import (
    ImmediateCommand,
    InlineCommand,
    ToplevelCommand,
    parse_message,
    serialize_message,
)

TIMEOUT = 60


class Fail(Exception):
    pass


class Backend:
    def __init__(self, port):
        args = {
            "clean": False,
            "port": port,
            "dtr": None,
            "rts": None,
            "submit_mode": None,
            "interrupt_on_connect": True,
            "write_block_size": None,
            "write_block_delay": None,
            "proxy_class": "ESP8266Proxy",
            "sync_time": False,
            "validate_time": False,
            "local_rtc": False,
        }
        # The back-end logs to Thonny's user directory: a scratch one.
        self.userdir = tempfile.TemporaryDirectory(prefix="thonny-user-")
        env = dict(os.environ, THONNY_USER_DIR=self.userdir.name)
        self.proc = subprocess.Popen(
            [sys.executable, esp_back.__file__, repr(args)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            universal_newlines=True, encoding="utf-8", env=env,
        )
        self.msgs = queue.Queue()
        self.output = ""
        threading.Thread(target=self._read, daemon=True).start()
        self.n = 0

    def _read(self):
        while True:
            line = self.proc.stdout.readline()
            if not line:
                self.msgs.put(None)
                return
            if not line.startswith("\x02"):
                continue
            count = int(line[1:].split(maxsplit=1)[0])
            for _ in range(count - 1):
                line += self.proc.stdout.readline()
            self.msgs.put(parse_message(line))

    def send(self, msg):
        self.proc.stdin.write(serialize_message(msg) + "\n")
        self.proc.stdin.flush()

    def next_id(self):
        self.n += 1
        return "cmd%d" % self.n

    def wait(self, pred, what):
        """Collect messages (and program output) until pred(msg) holds."""
        end = time.time() + TIMEOUT
        while time.time() < end:
            try:
                msg = self.msgs.get(timeout=1)
            except queue.Empty:
                continue
            if msg is None:
                raise Fail("back-end exited waiting for %s; stderr: %s" % (what, self.proc.stderr.read()[-2000:]))
            if os.environ.get("THONNY_DRIVER_DEBUG"):
                print("<-", repr(msg)[:300], file=sys.stderr)
            if msg.get("event_type") == "ProgramOutput":
                self.output += msg["data"]
            if msg.get("error"):
                raise Fail("%s: back-end error %r" % (what, msg["error"]))
            if pred(msg):
                return msg
        raise Fail("no %s within %d s; output so far %r" % (what, TIMEOUT, self.output[-500:]))

    def command(self, cmd):
        cmd["id"] = self.next_id()
        self.send(cmd)
        return self.wait(lambda m: m.get("command_id") == cmd["id"] and m.get("sequence") in ("InlineResponse", "ToplevelResponse"),
                         "answer to " + cmd["name"])


def main():
    b = Backend(sys.argv[1])
    try:
        welcome = b.wait(lambda m: m.get("event_type") == "ToplevelResponse", "welcome")
        print("connected:", (welcome.get("welcome_text") or "").strip().splitlines()[:1])

        b.output = ""
        b.command(ToplevelCommand("execute_source", source="print(6*7)\n", tty_mode=True))
        if "42" not in b.output:
            raise Fail("Shell: print(6*7) printed %r" % b.output)
        print("shell ok")
        sys.stdout.flush()

        body = "".join("thonny line %d\n" % i for i in range(300)).encode()
        b.command(InlineCommand("write_file", path="/thonny.txt", content_bytes=body,
                                make_shebang_scripts_executable=False))
        info = b.command(InlineCommand("get_dirs_children_info", paths=["/"], include_hidden=True, node_id="n"))
        children = info["data"]["/"]
        if "thonny.txt" not in children or children["thonny.txt"].get("size") != len(body):
            raise Fail("Files view lists %r" % children)
        got = b.command(InlineCommand("read_file", path="/thonny.txt"))
        if got["content_bytes"] != body:
            raise Fail("read back %d bytes, wrote %d" % (len(got["content_bytes"]), len(body)))
        print("files ok (%d bytes)" % len(body))

        b.output = ""
        b.command(ToplevelCommand("execute_source", source="kept = 1\n", tty_mode=True))
        b.command(ToplevelCommand("Run", args=[], source="import os\nprint('run sees', 'thonny.txt' in os.listdir(), 'kept' in globals())\n"))
        if "run sees" not in b.output:
            b.wait(lambda m: "run sees" in b.output, "script output")
        if "run sees True False" not in b.output:
            raise Fail("Run current script printed %r" % b.output)
        print("run ok")

        # The Stop button: an interrupt while the Shell runs a loop.
        b.output = ""
        cmd = ToplevelCommand("execute_source", source="import time\nprint('looping')\nwhile True:\n    time.sleep(0.1)\n", tty_mode=True)
        cmd["id"] = b.next_id()
        b.send(cmd)
        b.wait(lambda m: "looping" in b.output, "loop start")
        t0 = time.time()
        b.send(ImmediateCommand("interrupt"))
        b.wait(lambda m: m.get("command_id") == cmd["id"] and m.get("sequence") == "ToplevelResponse", "end of the interrupted loop")
        if "KeyboardInterrupt" not in b.output:
            raise Fail("Stop: no KeyboardInterrupt in %r" % b.output)
        print("stop ok (%.0f ms)" % ((time.time() - t0) * 1000))
    except Fail as e:
        print("FAIL:", e)
        sys.exit(1)
    finally:
        b.proc.kill()
        b.proc.wait()
        b.userdir.cleanup()


if __name__ == "__main__":
    main()
