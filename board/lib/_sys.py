# The board's sys: the firmware's own, with the ESP8266's platform.
from sys import *

platform = "esp8266"
