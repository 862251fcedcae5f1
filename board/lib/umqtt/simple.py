# The board's umqtt.simple (micropython-lib's, frozen in ESP8266_GENERIC),
# written for this simulator: an MQTT 3.1.1 client over one socket, QoS 0
# and 1, last will, keepalive sent in CONNECT (pings are the program's).
# Like the original it raises MQTTException for a refused CONNECT and a
# failed SUBSCRIBE, OSError(-1) when the broker closes, and AssertionError
# for QoS 2.
import socket
import struct


class MQTTException(Exception):
    pass


class MQTTClient:
    def __init__(self, client_id, server, port=0, user=None, password=None, keepalive=0, ssl=None, ssl_params={}):
        if port == 0:
            port = 8883 if ssl else 1883
        self.client_id = client_id
        self.sock = None
        self.server = server
        self.port = port
        self.ssl = ssl
        self.ssl_params = ssl_params
        self.pid = 0
        self.cb = None
        self.user = user
        self.pswd = password
        self.keepalive = keepalive
        self.lw_topic = None
        self.lw_msg = None
        self.lw_qos = 0
        self.lw_retain = False

    def _send_str(self, s):
        self.sock.write(struct.pack("!H", len(s)))
        self.sock.write(s)

    def _recv_len(self):
        n = sh = 0
        while 1:
            b = self.sock.read(1)[0]
            n |= (b & 0x7F) << sh
            if not b & 0x80:
                return n
            sh += 7

    def _head(self, buf, sz):
        # Remaining length, variable-length encoded from buf[1]; the index
        # after it.
        i = 1
        while sz > 0x7F:
            buf[i] = (sz & 0x7F) | 0x80
            sz >>= 7
            i += 1
        buf[i] = sz
        return i + 1

    def set_callback(self, f):
        self.cb = f

    def set_last_will(self, topic, msg, retain=False, qos=0):
        assert 0 <= qos <= 2
        assert topic
        self.lw_topic = topic
        self.lw_msg = msg
        self.lw_qos = qos
        self.lw_retain = retain

    def connect(self, clean_session=True, timeout=None):
        self.sock = socket.socket()
        self.sock.settimeout(timeout)
        self.sock.connect(socket.getaddrinfo(self.server, self.port)[0][-1])
        if self.ssl is True:
            import ssl

            self.sock = ssl.wrap_socket(self.sock, **self.ssl_params)
        elif self.ssl:
            self.sock = self.ssl.wrap_socket(self.sock, server_hostname=self.server)
        # Variable header: protocol name, level 4, flags, keepalive.
        vh = bytearray(b"\x04MQTT\x04\x02\0\0")
        vh[6] = clean_session << 1
        sz = 12 + len(self.client_id)
        if self.user:
            sz += 4 + len(self.user) + len(self.pswd)
            vh[6] |= 0xC0
        if self.keepalive:
            assert self.keepalive < 65536
            vh[7] |= self.keepalive >> 8
            vh[8] |= self.keepalive & 0xFF
        if self.lw_topic:
            sz += 4 + len(self.lw_topic) + len(self.lw_msg)
            vh[6] |= 0x4 | (self.lw_qos & 3) << 3 | self.lw_retain << 5
        # The fixed header goes out with one more zero byte: the high byte
        # of the protocol name's length, whose low byte starts vh.
        fh = bytearray(b"\x10\0\0\0\0\0")
        self.sock.write(fh, self._head(fh, sz) + 1)
        self.sock.write(vh)
        self._send_str(self.client_id)
        if self.lw_topic:
            self._send_str(self.lw_topic)
            self._send_str(self.lw_msg)
        if self.user:
            self._send_str(self.user)
            self._send_str(self.pswd)
        ack = self.sock.read(4)
        assert ack[0] == 0x20 and ack[1] == 0x02
        if ack[3]:
            raise MQTTException(ack[3])
        return ack[2] & 1

    def disconnect(self):
        self.sock.write(b"\xe0\0")
        self.sock.close()

    def ping(self):
        self.sock.write(b"\xc0\0")

    def publish(self, topic, msg, retain=False, qos=0):
        pkt = bytearray(b"\x30\0\0\0")
        pkt[0] |= qos << 1 | retain
        sz = 2 + len(topic) + len(msg) + (2 if qos > 0 else 0)
        assert sz < 2097152
        self.sock.write(pkt, self._head(pkt, sz))
        self._send_str(topic)
        if qos > 0:
            self.pid += 1
            pid = self.pid
            struct.pack_into("!H", pkt, 0, pid)
            self.sock.write(pkt, 2)
        self.sock.write(msg)
        if qos == 1:
            while 1:
                if self.wait_msg() == 0x40:
                    assert self.sock.read(1) == b"\x02"
                    got = self.sock.read(2)
                    if got[0] << 8 | got[1] == pid:
                        return
        elif qos == 2:
            assert 0

    def subscribe(self, topic, qos=0):
        assert self.cb is not None, "Subscribe callback is not set"
        pkt = bytearray(b"\x82\0\0\0")
        self.pid += 1
        struct.pack_into("!BH", pkt, 1, 5 + len(topic), self.pid)
        self.sock.write(pkt)
        self._send_str(topic)
        self.sock.write(qos.to_bytes(1, "little"))
        while 1:
            if self.wait_msg() == 0x90:
                ack = self.sock.read(4)
                assert ack[1] == pkt[2] and ack[2] == pkt[3]
                if ack[3] == 0x80:
                    raise MQTTException(ack[3])
                return

    def unsubscribe(self, topic):
        pkt = bytearray(b"\xa2\0\0\0")
        self.pid += 1
        struct.pack_into("!BH", pkt, 1, 4 + len(topic), self.pid)
        self.sock.write(pkt)
        self._send_str(topic)
        while 1:
            if self.wait_msg() == 0xB0:
                ack = self.sock.read(3)
                assert ack[1] == pkt[2] and ack[2] == pkt[3]
                return

    # wait_msg reads one packet: a PUBLISH goes to the callback (and is
    # acknowledged for QoS 1); another packet's type byte is returned for
    # the caller to read the rest.
    def wait_msg(self):
        op = self.sock.read(1)
        self.sock.setblocking(True)
        if op is None:
            return None
        if op == b"":
            raise OSError(-1)
        if op == b"\xd0":  # PINGRESP
            assert self.sock.read(1)[0] == 0
            return None
        op = op[0]
        if op & 0xF0 != 0x30:
            return op
        sz = self._recv_len()
        n = self.sock.read(2)
        n = n[0] << 8 | n[1]
        topic = self.sock.read(n)
        sz -= n + 2
        if op & 6:
            pid = self.sock.read(2)
            pid = pid[0] << 8 | pid[1]
            sz -= 2
        msg = self.sock.read(sz)
        self.cb(topic, msg)
        if op & 6 == 2:
            ack = bytearray(b"\x40\x02\0\0")
            struct.pack_into("!H", ack, 2, pid)
            self.sock.write(ack)
        elif op & 6 == 4:
            assert 0
        return op

    # check_msg is wait_msg without waiting: None when nothing arrived.
    def check_msg(self):
        self.sock.setblocking(False)
        return self.wait_msg()
