# urequests: the old name of requests, kept by bundle-networking. Attributes
# are looked up in requests on first use, so both names share one module.


def __getattr__(name):
    import requests

    return getattr(requests, name)
