package net

import (
	"encoding/hex"
	"sync"
	"time"

	"github.com/esp8266sim/esp8266sim/board/hostabi"
)

// ESP-NOW: the ESP8266 port's _espnow module (ports/esp8266/modespnow.c)
// behind board/lib/espnow.py. Frames go through the board's radio (the
// world's WLAN, when it offers ESPNowRadio); the receive buffer holds
// whole packets up to its size (rxbuf, 2 × (8 + 250) bytes by default) and
// drops what does not fit, as the port's ring buffer does.

// ESPNowRadio is what a board's WLAN offers for ESP-NOW.
type ESPNowRadio interface {
	// ESPNowOn starts reception (rx gets each frame's source MAC and
	// payload, on any goroutine); nil stops it.
	ESPNowOn(rx func(src, msg []byte))
	// ESPNowSend transmits msg to dst; done reports the acknowledgement.
	ESPNowSend(dst, msg []byte, done func(acked bool))
	// Channel is the radio's channel.
	Channel() int
}

// The port's constants.
const (
	espnowMaxData     = 250
	espnowKeyLen      = 16
	espnowMaxPeers    = 20
	espnowMaxEncPeers = 6
	espnowNotInit     = 0x300 + 100 + 1 // ESP_ERR_ESPNOW_NOT_INIT
	espnowPktOverhead = 8               // magic, length, peer address
	espnowDefaultBuf  = 2 * (espnowPktOverhead + espnowMaxData)
	espnowDefaultWait = 5 * time.Minute
	espnowAckWait     = 100 * time.Millisecond // PENDING_RESPONSES_TIMEOUT_MS
)

type espnowKey struct{}

type espnowState struct {
	b       hostabi.Host
	radio   ESPNowRadio
	bufSize int
	timeout time.Duration
	peers   map[[6]byte]int // peer → channel given to add_peer (0: current)
	interp  any             // a soft reset deinitialises ESP-NOW (main.c)

	mu sync.Mutex
	// Guarded by mu.
	active  bool
	queue   [][]byte // each: 6-byte source then the payload
	used    int
	pending int // sends awaiting their acknowledgement
	failed  int // of those, not acknowledged
}

func espnow(b hostabi.Host) (*espnowState, error) {
	if st, _ := b.Value(espnowKey{}).(*espnowState); st != nil {
		if st.interp != any(b.Instance()) {
			st.setActive(false)
			st.peers = map[[6]byte]int{}
			st.interp = b.Instance()
		}
		return st, nil
	}
	radio, _ := b.Env(WLANKey{}).(ESPNowRadio)
	st := &espnowState{b: b, radio: radio, bufSize: espnowDefaultBuf, timeout: espnowDefaultWait, peers: map[[6]byte]int{}, interp: b.Instance()}
	b.SetValue(espnowKey{}, st)
	b.OnClose(func() { st.setActive(false) })
	return st, nil
}

func (st *espnowState) setActive(on bool) {
	st.mu.Lock()
	was := st.active
	st.active = on
	if !on {
		st.queue, st.used = nil, 0
	}
	st.mu.Unlock()
	if st.radio == nil || was == on {
		return
	}
	if on {
		st.radio.ESPNowOn(st.receive)
	} else {
		st.radio.ESPNowOn(nil)
	}
}

// receive stores a frame if the buffer has room (recv_cb).
func (st *espnowState) receive(src, msg []byte) {
	st.mu.Lock()
	n := espnowPktOverhead + len(msg)
	ok := st.active && n < st.bufSize-st.used
	if ok {
		st.queue = append(st.queue, append(append([]byte(nil), src[:6]...), msg...))
		st.used += n
	}
	st.mu.Unlock()
	if ok {
		st.b.Wake()
	}
}

func (st *espnowState) initialised() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.active {
		return hostabi.OSError(espnowNotInit)
	}
	return nil
}

// Bytes cross as hex strings (espnow.py converts): host calls carry no
// bytes objects.
func hexArg(args []hostabi.Value, i int) ([]byte, error) {
	s, err := hostabi.ArgStr(args, i)
	if err != nil {
		return nil, err
	}
	return hex.DecodeString(s)
}

func macArg(args []hostabi.Value, i int) ([6]byte, error) {
	var m [6]byte
	p, err := hexArg(args, i)
	if err != nil || len(p) != 6 {
		return m, hostabi.ValueError("invalid buffer length")
	}
	copy(m[:], p)
	return m, nil
}

func init() {
	hostabi.RegisterConst("_espnow", "UNDEF", hostabi.Undefined)
	reg := func(name string, f func(b hostabi.Host, st *espnowState, args []hostabi.Value) (hostabi.Value, error)) {
		hostabi.RegisterFunc("_espnow", name, func(b hostabi.Host, args []hostabi.Value) (hostabi.Value, error) {
			st, err := espnow(b)
			if err != nil {
				return nil, err
			}
			return f(b, st, args)
		})
	}
	reg("active", func(b hostabi.Host, st *espnowState, args []hostabi.Value) (hostabi.Value, error) {
		if len(args) > 0 && args[0] != hostabi.Undefined {
			on, _ := args[0].(bool)
			if n, ok := args[0].(int64); ok {
				on = n != 0
			}
			st.setActive(on)
		}
		st.mu.Lock()
		defer st.mu.Unlock()
		return st.active, nil
	})
	reg("config", func(b hostabi.Host, st *espnowState, args []hostabi.Value) (hostabi.Value, error) {
		rxbuf, err := hostabi.ArgInt(args, 0)
		if err != nil {
			return nil, err
		}
		ms, err := hostabi.ArgInt(args, 1)
		if err != nil {
			return nil, err
		}
		if rxbuf >= 0 {
			st.bufSize = rxbuf
		}
		if ms >= 0 {
			st.timeout = time.Duration(ms) * time.Millisecond
		}
		return nil, nil
	})
	reg("add_peer", func(b hostabi.Host, st *espnowState, args []hostabi.Value) (hostabi.Value, error) {
		mac, err := macArg(args, 0)
		if err != nil {
			return nil, err
		}
		ch, err := hostabi.ArgInt(args, 1)
		if err != nil {
			return nil, err
		}
		if err := st.initialised(); err != nil {
			return nil, err
		}
		// esp_now_add_peer fails (non-zero) for a known peer or a full list.
		if _, dup := st.peers[mac]; dup || len(st.peers) >= espnowMaxPeers {
			return nil, hostabi.OSError(-1)
		}
		st.peers[mac] = ch
		return nil, nil
	})
	reg("del_peer", func(b hostabi.Host, st *espnowState, args []hostabi.Value) (hostabi.Value, error) {
		mac, err := macArg(args, 0)
		if err != nil {
			return nil, err
		}
		delete(st.peers, mac)
		return nil, nil
	})
	reg("send", func(b hostabi.Host, st *espnowState, args []hostabi.Value) (hostabi.Value, error) {
		if err := st.initialised(); err != nil {
			return nil, err
		}
		mac, err := macArg(args, 0)
		if err != nil {
			return nil, err
		}
		msg, err := hexArg(args, 1)
		if err != nil {
			return nil, hostabi.TypeError("object with buffer protocol required")
		}
		syncSend := len(args) < 3 || args[2] == nil || args[2] == hostabi.Undefined || args[2] == true || args[2] == int64(1)
		if len(msg) > espnowMaxData {
			return nil, hostabi.OSError(-1) // esp_now_send refuses an over-long message
		}
		if syncSend {
			if err := st.waitAcks(); err != nil {
				return nil, err
			}
		}
		st.mu.Lock()
		before := st.failed
		st.pending++
		st.mu.Unlock()
		ch, known := st.peers[mac]
		bcast := mac == [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
		done := func(acked bool) {
			st.mu.Lock()
			st.pending--
			if !acked {
				st.failed++
			}
			st.mu.Unlock()
			b.Wake()
		}
		switch {
		case st.radio == nil:
			done(false)
		case !known && !bcast:
			// The SDK only sends to registered peers: the send callback
			// reports failure.
			done(false)
		case ch != 0 && ch != st.radio.Channel():
			// The ESP8266 sends on its own channel only: a peer
			// registered on another one is never reached.
			done(false)
		default:
			st.radio.ESPNowSend(mac[:], msg, done)
		}
		if !syncSend {
			return true, nil
		}
		if err := st.waitAcks(); err != nil {
			return nil, err
		}
		st.mu.Lock()
		defer st.mu.Unlock()
		return st.failed == before, nil
	})
	reg("recv", func(b hostabi.Host, st *espnowState, args []hostabi.Value) (hostabi.Value, error) {
		if err := st.initialised(); err != nil {
			return nil, err
		}
		wait := st.timeout
		if len(args) > 0 && args[0] != nil && args[0] != hostabi.Undefined {
			ms, err := hostabi.ArgInt(args, 0)
			if err != nil {
				return nil, err
			}
			wait = time.Duration(ms) * time.Millisecond
		}
		deadline := b.Clock().Elapsed() + wait
		for {
			st.mu.Lock()
			if len(st.queue) > 0 {
				pkt := st.queue[0]
				st.queue = st.queue[1:]
				st.used -= espnowPktOverhead + len(pkt) - 6
				st.mu.Unlock()
				return hex.EncodeToString(pkt), nil
			}
			st.mu.Unlock()
			left := deadline - b.Clock().Elapsed()
			if wait >= 0 && left <= 0 {
				return nil, nil
			}
			if wait < 0 {
				left = -1
			}
			if err := b.Park(left); err != nil {
				return nil, err
			}
		}
	})
	reg("any", func(b hostabi.Host, st *espnowState, args []hostabi.Value) (hostabi.Value, error) {
		st.mu.Lock()
		defer st.mu.Unlock()
		return len(st.queue) > 0, nil
	})
}

// waitAcks waits (up to the port's 100 ms fallback) for the pending sends'
// acknowledgements.
func (st *espnowState) waitAcks() error {
	deadline := st.b.Clock().Elapsed() + espnowAckWait
	for {
		st.mu.Lock()
		n := st.pending
		st.mu.Unlock()
		left := deadline - st.b.Clock().Elapsed()
		if n == 0 || left <= 0 {
			return nil
		}
		if err := st.b.Park(left); err != nil {
			return err
		}
	}
}
