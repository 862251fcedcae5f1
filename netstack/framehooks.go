package netstack

// Frame hooks let the owner of a NIC stand between its node's own stack and
// the medium: a board whose network stack must look like another one on the
// wire (the ESP8266's lwIP) rewrites or holds back what gVisor sends there,
// after gVisor's own bookkeeping (connection tracking, retransmission
// queues) has seen the original. Forwarded frames (a router's) are never
// given to the hooks.

// frameHooks is one installed pair of hooks; its address identifies the
// installation, so a stale remover leaves a newer one alone.
type frameHooks struct {
	out func(frame []byte) []byte
	in  func(frame []byte)
}

// SetFrameHooks installs hooks on the frames of the NIC's own stack,
// replacing any installed before; nil funcs are skipped.
//
// out gets each frame the stack sends (Ethernet header first) and returns
// what goes on the medium now: frame itself, a prefix of it after rewriting
// it in place (a shorter packet), or nil to send nothing now. It must not
// keep frame; to send later it copies the bytes and calls SendFrame. It
// runs on the stack's goroutines, possibly several at once, sometimes with
// a transport endpoint's lock held: it must not call back into the stack.
//
// in sees each frame addressed to the NIC just before the stack reads it;
// it must not change or keep it.
//
// The returned func removes these hooks unless others replaced them.
func (c *NIC) SetFrameHooks(out func(frame []byte) []byte, in func(frame []byte)) (remove func()) {
	h := &frameHooks{out: out, in: in}
	c.hooks.Store(h)
	return func() { c.hooks.CompareAndSwap(h, nil) }
}

// SendFrame puts a copy of frame on the medium as if the NIC's stack had
// sent it, without the out hook: a frame an out hook held back. It vanishes
// while the NIC is detached, as the stack's own frames do.
func (c *NIC) SendFrame(frame []byte) {
	att := c.att.Load()
	if att == nil {
		c.node.clock.Poke()
		return
	}
	f := getFrame(len(frame))
	copy(f.b, frame)
	att.transmit(f)
}
