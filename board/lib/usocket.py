# usocket is the old name of socket.
from socket import *
from socket import getaddrinfo, print_pcbs
