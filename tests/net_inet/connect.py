# Joins SimNet; prepend it to a net_inet test (see world.yaml).
import network as _nw, time as _t
_w = _nw.WLAN(_nw.STA_IF)
_w.active(True)
_w.connect("SimNet", "esp8266sim")
while not _w.isconnected():
    _t.sleep(0.5)
del _w, _nw, _t
