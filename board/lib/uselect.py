# uselect is the old name of select.
from select import *

# The board's select is a C module.
__name__ = "select"
del __file__
