package wifi

import (
	"bytes"
	"net"
	"sort"
	"time"
)

// ESP-NOW: Espressif's connectionless frames between boards, carried as
// 802.11 vendor-specific action frames (category 127, OUI 18:fe:34) on the
// radio's current channel at 1 Mbit/s. A unicast frame is acknowledged by
// a receiver with ESP-NOW on, on the same channel, addressed by either of
// its MACs; otherwise the sender retries and reports failure (the SDK's
// send callback status). Broadcast (ff:ff:ff:ff:ff:ff) is never
// acknowledged and reports success. Every board of a world is in range.

// espnowRetries is how many times an unacknowledged unicast frame is sent.
const espnowRetries = 8

// Air time at 1 Mbit/s with the long preamble (192 µs): an action frame
// carries 24 bytes of header, category, OUI, 4 random bytes, a 7-byte
// vendor element header and the FCS around the payload; an ACK is 14 bytes.
const (
	espnowOverhead = 43
	sifs           = 10 * time.Microsecond
	ackAirtime     = 192*time.Microsecond + 14*8*time.Microsecond
)

func espnowAirtime(n int) time.Duration {
	return 192*time.Microsecond + time.Duration(espnowOverhead+n)*8*time.Microsecond
}

// ESPNowOn starts ESP-NOW reception on the radio, rx getting each frame's
// source MAC and payload (on a clock goroutine); nil stops it.
func (r *Radio) ESPNowOn(rx func(src, msg []byte)) {
	a := r.cfg.Air
	a.mu.Lock()
	defer a.mu.Unlock()
	if rx == nil {
		delete(a.espnow, r)
		return
	}
	if a.espnow == nil {
		a.espnow = map[*Radio]func(src, msg []byte){}
	}
	a.espnow[r] = rx
}

// ESPNowSend transmits msg to dst on the radio's channel; done reports,
// after the air time and any retries, whether a receiver acknowledged it
// (always true for broadcast).
func (r *Radio) ESPNowSend(dst, msg []byte, done func(acked bool)) {
	a := r.cfg.Air
	ch := r.Channel()
	src := []byte(r.sta.MAC())
	if r.Active(IfAP) && !r.Active(IfSTA) {
		src = r.MAC(IfAP)
	}
	payload := append([]byte(nil), msg...)
	bcast := bytes.Equal(dst, broadcastMAC)
	air := espnowAirtime(len(payload))
	type target struct {
		r  *Radio
		rx func(src, msg []byte)
	}
	var all []target
	a.mu.Lock()
	for other, rx := range a.espnow {
		if other != r {
			all = append(all, target{other, rx})
		}
	}
	a.mu.Unlock()
	// In station-name order, so the same seed gives the same run. MACs
	// and channels are read outside the air's lock (their getters take it).
	sort.Slice(all, func(i, j int) bool { return all[i].r.sta.name < all[j].r.sta.name })
	var heard []target
	for _, t := range all {
		mine := bcast || bytes.Equal(dst, t.r.MAC(IfSTA)) || bytes.Equal(dst, t.r.MAC(IfAP))
		if mine && t.r.Channel() == ch {
			heard = append(heard, t)
		}
	}
	name := r.sta.name
	a.do(func(fx *effects) {
		fx.tracef(name, "%s → %s ESP-NOW action frame ch %d len %d", name, net.HardwareAddr(dst), ch, len(payload))
	})
	if bcast || len(heard) > 0 {
		a.clock.AfterFunc(air, func() {
			for _, t := range heard {
				t.rx(src, payload)
			}
			if bcast {
				done(true)
				return
			}
			a.clock.AfterFunc(sifs+ackAirtime, func() {
				by := heard[0].r.sta.name
				a.do(func(fx *effects) { fx.tracef(by, "%s → %s ACK", by, name) })
				done(true)
			})
		})
		return
	}
	a.clock.AfterFunc(espnowRetries*(air+sifs+ackAirtime), func() {
		a.do(func(fx *effects) {
			fx.tracef(name, "%s ESP-NOW frame to %s not acknowledged after %d tries", name, net.HardwareAddr(dst), espnowRetries)
		})
		done(false)
	})
}
