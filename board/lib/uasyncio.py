# uasyncio is the old name of asyncio.
from asyncio import *


def __getattr__(attr):
    import asyncio

    return getattr(asyncio, attr)
