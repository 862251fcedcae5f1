# The multitest helper of esp8266sim, compatible with MicroPython's
# tests/run-multitests.py: the same methods print the same control lines,
# which the simulator reads from the board's console. wait() reads the
# runner's replies through the _multitest host module, as the real helper
# reads them from the serial input.
import sys
import _multitest

_RUN = 0
_IDX = 0


class multitest:
    @staticmethod
    def flush():
        try:
            sys.stdout.flush()
        except AttributeError:
            pass

    @staticmethod
    def skip():
        print("SKIP")
        multitest.flush()
        raise SystemExit

    @staticmethod
    def next():
        print("NEXT")
        multitest.flush()

    @staticmethod
    def broadcast(msg):
        print("BROADCAST", msg)
        multitest.flush()

    @staticmethod
    def wait(msg):
        msg = "BROADCAST " + msg
        while True:
            if _multitest.readline(_RUN, _IDX).rstrip() == msg:
                return

    @staticmethod
    def globals(**gs):
        for g in gs:
            print("SET {} = {!r}".format(g, gs[g]))
        multitest.flush()

    @staticmethod
    def get_network_ip():
        return _multitest.ip(_RUN, _IDX)

    @staticmethod
    def expect_reboot(resume, delay_ms=0):
        print("WAIT_FOR_REBOOT", resume, delay_ms)

    @staticmethod
    def output_metric(data):
        print("OUTPUT_METRIC", data)
