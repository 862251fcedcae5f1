// Package sockets is the board's network socket layer: the simulator's model of
// the ESP8266 port's lwIP sockets (MicroPython extmod/modlwip.c) built on a
// gVisor tcpip stack.
//
// A Table belongs to one board. Every MicroPython socket object is a small
// integer handle (fd) into it; the board's host module turns Python calls into
// Table methods and the board's /lib/socket.py, select.py, ssl.py and asyncio
// are thin Python over those host calls.
//
// What the table reproduces from the real board:
//
//   - lwIP error codes mapped to MicroPython errno values through one table
//     (lwipErrno), with modlwip's state machine: a reset connection reports
//     ECONNRESET once, then EBADF; a refused connect is a reset; blocking
//     calls past settimeout raise ETIMEDOUT, non-blocking ones EAGAIN and a
//     non-blocking connect EINPROGRESS.
//   - esp-open-lwip's limits. PCBs come from the heap (MEMP_MEM_MALLOC):
//     socket() raises ENOMEM only once Config.MaxTCPPCBs PCBs exist (an
//     estimate of the SDK heap), and only then is the oldest TIME_WAIT PCB
//     killed to make room, as lwIP's tcp_alloc does (Config.KeepTimeWait
//     keeps them for the whole 2·MSL of Config.TimeWait, 120 s). The SDK's
//     MEMP_NUM_TCP_PCB (5) is the active-connection count at which
//     tcp_listen_input drops SYNs (Config.MaxActiveTCP; lwipinput.go).
//   - listen(backlog): every handshake completes, max(backlog, 1)
//     connections wait for accept(), the next is reset (backlog.go).
//   - What lwIP 1.4 ignores or lacks: ICMP errors (a dead address times
//     out, a blocking connect gives up after 6 SYN retransmissions with
//     ECONNABORTED), SO_REUSE (bind to a port a PCB holds, TIME_WAIT
//     included, is EADDRINUSE), the local-address check of bind. SYNs carry
//     MSS only in a 24-byte header, the window is TCP_WND, 5840, and ACKs
//     are delayed to lwIP's 125 ms fast tick unless a second segment came
//     (lwipwire.go, lwiplink.go: shaped on the board's link, given as
//     Config.Link).
//   - modlwip's receive side: one pbuf (segment) per recv, four datagrams
//     per UDP socket (udpqueue.go), reprs <socket state=... timeout=...
//     incoming=... off=...>.
//   - send() writes at most what fits in the lwIP send buffer (TCP_SND_BUF,
//     2·MSS = 2920 bytes), so a script that ignores send()'s result loses data
//     as it would on the board.
//   - print_pcbs() in lwIP's tcp_debug_print_pcbs format, and Snapshot for the
//     Go API and the CLI.
//   - TLS (WrapTLS) with Go's crypto/tls over a board TCP socket, in the
//     ESP8266's axTLS flavour (no verification, OSError(-256, 'CONN_LOST')...)
//     or the mbedTLS ports' (CERT_REQUIRED, ValueError with mbedTLS's
//     verification text, getpeercert).
//   - Poll, the engine of select.poll/select.select, with modlwip's ioctl
//     flags (a new socket reports POLLOUT|POLLHUP, a reset one
//     POLLOUT|POLLHUP, a closed one 0x20, which select has no name for).
//
// Use: New(Config{Stack, NIC, Clock, Actor, Resolver}) once per board, then
// the socket calls (Socket, Bind, Listen, Accept, Connect, Send, Recv, ...)
// from the board's goroutine; Snapshot and PrintPCBs from anywhere; CloseAll
// when the board goes away. Errors a script sees are *OSError values.
//
// Blocking never busy-waits: a call that must wait registers a waiter on the
// gVisor endpoint whose callback wakes the board's vclock actor, then parks
// the actor, so simulator time can jump while the board waits.
package sockets
