# The board's requests module: micropython-lib's requests 0.10 API (frozen
# in ESP8266_GENERIC by bundle-networking), written for this simulator. One
# HTTP/1.0 request per connection; the body is read when asked for.
# Behaviour kept from the original: "Connection: close" unless given, a
# chunked upload for a data iterator without len(), redirects followed for
# 301/302/303 (as GET) and 307/308 (same method), a chunked response raises
# ValueError, header names are matched case-sensitively.
import socket


class Response:
    def __init__(self, sock):
        self.raw = sock
        self.encoding = "utf-8"
        self._cached = None

    def close(self):
        if self.raw:
            self.raw.close()
            self.raw = None
        self._cached = None

    @property
    def content(self):
        if self._cached is None:
            try:
                self._cached = self.raw.read()
            finally:
                self.raw.close()
                self.raw = None
        return self._cached

    @property
    def text(self):
        return str(self.content, self.encoding)

    def json(self):
        import json

        return json.loads(self.content)


def _send_body(s, data, chunked):
    if not chunked:
        s.write(data)
        return
    for part in data:
        if chunked == 2:
            s.write(b"%x\r\n" % len(part))
            s.write(part)
            s.write(b"\r\n")
        else:
            s.write(part)
    if chunked == 2:
        s.write("0\r\n\r\n")


def request(method, url, data=None, json=None, headers=None, stream=None, auth=None, timeout=None, parse_headers=True):
    headers = {} if headers is None else headers.copy()
    # An iterator without a length goes out in chunks.
    gen = data and getattr(data, "__next__", None) and not getattr(data, "__len__", None)
    if auth is not None:
        from binascii import b2a_base64

        cred = b2a_base64(b"%s:%s" % auth)[:-1]
        headers["Authorization"] = "Basic " + str(cred, "ascii")
    parts = url.split("/", 3)
    if len(parts) < 3:
        raise ValueError("need more than %d values to unpack" % len(parts))
    scheme, host = parts[0], parts[2]
    path = parts[3] if len(parts) > 3 else ""
    if scheme == "http:":
        port = 80
    elif scheme == "https:":
        import tls

        port = 443
    else:
        raise ValueError("Unsupported protocol: " + scheme)
    if ":" in host:
        host, port = host.split(":", 1)
        port = int(port)
    ai = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)[0]
    hdrs = {} if parse_headers is not False else None
    s = socket.socket(ai[0], socket.SOCK_STREAM, ai[2])
    if timeout is not None:
        s.settimeout(timeout)
    where = None
    try:
        s.connect(ai[-1])
        if scheme == "https:":
            ctx = tls.SSLContext(tls.PROTOCOL_TLS_CLIENT)
            ctx.verify_mode = tls.CERT_NONE
            s = ctx.wrap_socket(s, server_hostname=host)
        s.write(b"%s /%s HTTP/1.0\r\n" % (method, path))
        if "Host" not in headers:
            headers["Host"] = host
        if json is not None:
            assert data is None
            from json import dumps

            data = dumps(json)
            if "Content-Type" not in headers:
                headers["Content-Type"] = "application/json"
        chunked = 0
        if data:
            if gen:
                chunked = 1
                if "Transfer-Encoding" not in headers and "Content-Length" not in headers:
                    headers["Transfer-Encoding"] = "chunked"
                if headers.get("Transfer-Encoding", None) == "chunked":
                    chunked = 2
            elif "Content-Length" not in headers:
                headers["Content-Length"] = str(len(data))
        if "Connection" not in headers:
            headers["Connection"] = "close"
        for k in headers:
            s.write(k)
            s.write(b": ")
            s.write(headers[k])
            s.write(b"\r\n")
        s.write(b"\r\n")
        if data:
            _send_body(s, data, chunked)
        line = s.readline().split(None, 2)
        if len(line) < 2:
            raise ValueError("HTTP error: BadStatusLine:\n%s" % line)
        status = int(line[1])
        reason = line[2].rstrip() if len(line) > 2 else ""
        while True:
            line = s.readline()
            if not line or line == b"\r\n":
                break
            if line.startswith(b"Transfer-Encoding:"):
                if b"chunked" in line:
                    raise ValueError("Unsupported " + str(line, "utf-8"))
            elif line.startswith(b"Location:") and not 200 <= status <= 299:
                if status not in (301, 302, 303, 307, 308):
                    raise NotImplementedError("Redirect %d not yet supported" % status)
                where = str(line[10:-2], "utf-8")
            if parse_headers is True:
                k, v = str(line, "utf-8").split(":", 1)
                hdrs[k] = v.strip()
            elif parse_headers is not False:
                parse_headers(line, hdrs)
    except OSError:
        s.close()
        raise
    if where:
        s.close()
        headers.pop("Host", None)
        if status in (307, 308):
            return request(method, where, data, json, headers, stream)
        return request("GET", where, None, None, headers, stream)
    r = Response(s)
    r.status_code = status
    r.reason = reason
    if hdrs is not None:
        r.headers = hdrs
    return r


def head(url, **kw):
    return request("HEAD", url, **kw)


def get(url, **kw):
    return request("GET", url, **kw)


def post(url, **kw):
    return request("POST", url, **kw)


def put(url, **kw):
    return request("PUT", url, **kw)


def patch(url, **kw):
    return request("PATCH", url, **kw)


def delete(url, **kw):
    return request("DELETE", url, **kw)
