package board

import "testing"

func TestCFrameFilterSplitWrites(t *testing.T) {
	tb := "Traceback (most recent call last):\n" +
		"  File \"main.py\", line 3, in <module>\n" +
		"  File \"/lib/socket.py\", line 103, in connect\n" +
		"  File \"/lib/socket.py\", line 37, in _ok\n" +
		"OSError: [Errno 110] ETIMEDOUT\n"
	want := "Traceback (most recent call last):\n" +
		"  File \"main.py\", line 3, in <module>\n" +
		"OSError: [Errno 110] ETIMEDOUT\n"
	tests := []struct {
		name   string
		chunks []string
		want   string
	}{
		{"one write", []string{tb}, want},
		{"byte by byte", splitEvery(tb, 1), want},
		{"as mp_printf writes it", []string{
			"Traceback (most recent call last):\n", "  File \"", "main.py", "\", line ", "3", ", in ", "<module>", "\n",
			"  File \"", "/lib/socket.py", "\", line ", "103", ", in ", "connect", "\n",
			"  File \"", "/lib/socket.py", "\", line ", "37", ", in ", "_ok", "\n",
			"OSError: [Errno 110] ETIMEDOUT\n"}, want},
		{"a script's own text", []string{"  File \"/lib/sockets.py\" is mine\n", "x  File \"/lib/socket.py\"\n"},
			"  File \"/lib/sockets.py\" is mine\nx  File \"/lib/socket.py\"\n"},
		{"other /lib frames stay", []string{"  File \"/lib/asyncio.py\", line 1, in run\n"}, "  File \"/lib/asyncio.py\", line 1, in run\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f cFrameFilter
			got := ""
			for _, c := range tt.chunks {
				got += string(f.filter([]byte(c)))
			}
			if got != tt.want {
				t.Errorf("filtered =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
	if got := dropCModuleFrames(tb); got != want {
		t.Errorf("dropCModuleFrames =\n%q\nwant\n%q", got, want)
	}
}

func splitEvery(s string, n int) []string {
	var out []string
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	return append(out, s)
}
