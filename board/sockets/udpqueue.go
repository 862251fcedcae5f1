package sockets

import (
	"bytes"
	"sync"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/waiter"
)

// IncomingQueueLen is modlwip's LWIP_INCOMING_PACKET_QUEUE_LEN: a UDP or raw
// socket keeps this many received datagrams; udp_raw_incoming frees the
// pbuf of any that arrives while every slot is taken.
const IncomingQueueLen = 4

// dgram is one received datagram and its sender.
type dgram struct {
	data []byte
	from tcpip.FullAddress
}

// dgramQueue is a UDP or raw socket's slots, filled the moment gVisor
// queues a datagram (as lwIP's recv callback runs on arrival), so what is
// dropped depends on arrival order alone.
type dgramQueue struct {
	ep    tcpip.Endpoint
	wq    *waiter.Queue
	entry waiter.Entry

	mu sync.Mutex
	// Guarded by mu.
	q       []dgram
	dropped int
	// only, when set, is the address the socket was bound to that is none
	// of the board's (bind accepts it, see Table.Bind): udp_input matches a
	// PCB's local address against the datagram's destination, so nothing
	// addressed elsewhere reaches it.
	only tcpip.Address
}

func newDgramQueue(ep tcpip.Endpoint, wq *waiter.Queue) *dgramQueue {
	d := &dgramQueue{ep: ep, wq: wq}
	// Registered before any waiter of a blocking call, so the slots are
	// filled before the board is woken.
	d.entry = waiter.NewFunctionEntry(waiter.ReadableEvents, func(waiter.EventMask) { d.fill() })
	wq.EventRegister(&d.entry)
	return d
}

// fill moves what gVisor holds into the slots. It runs in the notifier's
// goroutine after gVisor released the endpoint's receive lock.
func (d *dgramQueue) fill() {
	for {
		var b bytes.Buffer
		res, tcpipErr := d.ep.Read(&b, tcpip.ReadOptions{NeedRemoteAddr: true})
		if tcpipErr != nil {
			return
		}
		d.mu.Lock()
		if d.only.Len() != 0 && (!res.ControlMessages.HasIPPacketInfo || res.ControlMessages.PacketInfo.DestinationAddr != d.only) {
			d.dropped++
		} else if len(d.q) < IncomingQueueLen {
			d.q = append(d.q, dgram{data: b.Bytes(), from: res.RemoteAddr})
		} else {
			d.dropped++
		}
		d.mu.Unlock()
	}
}

// take copies the oldest datagram into p (truncating it, the rest is lost
// as with pbuf_copy_partial) and removes it unless peek.
func (d *dgramQueue) take(p []byte, peek bool) (int, tcpip.FullAddress, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.q) == 0 {
		return 0, tcpip.FullAddress{}, false
	}
	g := d.q[0]
	n := copy(p, g.data)
	if !peek {
		d.q[0] = dgram{}
		d.q = d.q[1:]
	}
	return n, g.from, true
}

// bindOnly makes the queue take only datagrams addressed to a.
func (d *dgramQueue) bindOnly(a tcpip.Address) {
	d.ep.SocketOptions().SetReceivePacketInfo(true)
	d.mu.Lock()
	d.only = a
	d.mu.Unlock()
}

func (d *dgramQueue) ready() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.q) > 0
}

// Dropped reports how many datagrams arrived to full slots.
func (d *dgramQueue) droppedCount() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.dropped
}

func (d *dgramQueue) close() {
	d.wq.EventUnregister(&d.entry)
	d.mu.Lock()
	d.q = nil
	d.mu.Unlock()
}
