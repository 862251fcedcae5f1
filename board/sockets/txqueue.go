package sockets

import "time"

// The board's radio queue: datagrams wait for the air in pbufs, and the
// ESP8266 has few. A script that sends UDP faster than the radio can
// transmit runs out of them and sendto raises OSError(ENOMEM); the
// simulator used to queue every datagram on the host instead (160,000
// sendto of 1000 bytes without yielding grew the process by 350 MB, since
// fast mode's time stands still while the script runs).

const (
	// TxQueueFrames is how many datagrams may wait for the radio.
	TxQueueFrames = 8
	// txRate is the radio's effective rate (bits per second) and
	// txOverhead the per-frame cost (preamble, MAC header, ACK, backoff).
	txRate     = 20_000_000
	txOverhead = 100 * time.Microsecond
	// sendCPU is what one sendto costs the chip's CPU. Fast mode's time
	// stands still while a script runs, so the queue counts this much
	// radio time as passed per call: short bursts fit, as on the chip,
	// and only sends that outpace the radio find it full (8 queued
	// 1000-byte datagrams fill after about a dozen back-to-back calls).
	sendCPU = 150 * time.Microsecond
)

// txQueue tracks when each queued datagram leaves the radio.
type txQueue struct {
	// ends are the departure times of queued datagrams, in order.
	ends []time.Duration
	// cpu is how far the script's back-to-back sends have carried the
	// chip's own time past the simulator's.
	cpu time.Duration
}

// admit reports whether a datagram of n bytes fits the queue at now, and
// if so queues it.
func (q *txQueue) admit(now time.Duration, n int) bool {
	now = max(now, q.cpu)
	q.cpu = now + sendCPU
	i := 0
	for i < len(q.ends) && q.ends[i] <= now {
		i++
	}
	q.ends = append(q.ends[:0], q.ends[i:]...)
	if len(q.ends) >= TxQueueFrames {
		return false
	}
	start := now
	if len(q.ends) > 0 {
		start = q.ends[len(q.ends)-1]
	}
	air := txOverhead + time.Duration(int64(n)*8*int64(time.Second)/txRate)
	q.ends = append(q.ends, start+air)
	return true
}

// admitDatagram applies the radio queue to a datagram socket's send; it
// is a no-op for streams (their send buffer is the back-pressure).
func (t *Table) admitDatagram(s *sock, n int) error {
	if s.kind != kindUDP {
		return nil
	}
	t.mu.Lock()
	ok := t.tx.admit(t.now(), n)
	t.mu.Unlock()
	if !ok {
		return oserr(ENOMEM)
	}
	return nil
}

// TxWait is how long until the radio queue has room again (0: it has).
func (t *Table) TxWait() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	live := 0
	for _, e := range t.tx.ends {
		if e > now {
			live++
		}
	}
	if live < TxQueueFrames {
		return 0
	}
	for _, e := range t.tx.ends {
		if e > now {
			return e - now
		}
	}
	return 0
}
