package sim

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// runDefaultWorld runs code as esp1's main.py in the default world (what
// `esp8266sim run script.py` does) with extra --set overrides.
func runDefaultWorld(tb testing.TB, code string, set ...string) *Result {
	tb.Helper()
	res, _ := runScenario(tb, defaultWorldWith(tb, code, set...), Options{})
	return res
}

// BenchmarkConsoleLines prints n lines of 1000 characters with a console
// expectation watching: lines/s must not fall with n (it fell 10× from 1k
// to 8k lines while the console copied itself on every write).
func BenchmarkConsoleLines(b *testing.B) {
	runDefaultWorld(b, "print(1)\n", "boards[0].wifi=null") // warm up: the first run of a process is slower
	for _, n := range []int{1000, 8000} {
		b.Run(fmt.Sprintf("lines=%d", n), func(b *testing.B) {
			code := fmt.Sprintf("x = 'a' * 999\nfor i in range(%d):\n    print(x)\n", n)
			var wall time.Duration
			for i := 0; i < b.N; i++ {
				// cpu=native: this measures the host's console, not the
				// board's UART (8 MB at 115200 baud is 694 s of board time).
				res := runDefaultWorld(b, code, "expect[+]={console_contains: 'never printed'}", "boards[0].wifi=null", "cpu=native")
				wall += res.WallTime // the run alone, not building the world
				if got := len(res.Boards[0].Console); got < n*1000 {
					b.Fatalf("console holds %d bytes, want %d", got, n*1000)
				}
			}
			b.ReportMetric(float64(n*b.N)/wall.Seconds(), "lines/s")
		})
	}
}

// BenchmarkPollEchoFrames streams 256 KiB through echo.sim:7 from a script
// spinning on poll(0) (cmd/esp8266sim/testdata/poll_echo.py) and reports
// frames per KiB of payload in fast and realtime mode: fast mode must not
// retransmit more than realtime does.
func BenchmarkPollEchoFrames(b *testing.B) {
	code, err := os.ReadFile(filepath.Join("..", "cmd", "esp8266sim", "testdata", "poll_echo.py"))
	if err != nil {
		b.Fatal(err)
	}
	for _, mode := range []string{"fast", "realtime"} {
		b.Run(mode, func(b *testing.B) {
			var frames uint64
			for i := 0; i < b.N; i++ {
				res := runDefaultWorld(b, string(code), "time_mode="+mode)
				if res.Boards[0].Outcome != "clean" {
					b.Fatalf("run ended %s: %s", res.Boards[0].Outcome, res.EndReason)
				}
				frames += res.Frames
			}
			b.ReportMetric(float64(frames)/float64(b.N)/256, "frames/KiB")
		})
	}
}
