package board

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/esp8266sim/esp8266sim/internal/vclock"
)

// TextBitmap renders s as the firmware's framebuf.FrameBuffer.text draws
// it (its 8×8 font, 8 pixels per character), on a scratch board of fw, and
// returns it as rows of '#' (lit) and '.' (dark). A display expectation
// compares panels with it, so a check for text tests pixels, not the call
// that drew them, with the font the board itself has rather than a copy.
func TextBitmap(fw *Firmware, s string) ([]string, error) {
	if s == "" || len(s) > 32 {
		return nil, fmt.Errorf("text %q: give 1 to 32 characters", s)
	}
	key := textKey{fw, s}
	if v, ok := textCache.Load(key); ok {
		return v.([]string), nil
	}
	n := len(s)
	main := fmt.Sprintf("import framebuf\nb = bytearray(%d)\n"+
		"framebuf.FrameBuffer(b, %d, 8, framebuf.MONO_HLSB).text(bytes.fromhex('%s').decode(), 0, 0, 1)\n"+
		"print('GLYPHS', b.hex())\n", n*8, n*8, hex.EncodeToString([]byte(s)))
	clock := vclock.New(vclock.Config{Mode: vclock.Fast})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = clock.Run(ctx)
	}()
	defer func() {
		cancel()
		wg.Wait()
		clock.Close()
	}()
	var out bytes.Buffer
	b, err := New(Config{Name: "glyphs", Console: &out, Files: map[string][]byte{"main.py": []byte(main)}}, fw, clock)
	if err != nil {
		return nil, fmt.Errorf("rendering text: %w", err)
	}
	defer b.Close()
	if _, err := b.Run(ctx); err != nil {
		return nil, fmt.Errorf("rendering text: %w", err)
	}
	_, line, ok := strings.Cut(out.String(), "GLYPHS ")
	if !ok {
		return nil, fmt.Errorf("rendering text: the board printed %q", out.String())
	}
	raw, err := hex.DecodeString(strings.TrimSpace(strings.SplitN(line, "\n", 2)[0]))
	if err != nil || len(raw) != n*8 {
		return nil, fmt.Errorf("rendering text: bad bitmap %q", line)
	}
	rows := make([]string, 8)
	for y := range rows {
		var r strings.Builder
		for x := 0; x < n*8; x++ {
			if raw[y*n+x/8]>>(7-x%8)&1 == 1 {
				r.WriteByte('#')
			} else {
				r.WriteByte('.')
			}
		}
		rows[y] = r.String()
	}
	textCache.Store(key, rows)
	return rows, nil
}

type textKey struct {
	fw *Firmware
	s  string
}

// textCache keeps rendered texts: a scenario checks the same text on each
// run, and a scratch board costs a boot.
var textCache sync.Map
