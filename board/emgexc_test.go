package board

import (
	"strings"
	"testing"
)

// TestAllocEmergencyExceptionBuf: the ESP8266's micropython module has
// alloc_emergency_exception_buf (MICROPY_ENABLE_EMERGENCY_EXCEPTION_BUF
// with a dynamic buffer), a common first line of scripts with interrupt
// handlers; the buffer comes from the heap and a later call frees it.
func TestAllocEmergencyExceptionBuf(t *testing.T) {
	out := runOn(t, testFirmware(t), `
import micropython, gc
print('has', hasattr(micropython, 'alloc_emergency_exception_buf'))
gc.collect()
a = gc.mem_free()
micropython.alloc_emergency_exception_buf(256)
gc.collect()
print('taken', 256 <= a - gc.mem_free() <= 272)
micropython.alloc_emergency_exception_buf(0)
gc.collect()
print('freed', a - gc.mem_free() <= 16)
`)
	out = strings.ReplaceAll(out, "\r\n", "\n")
	if !strings.HasSuffix(out, "has True\ntaken True\nfreed True\n") {
		t.Errorf("printed\n%s", out)
	}
}
