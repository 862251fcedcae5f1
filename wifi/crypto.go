package wifi

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
)

// The WPA/WPA2 pre-shared-key handshake, computed the way a real station and
// access point compute it (IEEE 802.11-2016 12.7): the PMK from the
// passphrase with PBKDF2, the PTK with the 802.11 PRF, and an EAPOL-Key MIC
// over each handshake frame with the PTK's key confirmation key.

// PMK derives the pairwise master key from a passphrase: PBKDF2-HMAC-SHA1
// over the SSID, 4096 iterations, 32 bytes (IEEE 802.11-2016 J.4.1). A
// passphrase of exactly 64 hex digits is the PSK itself, as on the ESP8266.
func PMK(passphrase string, ssid []byte) ([]byte, error) {
	if len(passphrase) == 64 {
		if psk, err := hex.DecodeString(passphrase); err == nil {
			return psk, nil
		}
	}
	return pbkdf2.Key(sha1.New, passphrase, ssid, 4096, 32)
}

// pmkMemo remembers derived PMKs process-wide: a fleet's stations all join
// with the same passphrase, and 4096 rounds of HMAC-SHA1 per join were a
// twelfth of a 1000-board run. It holds at most pmkMemoSize entries.
var pmkMemo struct {
	sync.Mutex
	m map[string][]byte
}

const pmkMemoSize = 256

// memoPMK is PMK, remembered.
func memoPMK(passphrase string, ssid []byte) ([]byte, error) {
	k := passphrase + "\x00" + string(ssid)
	pmkMemo.Lock()
	pmk, ok := pmkMemo.m[k]
	pmkMemo.Unlock()
	if ok {
		return bytes.Clone(pmk), nil
	}
	pmk, err := PMK(passphrase, ssid)
	if err != nil {
		return nil, err
	}
	pmkMemo.Lock()
	if pmkMemo.m == nil || len(pmkMemo.m) >= pmkMemoSize {
		pmkMemo.m = map[string][]byte{}
	}
	pmkMemo.m[k] = bytes.Clone(pmk)
	pmkMemo.Unlock()
	return pmk, nil
}

// PRF is the 802.11 pseudo-random function (IEEE 802.11-2016 12.7.1.2):
// HMAC-SHA1(key, label || 0 || data || i) for i = 0, 1, ..., truncated to
// n bytes.
func PRF(key []byte, label string, data []byte, n int) []byte {
	out := make([]byte, 0, n+sha1.Size)
	msg := make([]byte, 0, len(label)+1+len(data)+1)
	msg = append(msg, label...)
	msg = append(msg, 0)
	msg = append(msg, data...)
	msg = append(msg, 0)
	for i := 0; len(out) < n; i++ {
		msg[len(msg)-1] = byte(i)
		m := hmac.New(sha1.New, key)
		m.Write(msg)
		out = m.Sum(out)
	}
	return out[:n]
}

// PTK derives the pairwise transient key from the PMK, the two MAC
// addresses and the two nonces: PRF(PMK, "Pairwise key expansion",
// min(AA,SPA) || max(AA,SPA) || min(ANonce,SNonce) || max(ANonce,SNonce)).
// n is 64 for TKIP (WPA) and 48 for CCMP (WPA2). The first 16 bytes are the
// KCK that keys the EAPOL-Key MIC, the next 16 the KEK.
func PTK(pmk, aa, spa, anonce, snonce []byte, n int) []byte {
	data := make([]byte, 0, 6+6+32+32)
	if bytes.Compare(aa, spa) < 0 {
		data = append(append(data, aa...), spa...)
	} else {
		data = append(append(data, spa...), aa...)
	}
	if bytes.Compare(anonce, snonce) < 0 {
		data = append(append(data, anonce...), snonce...)
	} else {
		data = append(append(data, snonce...), anonce...)
	}
	return PRF(pmk, "Pairwise key expansion", data, n)
}

// Key descriptor versions (the low three bits of Key Information).
const (
	// KeyDescHMACMD5 is version 1: HMAC-MD5 MIC, RC4 key wrap (WPA/TKIP).
	KeyDescHMACMD5 = 1
	// KeyDescHMACSHA1 is version 2: HMAC-SHA1-128 MIC, AES key wrap (WPA2/CCMP).
	KeyDescHMACSHA1 = 2
)

// Key Information bits (IEEE 802.11-2016 12.7.2).
const (
	keyInfoPairwise  = 1 << 3
	keyInfoInstall   = 1 << 6
	keyInfoAck       = 1 << 7
	keyInfoMIC       = 1 << 8
	keyInfoSecure    = 1 << 9
	keyInfoEncrypted = 1 << 12
)

// Descriptor types.
const (
	descTypeRSN = 2   // IEEE 802.11 key descriptor (WPA2)
	descTypeWPA = 254 // WPA key descriptor
)

// EAPOLKey is a decoded EAPOL-Key frame (an 802.1X packet of type 3).
type EAPOLKey struct {
	// ProtocolVersion is the 802.1X version byte (1 or 2).
	ProtocolVersion byte
	// DescriptorType is 2 (RSN) or 254 (WPA).
	DescriptorType byte
	// KeyInfo is the Key Information field.
	KeyInfo uint16
	// KeyLength is the pairwise cipher's key length in bytes.
	KeyLength uint16
	// ReplayCounter increases with every frame the authenticator sends.
	ReplayCounter uint64
	// Nonce is ANonce (messages 1 and 3) or SNonce (message 2).
	Nonce [32]byte
	// MIC is the message integrity code, zero when KeyInfo has no MIC bit.
	MIC [16]byte
	// Data is the key data (an RSN or WPA information element).
	Data []byte
}

const eapolKeyHeaderLen = 4 + 95 // 802.1X header + key descriptor without data

// Version is the key descriptor version (KeyDescHMACMD5 or KeyDescHMACSHA1).
func (k *EAPOLKey) Version() int { return int(k.KeyInfo & 7) }

// Marshal encodes the frame.
func (k *EAPOLKey) Marshal() []byte {
	b := make([]byte, eapolKeyHeaderLen+len(k.Data))
	b[0] = k.ProtocolVersion
	b[1] = 3 // EAPOL-Key
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)-4))
	b[4] = k.DescriptorType
	binary.BigEndian.PutUint16(b[5:], k.KeyInfo)
	binary.BigEndian.PutUint16(b[7:], k.KeyLength)
	binary.BigEndian.PutUint64(b[9:], k.ReplayCounter)
	copy(b[17:49], k.Nonce[:])
	// Key IV (49..65), RSC (65..73) and reserved (73..81) stay zero.
	copy(b[81:97], k.MIC[:])
	binary.BigEndian.PutUint16(b[97:], uint16(len(k.Data)))
	copy(b[99:], k.Data)
	return b
}

// ErrShortFrame and friends describe malformed EAPOL-Key frames.
var (
	ErrShortFrame = errors.New("eapol-key frame too short")
	ErrNotKey     = errors.New("not an eapol-key frame")
)

// ParseEAPOLKey decodes an EAPOL-Key frame. It never panics on bad input.
func ParseEAPOLKey(b []byte) (*EAPOLKey, error) {
	if len(b) < eapolKeyHeaderLen {
		return nil, fmt.Errorf("%w: %d bytes, need at least %d", ErrShortFrame, len(b), eapolKeyHeaderLen)
	}
	if b[1] != 3 {
		return nil, fmt.Errorf("%w: packet type %d", ErrNotKey, b[1])
	}
	body := int(binary.BigEndian.Uint16(b[2:]))
	if body+4 > len(b) || body+4 < eapolKeyHeaderLen {
		return nil, fmt.Errorf("eapol-key body length %d does not fit a %d-byte frame", body, len(b))
	}
	k := &EAPOLKey{
		ProtocolVersion: b[0],
		DescriptorType:  b[4],
		KeyInfo:         binary.BigEndian.Uint16(b[5:]),
		KeyLength:       binary.BigEndian.Uint16(b[7:]),
		ReplayCounter:   binary.BigEndian.Uint64(b[9:]),
	}
	if k.DescriptorType != descTypeRSN && k.DescriptorType != descTypeWPA {
		return nil, fmt.Errorf("eapol-key descriptor type %d is neither RSN (2) nor WPA (254)", k.DescriptorType)
	}
	copy(k.Nonce[:], b[17:49])
	copy(k.MIC[:], b[81:97])
	n := int(binary.BigEndian.Uint16(b[97:]))
	if 99+n > body+4 {
		return nil, fmt.Errorf("eapol-key data length %d exceeds the frame", n)
	}
	k.Data = append([]byte(nil), b[99:99+n]...)
	return k, nil
}

// ComputeMIC returns the EAPOL-Key MIC of frame (an encoded EAPOL-Key frame
// whose MIC field is ignored) under kck: HMAC-MD5 for descriptor version 1,
// HMAC-SHA1 truncated to 128 bits for version 2.
func ComputeMIC(kck, frame []byte, version int) ([16]byte, error) {
	var mic [16]byte
	if len(frame) < eapolKeyHeaderLen {
		return mic, fmt.Errorf("%w: %d bytes", ErrShortFrame, len(frame))
	}
	f := append([]byte(nil), frame...)
	clear(f[81:97])
	var m interface {
		Write([]byte) (int, error)
		Sum([]byte) []byte
	}
	switch version {
	case KeyDescHMACMD5:
		m = hmac.New(md5.New, kck)
	case KeyDescHMACSHA1:
		m = hmac.New(sha1.New, kck)
	default:
		return mic, fmt.Errorf("unsupported key descriptor version %d", version)
	}
	m.Write(f)
	copy(mic[:], m.Sum(nil))
	return mic, nil
}

// Sign sets k.MIC to the MIC of its encoding under kck and returns the
// encoded frame.
func (k *EAPOLKey) Sign(kck []byte) ([]byte, error) {
	k.KeyInfo |= keyInfoMIC
	k.MIC = [16]byte{}
	mic, err := ComputeMIC(kck, k.Marshal(), k.Version())
	if err != nil {
		return nil, err
	}
	k.MIC = mic
	return k.Marshal(), nil
}

// VerifyMIC reports whether the encoded frame carries a valid MIC under kck.
func VerifyMIC(kck, frame []byte) bool {
	k, err := ParseEAPOLKey(frame)
	if err != nil || k.KeyInfo&keyInfoMIC == 0 {
		return false
	}
	want, err := ComputeMIC(kck, frame, k.Version())
	if err != nil {
		return false
	}
	return hmac.Equal(want[:], k.MIC[:])
}

// The information elements a PSK station advertises in message 2 and the
// access point repeats in message 3.
var (
	// rsnIECCMP: RSN IE v1, group CCMP, pairwise CCMP, AKM PSK.
	rsnIECCMP = []byte{0x30, 0x14, 0x01, 0x00, 0x00, 0x0f, 0xac, 0x04, 0x01, 0x00, 0x00, 0x0f, 0xac, 0x04, 0x01, 0x00, 0x00, 0x0f, 0xac, 0x02, 0x00, 0x00}
	// rsnIEMixed: RSN IE v1, group TKIP (mixed-mode network), pairwise CCMP, AKM PSK.
	rsnIEMixed = []byte{0x30, 0x14, 0x01, 0x00, 0x00, 0x0f, 0xac, 0x02, 0x01, 0x00, 0x00, 0x0f, 0xac, 0x04, 0x01, 0x00, 0x00, 0x0f, 0xac, 0x02, 0x00, 0x00}
	// wpaIE: WPA IE v1, group TKIP, pairwise TKIP, AKM PSK.
	wpaIE = []byte{0xdd, 0x16, 0x00, 0x50, 0xf2, 0x01, 0x01, 0x00, 0x00, 0x50, 0xf2, 0x02, 0x01, 0x00, 0x00, 0x50, 0xf2, 0x02, 0x01, 0x00, 0x00, 0x50, 0xf2, 0x02}
)

// handshakeParams is what a security mode means for the 4-way handshake.
type handshakeParams struct {
	version  int    // key descriptor version
	descType byte   // 2 or 254
	keyLen   uint16 // pairwise cipher key length
	ptkLen   int    // PTK length in bytes
	ie       []byte // the station's IE in message 2
	protoVer byte   // 802.1X version byte
}

func paramsFor(s Security) handshakeParams {
	switch s {
	case WPAPSK:
		return handshakeParams{version: KeyDescHMACMD5, descType: descTypeWPA, keyLen: 32, ptkLen: 64, ie: wpaIE, protoVer: 1}
	case WPAWPA2PSK:
		return handshakeParams{version: KeyDescHMACSHA1, descType: descTypeRSN, keyLen: 16, ptkLen: 48, ie: rsnIEMixed, protoVer: 1}
	default:
		return handshakeParams{version: KeyDescHMACSHA1, descType: descTypeRSN, keyLen: 16, ptkLen: 48, ie: rsnIECCMP, protoVer: 2}
	}
}

// handshakeMessage builds message n (1..4) of the 4-way handshake. kck
// signs messages 2..4; anonce/snonce go in messages 1, 3 and 2.
func handshakeMessage(p handshakeParams, n int, replay uint64, nonce []byte, kck []byte) ([]byte, error) {
	k := &EAPOLKey{
		ProtocolVersion: p.protoVer,
		DescriptorType:  p.descType,
		KeyInfo:         uint16(p.version) | keyInfoPairwise,
		KeyLength:       p.keyLen,
		ReplayCounter:   replay,
	}
	copy(k.Nonce[:], nonce)
	switch n {
	case 1:
		k.KeyInfo |= keyInfoAck
		return k.Marshal(), nil
	case 2:
		k.KeyLength = 0
		k.Data = p.ie
	case 3:
		k.KeyInfo |= keyInfoAck | keyInfoInstall
		if p.version == KeyDescHMACSHA1 {
			k.KeyInfo |= keyInfoSecure
		}
		k.Data = p.ie
	case 4:
		k.KeyLength = 0
		if p.version == KeyDescHMACSHA1 {
			k.KeyInfo |= keyInfoSecure
		}
		k.Nonce = [32]byte{}
	default:
		return nil, fmt.Errorf("handshake message %d does not exist", n)
	}
	return k.Sign(kck)
}
