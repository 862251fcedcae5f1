package sim

import (
	"regexp"
	"strings"
	"testing"
)

// The radio is off in deep sleep: the access point loses the station when
// it sleeps, and at the wake boot the station rejoins its saved network by
// itself (the SDK's auto-connect), before the script asks.
func TestDeepSleepTakesWiFiDown(t *testing.T) {
	var tr syncBuf
	runTestWorld(t, newTestWorld(t, parseShipped(t, "hw_datalogger.yaml", "duration=15m"), Options{Trace: &tr}))
	trace := tr.String()
	// The first sleep: the radio goes off, and the next thing the station
	// does is the wake boot's auto-connect, 10 minutes later.
	sleep := regexp.MustCompile(`(?m)^(\d+)\.\d+s esp1 .*radio off \(deep sleep\)$`).FindStringSubmatch(trace)
	if sleep == nil {
		t.Fatalf("trace shows no radio off at deep sleep:\n%s", trace)
	}
	after := trace[strings.Index(trace, sleep[0])+len(sleep[0]):]
	auto := regexp.MustCompile(`(?m)^(\d+)\.\d+s esp1 .*auto-connect to "SimNet" after reset$`).FindStringSubmatch(after)
	if auto == nil {
		t.Fatalf("trace shows no auto-connect after the wake:\n%s", after)
	}
	between := after[:strings.Index(after, auto[0])]
	if strings.Contains(between, "esp1 sta") || strings.Contains(between, "GOT_IP") {
		t.Errorf("the station was on the air while the board slept:\n%s", between)
	}
	if s, a := atoi(sleep[1]), atoi(auto[1]); a-s < 590 || a-s > 610 {
		t.Errorf("rejoined %d s after going to sleep, want about 600", a-s)
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}
