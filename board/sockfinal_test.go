package board

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestCollectedSocketsAreClosed: as modlwip's finaliser does on the
// ESP8266, sockets the script dropped are closed by gc.collect(); the table
// then holds only those still referenced, which keep working, and as many
// again can be opened. A socket closed explicitly before the collection
// stays closed without touching the others.
func TestCollectedSocketsAreClosed(t *testing.T) {
	const src = `
import socket, gc
def many(n):
    return [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for i in range(n)]
keep = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
keep.bind(('0.0.0.0', 5000))
keep.setblocking(False)
gone = socket.socket()
gone.close()
for round in range(3):
    l = many(150)
    l = None
    gc.collect()
gone = None
gc.collect()
try:
    keep.recv(10)
except OSError as e:
    print('keep', e.errno)
print(keep)
`
	var out syncBuffer
	b, err := New(Config{Name: "esp1", Console: &out, Files: files(src)}, testFirmware(t), newClock(t))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := b.Run(ctx); err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	got := out.String()
	if !strings.Contains(got, "keep 11") || !strings.Contains(got, "<socket state=") {
		t.Errorf("the socket still referenced stopped working:\n%s", got)
	}
	// The collector is conservative, on the board too: a stale word on
	// the stack can keep one dropped socket alive a while longer.
	socks := b.Sockets()
	if len(socks) == 0 || len(socks) > 3 || socks[0].FD != 3 {
		t.Fatalf("%d sockets in the table after the collections, want the one kept (fd 3) and at most a stray or two:\n%v", len(socks), socks)
	}
	if st := b.SocketStats(); st.Created != 452 || st.Closed < 449 {
		t.Errorf("created %d closed %d, want 452 and about 451", st.Created, st.Closed)
	}
}
