package board

import (
	"strings"
	"testing"
)

// extmod/modre.c checks the C stack while re1.5 recurses; the board raises
// RuntimeError (upstream extmod/re_stack_overflow.py). In the simulator
// the recursion overflows wazero's call stack, which must become the same
// RuntimeError, caught by the script, with the interpreter usable after.
func TestCStackOverflowRaisesRuntimeError(t *testing.T) {
	tests := []struct {
		name, main, want string
		outcome          Outcome
	}{
		{name: "caught, again and again",
			main: "import re, gc\ngc.collect()\nfor i in range(3):\n    try:\n        re.match('(a*)*', 'aaa')\n    except RuntimeError as e:\n        print('RuntimeError', e)\nprint(re.match('a+', 'aaa').group(0), sum(range(10)))\n",
			want: "RuntimeError maximum recursion depth exceeded\nRuntimeError maximum recursion depth exceeded\nRuntimeError maximum recursion depth exceeded\naaa 45\n"},
		{name: "finally runs in the frames it unwinds",
			main: "import re\ndef f():\n    try:\n        return re.match('(a*)*', 'aaa')\n    finally:\n        print('finally')\ntry:\n    f()\nexcept RuntimeError as e:\n    print('outer', e)\n",
			want: "finally\nouter maximum recursion depth exceeded\n"},
		{name: "uncaught ends the script with a traceback",
			main: "import re\nprint('before')\nre.match('(a*)*', 'aaa')\nprint('after')\n",
			want: "before\nTraceback (most recent call last):\n  File \"main.py\", line 3, in <module>\nRuntimeError: maximum recursion depth exceeded\n", outcome: Exception},
	}
	clock := newClock(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, res := runScript(t, Config{Files: map[string][]byte{"main.py": []byte(tt.main), "boot.py": nil}}, clock)
			got = strings.ReplaceAll(got, "\r\n", "\n")
			if got != tt.want {
				t.Errorf("console:\n%s\nwant:\n%s", got, tt.want)
			}
			if res.Outcome != tt.outcome {
				t.Errorf("outcome = %v, want %v (%s)", res.Outcome, tt.outcome, res.Message)
			}
		})
	}
}
