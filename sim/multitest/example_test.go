package multitest_test

import (
	"fmt"

	"github.com/esp8266sim/esp8266sim/sim/multitest"
)

// A failing test's output is shown as a unified diff from the .exp file.
func ExampleUnifiedDiff() {
	exp := "--- instance0 ---\nb'hello'\n--- instance1 ---\nb'WORLD'\n"
	out := "--- instance0 ---\nb'hello'\n--- instance1 ---\nb'world'\n"
	fmt.Print(multitest.UnifiedDiff(exp, out, "echo.py.exp", "echo.py.out"))
	// Output:
	// --- echo.py.exp
	// +++ echo.py.out
	// @@ -1,4 +1,4 @@
	//  --- instance0 ---
	//  b'hello'
	//  --- instance1 ---
	// -b'WORLD'
	// +b'world'
}

// The number of boards comes from the instance functions a test defines.
func ExampleCountInstances() {
	src := []byte("def instance0():\n    pass\n\ndef instance1():\n    pass\n")
	fmt.Println(multitest.CountInstances(src))
	// Output: 2
}

func ExampleSummary() {
	fmt.Println(multitest.Summary([]*multitest.Result{
		{Status: multitest.Pass}, {Status: multitest.Pass}, {Status: multitest.Fail}, {Status: multitest.Skip},
	}))
	// Output: 2 passed, 1 failed, 1 skipped
}
