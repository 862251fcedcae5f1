package syncbuf

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// Writers and readers may run at once (go test -race checks it); every
// write lands whole.
func TestConcurrentWritesAndReads(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 100; j++ {
				fmt.Fprintf(&b, "w%d.%d;", i, j)
				_ = b.String()
			}
		}()
	}
	wg.Wait()
	if n := strings.Count(b.String(), ";"); n != 400 {
		t.Errorf("%d writes landed, want 400", n)
	}
	c := b.Bytes()
	c[0] = 'X'
	if b.String()[0] == 'X' {
		t.Error("Bytes returned the buffer itself, not a copy")
	}
}
