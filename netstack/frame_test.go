package netstack

import (
	"bytes"
	"testing"
)

// A flood shares one buffer among its ports; a port that corrupts its copy
// gets a private one, and the buffer goes back to the pool only when the
// last reader is done.
func TestFloodSharesBytesUntilWritten(t *testing.T) {
	f := getFrame(4)
	copy(f.b, "abcd")
	a, b, c := f.share(), f.share(), f.share()
	putFrame(f) // the switch gives up the original
	if got := f.readers.Load(); got != 3 {
		t.Fatalf("readers after the flood = %d, want 3", got)
	}
	if &a.b[0] != &b.b[0] {
		t.Error("flooded frames do not share their bytes")
	}
	a.writable()
	a.b[0] = 'X'
	if string(b.b) != "abcd" || string(c.b) != "abcd" || string(a.b) != "Xbcd" {
		t.Errorf("after corrupting one copy: %q %q %q", a.b, b.b, c.b)
	}
	if got := f.readers.Load(); got != 2 {
		t.Errorf("readers after one private copy = %d, want 2", got)
	}
	putFrame(b)
	if got := f.readers.Load(); got != 1 || !bytes.Equal(c.b, []byte("abcd")) {
		t.Errorf("readers = %d, bytes %q after one reader is done", got, c.b)
	}
	putFrame(c)
	if got := f.readers.Load(); got != 0 {
		t.Errorf("readers = %d after every reader is done, want 0", got)
	}
	putFrame(a)
}
