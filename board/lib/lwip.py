# lwip is the ESP8266 port's name for its socket module (modlwip.c registers
# the same module as lwip and socket).
from socket import *

# On the board socket, usocket and lwip are one C module named lwip.
__name__ = "lwip"
del __file__
