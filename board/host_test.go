package board

import (
	"context"
	"strings"
	"testing"
	"time"
)

func init() {
	RegisterFunc("_hosttest", "timeout", func(b *Board, args []Value) (Value, error) {
		return nil, OSError(110)
	})
	RegisterFunc("_hosttest", "boom", func(b *Board, args []Value) (Value, error) {
		var m map[string]int
		m["x"] = 1 // a bug in an extension: nil map write
		return nil, nil
	})
	RegisterFunc("_hosttest", "fill", func(b *Board, args []Value) (Value, error) {
		buf, err := b.ArgBuf(args, 0)
		if err != nil {
			return nil, err
		}
		for i := range buf {
			buf[i] = byte('a' + i%26)
		}
		return len(buf), nil
	})
	RegisterFunc("_hosttest", "echo", func(b *Board, args []Value) (Value, error) {
		return args[0], nil
	})
	RegisterConst("_hosttest", "ANSWER", 42)
}

func TestHostModule(t *testing.T) {
	tests := []scriptCase{
		{"error raised at the caller's line", "import _hosttest\nfrom _hostcall import U, exc\ndef recv():\n    r = _hosttest.timeout()\n    if r is U:\n        raise exc()\n    return r\n\nrecv()\n",
			"Traceback (most recent call last):\n  File \"main.py\", line 9, in <module>\n  File \"main.py\", line 6, in recv\nOSError: [Errno 110] ETIMEDOUT\n"},
		{"zero-copy buffer", "import _hosttest, uctypes\nb = bytearray(5)\nn = _hosttest.fill(uctypes.addressof(b), len(b))\nprint(n, b)\n", "5 bytearray(b'abcde')\n"},
		{"values round-trip", "import _hosttest as h\nprint(h.echo(None), h.echo(True), h.echo(-7), h.echo(2.5), h.echo('é'), h.ANSWER)\n", "None True -7 2.5 é 42\n"},
		{"python objects come back as themselves", "import _hosttest as h\nl = [1]\nprint(h.echo(l) is l)\n", "True\n"},
		{"no host files", "try:\n    open('/etc/passwd')\nexcept OSError as e:\n    print(e)\nimport os\nprint(os.listdir('/'))\n", "[Errno 2] ENOENT\n['boot.py', 'main.py']\n"},
	}
	runScripts(t, tests)
}

func TestHostPanicEndsRunWithError(t *testing.T) {
	b, err := New(Config{Name: "esp1", Files: files("import _hosttest\nprint('before')\n_hosttest.boom()\nprint('after')\n")}, testFirmware(t), newClock(t))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err = b.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "_hosttest.boom panicked") {
		t.Fatalf("Run error = %v, want one naming the panicking host function", err)
	}
}
