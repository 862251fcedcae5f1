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
//   - The PCB pool: at most Config.MaxTCPPCBs TCP PCBs (5 on the ESP8266 SDK)
//     counting unconnected sockets, connections, orphans still closing and
//     TIME_WAIT; socket() past the limit raises OSError(ENOMEM). TIME_WAIT lasts
//     Config.TimeWait (2·MSL, 120 s) of simulator time; when the pool is full
//     the oldest TIME_WAIT PCB is killed to make room, as lwIP's tcp_alloc
//     does (Config.KeepTimeWait keeps them for the whole 2·MSL instead).
//   - send() writes at most what fits in the lwIP send buffer (TCP_SND_BUF,
//     2·MSS = 2920 bytes), so a script that ignores send()'s result loses data
//     as it would on the board.
//   - print_pcbs() in lwIP's tcp_debug_print_pcbs format, and Snapshot for the
//     Go API and the CLI.
//   - accept() only takes a connection when a PCB is free (lwIP would drop
//     the SYN; here the handshake completes and the connection waits in the
//     listen queue until a TIME_WAIT ends).
//   - TLS (WrapTLS) with Go's crypto/tls over a board TCP socket, in the
//     ESP8266's axTLS flavour (no verification, OSError(-256, 'CONN_LOST')...)
//     or the mbedTLS ports' (CERT_REQUIRED, ValueError with mbedTLS's
//     verification text, getpeercert).
//   - Poll, the engine of select.poll/select.select, with modlwip's ioctl
//     flags (a new socket reports POLLHUP, a reset one POLLOUT|POLLHUP, a
//     closed one POLLNVAL).
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
