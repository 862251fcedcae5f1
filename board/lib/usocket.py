# usocket is the old name of socket.
from socket import *
from socket import getaddrinfo, print_pcbs

# On the board socket, usocket and lwip are one C module named lwip.
__name__ = "lwip"
del __file__
