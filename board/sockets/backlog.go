package sockets

// gVisorAcceptQueue is the accept queue the board's gVisor listener gets,
// whatever backlog the script asked for.
//
// gVisor answers SYNs with cookies once its queue of half-open connections
// reaches the backlog, and silently drops the handshake's final ACK (and
// every data segment after it) while its accept queue is full. The peer
// then believes the connection is open and sends its request, while the
// board holds no state for it: the connection completes only when a
// retransmission happens to arrive while the queue has room, after
// exponential backoff (3 s, 6 s, 12 s, …). A burst of 32 forwarded clients
// left up to 98 host sockets in CLOSE-WAIT that way and the board's server
// looked stalled. lwIP never gets into that state: it keeps a PCB for every
// pending connection (no cookies), and an ACK it cannot hand to accept()
// aborts the connection with a RST rather than vanishing.
//
// So the gVisor queue is made large enough never to drop an ACK in practice;
// the table still decides when the script gets a connection (accept() waits
// while the PCB pool is full).
const gVisorAcceptQueue = 128

// acceptQueueFor is the gVisor listen backlog for a script's backlog.
func acceptQueueFor(backlog int) int {
	return max(backlog+1, gVisorAcceptQueue)
}
