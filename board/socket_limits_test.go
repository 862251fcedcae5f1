package board

import (
	"strings"
	"testing"
)

// TestSocketSizesCappedAtHeap: a size a script passes to the socket module
// is checked against what the board could allocate before the host stages
// anything. recv(0x7fffffff) used to allocate 2 GiB on the host; on the
// ESP8266 it raises MemoryError from vstr_init_len (len+1 bytes).
func TestSocketSizesCappedAtHeap(t *testing.T) {
	tests := []struct {
		name, call, want string
	}{
		{"udp recv", "u.recv(0x7fffffff)", "MemoryError('memory allocation failed, allocating 2147483648 bytes',)"},
		{"udp recvfrom", "u.recvfrom(1 << 30)", "MemoryError('memory allocation failed, allocating 1073741825 bytes',)"},
		{"udp read", "u.read(40000)", "MemoryError('memory allocation failed, allocating 40001 bytes',)"},
		{"small recv still works", "u.recv(100)", "OSError(11,)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _ := runScript(t, Config{Files: files(`
import socket
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.setblocking(False)
try:
    print(repr(` + tt.call + `))
except Exception as e:
    print(repr(e))
`)}, nil)
			if got := strings.TrimSpace(out); got != tt.want {
				t.Errorf("%s printed %q, want %q", tt.call, got, tt.want)
			}
		})
	}
}
