# The board's mip (micropython-lib's package installer, frozen by
# bundle-networking), written for this simulator. It reads the package
# index's JSON (https://micropython.org/pi/v2 unless index= says otherwise),
# fetches files by hash into the first "/lib" on sys.path, skips files
# already there with the right hash, follows "urls" (relative to the
# package.json, github:/gitlab: rewritten to their raw-file hosts) and
# "deps", and prints progress like the original.
import sys
import requests

_INDEX = "https://micropython.org/pi/v2"
_CHUNK = 128

allowed_mip_url_prefixes = ("http://", "https://", "github:", "gitlab:")


def _makedirs_for(path):
    import os

    parts = path.split("/")[:-1]
    d = ""
    for i, p in enumerate(parts):
        d = p if i == 0 else d + "/" + p
        if not d:
            continue
        try:
            os.stat(d)
        except OSError:
            os.mkdir(d)


def _copy(src, sink):
    buf = memoryview(bytearray(_CHUNK))
    while True:
        n = src.readinto(buf)
        if not n:
            break
        sink(buf if n == _CHUNK else buf[:n])


def _has(path, short):
    try:
        import hashlib
        from binascii import hexlify

        h = hashlib.sha256()
        with open(path, "rb") as f:
            _copy(f, h.update)
        return str(hexlify(h.digest())[: len(short)], "utf-8") == short
    except:
        return False


def _rewrite_url(url, branch=None):
    branch = branch or "HEAD"
    for scheme, fmt in (("github:", "https://raw.githubusercontent.com/{}/{}/{}/{}"), ("gitlab:", "https://gitlab.com/{}/{}/-/raw/{}/{}")):
        if url.startswith(scheme):
            p = url[len(scheme) :].split("/")
            return fmt.format(p[0], p[1], branch, "/".join(p[2:]))
    return url


def _download_file(url, dest):
    r = requests.get(url)
    try:
        if r.status_code != 200:
            print("Error", r.status_code, "requesting", url)
            return False
        print("Copying:", dest)
        _makedirs_for(dest)
        with open(dest, "wb") as f:
            _copy(r.raw, f.write)
        return True
    finally:
        r.close()


def _install_json(url, index, target, version, mpy):
    r = requests.get(_rewrite_url(url, version))
    try:
        if r.status_code != 200:
            print("Package not found:", url)
            return False
        pkg = r.json()
    finally:
        r.close()
    for path, short in pkg.get("hashes", ()):
        dest = target + "/" + path
        if _has(dest, short):
            print("Exists:", dest)
        elif not _download_file("{}/file/{}/{}".format(index, short[:2], short), dest):
            print("File not found: {} {}".format(path, short))
            return False
    i = url.rfind("/")  # no str.rpartition on the ESP8266
    base = url[:i] if i >= 0 else ""
    for path, u in pkg.get("urls", ()):
        if base and not any(u.startswith(p) for p in allowed_mip_url_prefixes):
            u = base + "/" + u
        if not _download_file(_rewrite_url(u, version), target + "/" + path):
            print("File not found: {} {}".format(path, u))
            return False
    for dep, dep_version in pkg.get("deps", ()):
        if not _install_package(dep, index, target, dep_version, mpy):
            return False
    return True


def _install_package(package, index, target, version, mpy):
    if any(package.startswith(p) for p in allowed_mip_url_prefixes):
        if package.endswith(".py") or package.endswith(".mpy"):
            print("Downloading {} to {}".format(package, target))
            return _download_file(_rewrite_url(package, version), target + "/" + package.rsplit("/")[-1])
        if not package.endswith(".json"):
            package += "package.json" if package.endswith("/") else "/package.json"
        print("Installing {} to {}".format(package, target))
    else:
        version = version or "latest"
        print("Installing {} ({}) from {} to {}".format(package, version, index, target))
        impl = sys.implementation
        kind = impl._mpy & 0xFF if mpy and hasattr(impl, "_mpy") else "py"
        package = "{}/package/{}/{}/{}.json".format(index, kind, package, version)
    return _install_json(package, index, target, version, mpy)


def install(package, index=None, target=None, version=None, mpy=True):
    if not target:
        for p in sys.path:
            if not p.startswith("/rom") and p.endswith("/lib"):
                target = p
                break
        else:
            print("Unable to find lib dir in sys.path")
            return
    if _install_package(package, (index or _INDEX).rstrip("/"), target, version, mpy):
        print("Done")
    else:
        print("Package may be partially installed")
