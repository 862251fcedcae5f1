package wifi

import (
	"testing"
	"time"
)

func BenchmarkPMK(b *testing.B) {
	for b.Loop() {
		PMK("correct horse battery", []byte("SimNet"))
	}
}

func BenchmarkHandshakeMessage(b *testing.B) {
	kck := make([]byte, 16)
	nonce := make([]byte, 32)
	for _, tc := range []struct {
		name string
		sec  Security
	}{{"wpa2", WPA2PSK}, {"wpa", WPAPSK}} {
		b.Run(tc.name, func(b *testing.B) {
			p := paramsFor(tc.sec)
			for b.Loop() {
				m, _ := handshakeMessage(p, 2, 1, nonce, kck)
				VerifyMIC(kck, m)
			}
		})
	}
}

// BenchmarkJoin measures a whole simulated join (scan, auth, assoc, 4-way
// handshake, lease) on a fast clock: the wall time one connect() costs.
func BenchmarkJoin(b *testing.B) {
	w := newTestWorld(b, Config{Seed: 1})
	w.addAP(homeAP())
	sta, _, _ := w.station("esp1", 1)
	for b.Loop() {
		sta.Connect(&JoinConfig{SSID: "SimNet", Key: "correct horse"})
		for !sta.IsConnected() {
			w.sleep(100 * time.Millisecond)
		}
	}
}
