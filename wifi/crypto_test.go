package wifi

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// IEEE 802.11-2016 J.4.2 (PSK mapping test vectors).
func TestPMKVectors(t *testing.T) {
	for _, tc := range []struct {
		name, pass, ssid, want string
	}{
		{"IEEE", "password", "IEEE", "f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e"},
		{"ThisIsASSID", "ThisIsAPassword", "ThisIsASSID", "0dc0d6eb90555ed6419756b9a15ec3e3209b63df707dd508d14581f8982721af"},
		{"hex PSK", "0dc0d6eb90555ed6419756b9a15ec3e3209b63df707dd508d14581f8982721af", "any", "0dc0d6eb90555ed6419756b9a15ec3e3209b63df707dd508d14581f8982721af"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := PMK(tc.pass, []byte(tc.ssid))
			if err != nil {
				t.Fatalf("PMK(%q, %q): %v", tc.pass, tc.ssid, err)
			}
			if want := unhex(t, tc.want); !bytes.Equal(got, want) {
				t.Errorf("PMK(%q, %q) = %x, want %x", tc.pass, tc.ssid, got, want)
			}
		})
	}
}

// IEEE 802.11-2016 J.3 (PRF test vectors).
func TestPRFVectors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		key   []byte
		label string
		data  string
		n     int
		want  string
	}{
		{"case 1", bytes.Repeat([]byte{0x0b}, 20), "prefix", "Hi There", 64, "bcd4c650b30b9684951829e0d75f9d54b862175ed9f00606e17d8da35402ffee75df78c3d31e0f889f012120c0862beb67753e7439ae242edb8373698356cf5a"},
		{"case 2", []byte("Jefe"), "prefix-2", "what do ya want for nothing?", 32, "47c4908e30c947521ad20be9053450ecbea23d3aa604b77326d8b3825ff7475c"},
		{"case 3", bytes.Repeat([]byte{0xaa}, 80), "prefix-3", "Test Using Larger Than Block-Size Key - Hash Key First", 48, "0ab6c33ccf70d0d736f4b04c8a7373255511abc5073713163bd0b8c9eeb7e1956fa066820a73ddee3f6d3bd407e0682a"},
		{"case 4", bytes.Repeat([]byte{0x0b}, 20), "prefix-4", "Hi There Again", 64, "248cfbc532ab38ffa483c8a2e40bf170eb542a2e0916d7bf6d97da2c4c5ca877736c53a65b03fa4b3745ce7613f6ad68e0e4a798b7cf691c96176fd634a59a49"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := PRF(tc.key, tc.label, []byte(tc.data), tc.n)
			if want := unhex(t, tc.want); !bytes.Equal(got, want) {
				t.Errorf("PRF = %x, want %x", got, want)
			}
		})
	}
}

// The PTK and message-2 MICs below were computed independently (Python
// hashlib/hmac building the frame from the 802.11 layout) for fixed MACs and
// nonces, from the J.4.2 PMK of ("password", "IEEE").
func TestPTKAndMIC(t *testing.T) {
	pmk, err := PMK("password", []byte("IEEE"))
	if err != nil {
		t.Fatal(err)
	}
	aa := unhex(t, "020000000001")
	spa := unhex(t, "5ccf7f000001")
	anonce := make([]byte, 32)
	snonce := make([]byte, 32)
	for i := range anonce {
		anonce[i], snonce[i] = byte(i), byte(32+i)
	}
	ptk := PTK(pmk, aa, spa, anonce, snonce, 48)
	if want := unhex(t, "eaf7bb95f69ea0860c6bd472b8af45cb47619383ee35fd46c260824fa79693118ca57b31b4850e4ba901545f321720a5"); !bytes.Equal(ptk, want) {
		t.Fatalf("PTK = %x, want %x", ptk, want)
	}
	// Swapping the roles' argument order must not change the PTK.
	if got := PTK(pmk, spa, aa, snonce, anonce, 48); !bytes.Equal(got, ptk) {
		t.Errorf("PTK is not symmetric in (AA, SPA) and (ANonce, SNonce)")
	}

	for _, tc := range []struct {
		name    string
		sec     Security
		ptkLen  int
		wantMIC string
	}{
		{"WPA2 HMAC-SHA1-128", WPA2PSK, 48, "75aa704aa3f44434f0ec7b12705aac6f"},
		{"WPA HMAC-MD5", WPAPSK, 64, "9c6db0e0eb2f46495ce54f84f5c86201"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kck := PTK(pmk, aa, spa, anonce, snonce, tc.ptkLen)[:16]
			frame, err := handshakeMessage(paramsFor(tc.sec), 2, 1, snonce, kck)
			if err != nil {
				t.Fatal(err)
			}
			k, err := ParseEAPOLKey(frame)
			if err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(k.MIC[:]); got != tc.wantMIC {
				t.Errorf("message 2 MIC = %s, want %s", got, tc.wantMIC)
			}
			if !VerifyMIC(kck, frame) {
				t.Error("VerifyMIC(right KCK) = false, want true")
			}
			wrong, _ := PMK("passw0rd", []byte("IEEE"))
			if VerifyMIC(PTK(wrong, aa, spa, anonce, snonce, tc.ptkLen)[:16], frame) {
				t.Error("VerifyMIC(KCK of a wrong passphrase) = true, want false")
			}
			frame[20] ^= 1 // tamper with the nonce
			if VerifyMIC(kck, frame) {
				t.Error("VerifyMIC(tampered frame) = true, want false")
			}
		})
	}
}

func TestParseEAPOLKeyErrors(t *testing.T) {
	good, _ := handshakeMessage(paramsFor(WPA2PSK), 1, 1, make([]byte, 32), nil)
	for _, tc := range []struct {
		name  string
		frame []byte
	}{
		{"empty", nil},
		{"short", good[:50]},
		{"not a key frame", append([]byte{2, 0}, good[2:]...)},
		{"body length too long", append(append([]byte{}, good[:2]...), append([]byte{0xff, 0xff}, good[4:]...)...)},
		{"bad descriptor", append(append([]byte{}, good[:4]...), append([]byte{7}, good[5:]...)...)},
		{"data length too long", append(append([]byte{}, good[:97]...), 0x01, 0x00)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseEAPOLKey(tc.frame); err == nil {
				t.Errorf("ParseEAPOLKey(%x) = nil error, want one", tc.frame)
			}
		})
	}
	k, err := ParseEAPOLKey(good)
	if err != nil {
		t.Fatalf("ParseEAPOLKey(message 1): %v", err)
	}
	if !bytes.Equal(k.Marshal(), good) {
		t.Errorf("Marshal(Parse(frame)) differs from frame")
	}
}

func FuzzParseEAPOLKey(f *testing.F) {
	for n := 1; n <= 4; n++ {
		m, _ := handshakeMessage(paramsFor(WPA2PSK), n, 1, make([]byte, 32), make([]byte, 16))
		f.Add(m)
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := ParseEAPOLKey(b)
		if err != nil {
			return
		}
		// A frame that parses re-encodes to something that parses the same.
		again, err := ParseEAPOLKey(k.Marshal())
		if err != nil {
			t.Fatalf("re-encoded frame does not parse: %v", err)
		}
		if again.ReplayCounter != k.ReplayCounter || !bytes.Equal(again.Data, k.Data) || again.Nonce != k.Nonce {
			t.Fatalf("round trip changed the frame")
		}
		VerifyMIC(make([]byte, 16), b)
	})
}

// Access point settings come from scenario files: Validate and AddAP must
// reject bad ones with a field name and never panic.
func FuzzAPConfig(f *testing.F) {
	f.Add("SimNet", 3, "correct horse", 6, []byte{2, 0, 0, 0, 0, 1}, -55, 0)
	f.Add("", 9, "x", 15, []byte{1}, 5, -1)
	f.Add("Attic", 1, "abcde", 14, []byte{}, -120, 3)
	f.Fuzz(func(t *testing.T, ssid string, sec int, pass string, ch int, bssid []byte, rssi, max int) {
		cfg := APConfig{SSID: ssid, Security: Security(sec), Passphrase: pass, Channel: ch, BSSID: bssid, RSSI: rssi, MaxStations: max}
		err := cfg.Validate()
		if err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Field == "" {
				t.Fatalf("Validate error %v does not name a field", err)
			}
			return
		}
		if _, err := PMK(pass, []byte(ssid)); err != nil && cfg.Security.usesPSK() {
			t.Fatalf("valid config but PMK fails: %v", err)
		}
	})
}

// The memo gives PMK's answer, and a copy the caller may keep.
func TestMemoPMKMatchesPMK(t *testing.T) {
	for _, tc := range []struct{ pass, ssid string }{{"password", "IEEE"}, {"esp8266sim", "SimNet"}} {
		want, err := PMK(tc.pass, []byte(tc.ssid))
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			got, err := memoPMK(tc.pass, []byte(tc.ssid))
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("memoPMK(%q, %q) = %x, %v; want %x", tc.pass, tc.ssid, got, err, want)
			}
			got[0] ^= 0xff // must not change the memo
		}
	}
}
