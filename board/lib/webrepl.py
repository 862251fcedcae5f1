# The board's webrepl (micropython-lib's, frozen by bundle-networking),
# written for this simulator. The protocol (_webrepl, websocket,
# os.dupterm) runs in the simulator over the board's own sockets; this file
# keeps the module's API and messages: start() reads webrepl_cfg.PASS,
# listens on port 8266 and prints where; the REPL then serves one client
# at a time.
import _webrepl
import network
from _hostcall import U as _U, exc as _exc

listen_s = None
client_s = None
DEBUG = 0
static_host = "https://micropython.org/webrepl/"


def stop():
    if _webrepl.stop() is _U:
        raise _exc()


def start(port=8266, password=None, accept_handler=True):
    global static_host
    stop()
    pw = password
    if pw is None:
        try:
            import webrepl_cfg

            pw = webrepl_cfg.PASS
            if hasattr(webrepl_cfg, "BASE"):
                static_host = webrepl_cfg.BASE
        except:
            print("WebREPL is not configured, run 'import webrepl_setup'")
    if not isinstance(pw, str):
        raise TypeError("can't convert '%s' object to str implicitly" % type(pw).__name__)
    if _webrepl.start(port, pw) is _U:
        raise _exc()
    for i in (network.WLAN.IF_AP, network.WLAN.IF_STA):
        iface = network.WLAN(i)
        if iface.active():
            print("WebREPL server started on http://%s:%d/" % (iface.ifconfig()[0], port))
    if accept_handler is None:
        print("Starting webrepl in foreground mode")
    elif password is None:
        print("Started webrepl in normal mode")
    else:
        print("Started webrepl in manual override mode")


def start_foreground(port=8266, password=None):
    start(port, password, None)
