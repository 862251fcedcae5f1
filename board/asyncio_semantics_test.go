package board

import (
	"strings"
	"testing"
)

// The board's asyncio behaves as the firmware's extmod/asyncio over
// _asyncio (issue #16 row 15). Each case is a script of ours and the exact
// console it must print; the expected lines follow from the upstream
// semantics named in the case.
func TestAsyncioSemantics(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{
			// Tasks due at the same time run in the order they were queued;
			// a sleep of 0 goes to the back of the line.
			name: "fifo at equal times",
			src: `
import asyncio
async def w(n):
    for i in range(2):
        print(n, i)
        await asyncio.sleep(0)
async def main():
    ts = [asyncio.create_task(w(n)) for n in "abc"]
    await asyncio.sleep_ms(10)
asyncio.run(main())
`,
			want: "a 0\nb 0\nc 0\na 1\nb 1\nc 1\n",
		},
		{
			// Cancelling a task that awaits another delivers the
			// CancelledError to the innermost awaited task; it travels
			// back up through each await.
			name: "cancel reaches the awaited task",
			src: `
import asyncio
async def inner():
    try:
        await asyncio.sleep(10)
    except asyncio.CancelledError:
        print("inner cancelled")
        raise
async def outer(t):
    try:
        await t
    except asyncio.CancelledError:
        print("outer cancelled")
        raise
async def main():
    i = asyncio.create_task(inner())
    o = asyncio.create_task(outer(i))
    await asyncio.sleep_ms(5)
    print("cancel", o.cancel())
    await asyncio.sleep_ms(5)
    print(i.done(), o.done(), o.cancel())
asyncio.run(main())
`,
			want: "cancel True\ninner cancelled\nouter cancelled\nTrue True False\n",
		},
		{
			// wait_for: TimeoutError after cancelling the awaitable (which
			// sees CancelledError first); the result when it is in time.
			name: "wait_for",
			src: `
import asyncio
async def slow(d):
    try:
        await asyncio.sleep_ms(d)
        return d
    except asyncio.CancelledError:
        print("slow cancelled")
        raise
async def main():
    print(await asyncio.wait_for(slow(10), 1))
    try:
        await asyncio.wait_for_ms(slow(1000), 20)
    except asyncio.TimeoutError:
        print("TimeoutError")
asyncio.run(main())
`,
			want: "10\nslow cancelled\nTimeoutError\n",
		},
		{
			// Lock: handed to waiters in order; a waiter cancelled after
			// being handed the lock passes it on.
			name: "lock hand-over and cancel",
			src: `
import asyncio
lock = asyncio.Lock()
async def user(n, hold):
    async with lock:
        print(n, "has it")
        await asyncio.sleep_ms(hold)
    print(n, "released")
async def main():
    a = asyncio.create_task(user("a", 10))
    await asyncio.sleep_ms(0)
    b = asyncio.create_task(user("b", 10))
    c = asyncio.create_task(user("c", 10))
    await asyncio.sleep_ms(1)
    print("locked", lock.locked())
    await asyncio.sleep_ms(9)
    b.cancel()
    await asyncio.sleep_ms(40)
    print("locked", lock.locked())
    try:
        lock.release()
    except RuntimeError as e:
        print("RuntimeError", e)
asyncio.run(main())
`,
			want: "a has it\nlocked True\na released\nc has it\nc released\nlocked False\nRuntimeError Lock not acquired\n",
		},
		{
			// Event: set wakes every waiter, in the order they waited.
			name: "event",
			src: `
import asyncio
ev = asyncio.Event()
async def waiter(n):
    print(n, "waits")
    print(n, "woke", await ev.wait())
async def main():
    for n in (1, 2, 3):
        asyncio.create_task(waiter(n))
    await asyncio.sleep_ms(1)
    print("set", ev.is_set())
    ev.set()
    await asyncio.sleep_ms(1)
    ev.clear()
    print("clear", ev.is_set())
asyncio.run(main())
`,
			want: "1 waits\n2 waits\n3 waits\nset False\n1 woke True\n2 woke True\n3 woke True\nclear False\n",
		},
		{
			// gather: results in argument order; the first exception
			// ends it; return_exceptions collects them; a cancelled gather
			// cancels what it gathers.
			name: "gather",
			src: `
import asyncio
async def v(x, d):
    await asyncio.sleep_ms(d)
    if x < 0:
        raise ValueError(x)
    return x
async def forever():
    try:
        await asyncio.sleep(100)
    except asyncio.CancelledError:
        print("forever cancelled")
        raise
async def main():
    print(await asyncio.gather(v(1, 20), v(2, 10), v(3, 0)))
    try:
        await asyncio.gather(v(1, 20), v(-2, 10))
    except ValueError as e:
        print("ValueError", e)
    print(await asyncio.gather(v(1, 0), v(-2, 0), return_exceptions=True))
    g = asyncio.create_task(asyncio.gather(forever()))
    await asyncio.sleep_ms(1)
    g.cancel()
    try:
        await g
    except asyncio.CancelledError:
        print("gather cancelled")
asyncio.run(main())
`,
			want: "[1, 2, 3]\nValueError -2\n[1, ValueError(-2,)]\nforever cancelled\ngather cancelled\n",
		},
		{
			// current_task, Task repr, done(), cancel of self, and an
			// exception nobody awaited going to the exception handler.
			name: "tasks and the exception handler",
			src: `
import asyncio
def handler(loop, ctx):
    print("handler:", ctx["message"], repr(ctx["exception"]))
async def boom():
    raise OSError(5)
async def main():
    me = asyncio.current_task()
    print(me, me.done())
    try:
        me.cancel()
    except RuntimeError as e:
        print("RuntimeError", e)
    asyncio.get_event_loop().set_exception_handler(handler)
    asyncio.create_task(boom())
    await asyncio.sleep_ms(10)
    print("main done")
asyncio.run(main())
try:
    asyncio.current_task()
except RuntimeError as e:
    print("RuntimeError", e)
`,
			want: "<Task> False\nRuntimeError can't cancel self\nhandler: Task exception wasn't retrieved OSError(5,)\nmain done\nRuntimeError no running event loop\n",
		},
		{
			// ThreadSafeFlag set from outside the loop (a scheduled
			// callback) wakes its waiter; wait() clears it. uasyncio is
			// the same module under its old name, lazy names included.
			name: "threadsafeflag and uasyncio",
			src: `
import asyncio, uasyncio, micropython
f = asyncio.ThreadSafeFlag()
async def main():
    asyncio.create_task(setter())
    await f.wait()
    print("woke", f.state)
async def setter():
    await asyncio.sleep_ms(5)
    micropython.schedule(lambda _: f.set(), None)
asyncio.run(main())
print(uasyncio.Event is asyncio.Event, uasyncio.sleep_ms is asyncio.sleep_ms)
`,
			want: "woke 0\nTrue True\n",
		},
		{
			// Scheduling and sleep_ms allocate nothing: tasks keep running
			// with the heap locked (they end after it is unlocked: ending
			// raises StopIteration, which needs the heap).
			name: "heap locked",
			src: `
import asyncio, micropython
async def tick(n):
    for i in range(3):
        print(n, i)
        await asyncio.sleep_ms(10 * n)
async def main():
    a = asyncio.create_task(tick(1))
    b = asyncio.create_task(tick(2))
    micropython.heap_lock()
    await asyncio.sleep_ms(25)
    micropython.heap_unlock()
    await asyncio.sleep_ms(100)
    print("done", a.done(), b.done())
asyncio.run(main())
`,
			want: "1 0\n2 0\n1 1\n2 1\n1 2\n2 2\ndone True True\n",
		},
		{
			// run_until_complete and new_event_loop: a fresh loop forgets
			// the old queue; Loop.stop ends run_forever.
			name: "loops",
			src: `
import asyncio
async def stopper(loop):
    await asyncio.sleep_ms(5)
    print("stopping")
    loop.stop()
async def leftover():
    print("never runs")
async def answer():
    await asyncio.sleep_ms(1)
    return 42
loop = asyncio.get_event_loop()
asyncio.create_task(leftover())
loop = asyncio.new_event_loop()
print(loop.run_until_complete(answer()))
loop.create_task(stopper(loop))
loop.run_forever()
print("after run_forever")
`,
			want: "42\nstopping\nafter run_forever\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// CPUNative: these cases pin the order of events a few
			// milliseconds apart, which under the CPU model depends on what
			// the asyncio code between them costs (the stand-in's task queue
			// is Python, the board's is C: RATIONALE.md, "The board's own
			// modules run as C").
			got, _ := runScript(t, Config{Files: files(strings.TrimPrefix(tc.src, "\n")), CPU: CPUNative}, nil)
			got = strings.ReplaceAll(got, "\r\n", "\n")
			if got != tc.want {
				t.Errorf("console:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}
