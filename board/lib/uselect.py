# uselect is the old name of select.
from select import *
