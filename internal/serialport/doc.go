// Package serialport gives a simulated board's UART the shapes host tools
// expect of a serial device: a pseudo-terminal (what pyserial, mpremote,
// pyboard.py, Thonny and screen open as /dev/ttyUSB0 would be) and a TCP
// listener that speaks raw bytes (pyserial's socket://) or telnet with the
// RFC 2217 COM-PORT-OPTION (rfc2217://), whose DTR and RTS lines drive the
// board's reset and boot-mode pins through the NodeMCU auto-reset circuit.
//
// A Line is the board's end: the board reads its input from it and writes
// its output to it. Endpoints (OpenPTY, ListenTCP) attach to a Line; any
// number may be open at once. Output fans out to every connected client
// through a bounded queue per client and is dropped while nobody is
// connected, as a UART's TX line drives nothing when no adapter is plugged
// in; input from every client is merged, with flow control (a client's
// writes wait while the board has not read what came before). Every
// endpoint owns its goroutines and Close stops and waits for them.
package serialport
