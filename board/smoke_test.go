package board

import "testing"

func TestSmoke(t *testing.T) {
	out, res := runScript(t, Config{Files: files("print('hello', 1+2)\nimport sys\nprint(sys.platform)\nimport gc\nprint(gc.mem_free(), gc.mem_alloc())\n")}, nil)
	t.Logf("out=%q res=%+v", out, res)
}
