package sockets

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/esp8266sim/esp8266sim/internal/detrsa"
	"github.com/esp8266sim/esp8266sim/internal/simrand"
)

// scripted is a connection whose server side is fixed bytes: reads drain
// in, writes go to out.
type scripted struct {
	in  *bytes.Reader
	out bytes.Buffer
}

func (s *scripted) Read(p []byte) (int, error)  { return s.in.Read(p) }
func (s *scripted) Write(p []byte) (int, error) { return s.out.Write(p) }

// FuzzAxTLSClient feeds arbitrary server bytes to the axTLS client engine
// (a script can point it at any server): never a panic, and a failure is
// an axTLS error or EOF.
func FuzzAxTLSClient(f *testing.F) {
	f.Add([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))
	f.Add([]byte{22, 3, 3, 0, 4, 2, 0, 0, 0})
	f.Add([]byte{21, 3, 3, 0, 2, 2, 40})
	f.Add([]byte{22, 3, 3, 0, 42, 2, 0, 0, 38, 3, 3})
	f.Fuzz(func(t *testing.T, server []byte) {
		s := &scripted{in: bytes.NewReader(server)}
		c := newAxClient(s, simrand.Reader(1, "fuzz"), func() time.Time { return time.Unix(0, 0) }, "x.sim")
		err := c.Handshake()
		var ae *AxError
		if err != nil && !errors.As(err, &ae) {
			t.Fatalf("handshake error %T %v, want an axTLS error", err, err)
		}
		if err == nil {
			buf := make([]byte, 64)
			c.Read(buf)
			c.Write([]byte("x"))
		}
	})
}

// recordLog notes the type and length of each record the client writes
// (the engine writes one record per call).
type recordLog struct {
	net.Conn
	recs *[][2]int
}

func (r recordLog) Write(p []byte) (int, error) {
	if len(p) >= 5 {
		*r.recs = append(*r.recs, [2]int{int(p[0]), int(p[3])<<8 | int(p[4])})
	}
	return r.Conn.Write(p)
}

// The engine completes a handshake with crypto/tls's server for each of
// the suites both speak, exchanges data both ways, splits writes into
// 1024-byte records and reports an oversized record as RECORD_OVERFLOW.
func TestAxTLSClientAgainstCryptoTLS(t *testing.T) {
	key, err := detrsa.Cached("test-axtls", 2048, func() io.Reader { return simrand.Reader(1, "test") })
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Unix(0, 0), NotAfter: time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)}
	der, err := x509.CreateCertificate(nil, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	for _, suite := range axServerSuites {
		t.Run(tls.CipherSuiteName(suite), func(t *testing.T) {
			a, b := net.Pipe()
			defer a.Close()
			defer b.Close()
			srvErr := make(chan error, 1)
			go func() {
				srv := tls.Server(b, &tls.Config{Certificates: []tls.Certificate{cert}, CipherSuites: []uint16{suite}, MaxVersion: tls.VersionTLS12,
					// One full-size record, as nginx sends (crypto/tls
					// starts with small ones by default).
					DynamicRecordSizingDisabled: true})
				buf := make([]byte, 3000)
				if _, err := io.ReadFull(srv, buf); err != nil {
					srvErr <- err
					return
				}
				_, err := srv.Write(bytes.Repeat([]byte("y"), 6000))
				srvErr <- err
			}()
			// A failed server must not leave the client waiting forever.
			a.SetDeadline(time.Now().Add(5 * time.Second))
			var recs [][2]int
			c := newAxClient(recordLog{a, &recs}, simrand.Reader(1, "fuzz"), time.Now, "x.sim")
			if err := c.Handshake(); err != nil {
				b.Close()
				t.Fatalf("handshake: %v (server: %v)", err, <-srvErr)
			}
			if c.suite != suite {
				t.Errorf("negotiated %#04x, want %#04x", c.suite, suite)
			}
			n := len(recs)
			if _, err := c.Write(bytes.Repeat([]byte("x"), 3000)); err != nil {
				t.Fatal(err)
			}
			if data := recs[n:]; len(data) != 3 || data[0][0] != recData {
				t.Errorf("3000 bytes went out as records %v, want three application-data records (1024-byte fragments)", data)
			}
			// The alert after the overflow is best effort: nobody reads it.
			a.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
			// The server's 6000 bytes come in one record: too big for
			// the ESP8266's buffer.
			_, err := c.Read(make([]byte, 100))
			var ae *AxError
			if !errors.As(err, &ae) || ae.Code != axRecordOverflow || ae.Record <= axMaxRecord {
				t.Errorf("reading a 6000-byte record: %v, want RECORD_OVERFLOW", err)
			}
			a.Close()
			b.Close()
			<-srvErr
		})
	}
}
