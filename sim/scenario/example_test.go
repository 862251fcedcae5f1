package scenario_test

import (
	"fmt"

	"github.com/esp8266sim/esp8266sim/sim/scenario"
)

func ExampleParse() {
	src := `
name: hello
boards:
  - name: esp1
    code: print("hello")
expect:
  - console_contains: hello
    within: 5s
`
	s, err := scenario.Parse("hello.yaml", []byte(src), "yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	ap := s.WiFi.AccessPoints[0]
	fmt.Println(s.Name, s.TimeMode, s.Duration, s.Seed)
	fmt.Println(ap.SSID, ap.Security, ap.Subnet, ap.DHCP.RangeStart, ap.DHCP.RangeEnd)
	fmt.Println(s.Expect[0])
	// Output:
	// hello fast 5m0s 1
	// SimNet wpa2-psk 192.168.1.0/24 192.168.1.100 192.168.1.254
	// esp1 console contains "hello" within 5s
}

func ExampleOverrides() {
	src := "boards:\n  - name: esp1\n    heep: 20000\n"
	_, err := scenario.Overrides{Set: []string{"seed=x"}}.Parse("x.yaml", []byte(src), "")
	fmt.Println(err)
	// Output:
	// x.yaml:3: boards[0].heep: unknown key "heep" (did you mean "heap"?)
	// --set seed=x: seed: want a whole number (0 or more), got string "x"
}
