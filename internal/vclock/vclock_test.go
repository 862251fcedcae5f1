package vclock

import (
	"context"
	"sync"
	"testing"
	"time"
)

func runClock(t *testing.T, c *Clock) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

func TestFastSleepSkipsIdleTime(t *testing.T) {
	c := New(Config{})
	runClock(t, c)
	a := c.NewActor("board")
	wallStart := time.Now()
	if err := a.Sleep(context.Background(), 60*time.Second); err != nil {
		t.Fatalf("Sleep: %v", err)
	}
	if got := c.Elapsed(); got != 60*time.Second {
		t.Errorf("Elapsed() = %v, want exactly 60s", got)
	}
	if wall := time.Since(wallStart); wall > time.Second {
		t.Errorf("60 s of simulator sleep took %v of wall time, want < 1s", wall)
	}
	if got, want := c.Now(), DefaultStart.Add(60*time.Second); !got.Equal(want) {
		t.Errorf("Now() = %v, want %v", got, want)
	}
}

func TestFastTimeStandsStillWhileAnActorRuns(t *testing.T) {
	c := New(Config{})
	runClock(t, c)
	busy := c.NewActor("busy")
	defer busy.Close()
	fired := make(chan struct{})
	c.AfterFunc(time.Second, func() { close(fired) })
	select {
	case <-fired:
		t.Fatal("timer fired while an actor was running")
	case <-time.After(50 * time.Millisecond):
	}
	if got := c.Elapsed(); got != 0 {
		t.Fatalf("Elapsed() = %v while an actor ran, want 0", got)
	}
	// Once the actor parks, time may jump.
	go busy.Park(context.Background(), -1)
	select {
	case <-fired:
	case <-time.After(5 * time.Second):
		t.Fatal("timer never fired after the actor parked")
	}
}

func TestTimersFireInOrder(t *testing.T) {
	c := New(Config{})
	runClock(t, c)
	var mu sync.Mutex
	var got []int
	done := make(chan struct{})
	for _, d := range []int{30, 10, 20, 10} {
		d := d
		c.AfterFunc(time.Duration(d)*time.Millisecond, func() {
			mu.Lock()
			got = append(got, d)
			if len(got) == 4 {
				close(done)
			}
			mu.Unlock()
		})
	}
	<-done
	want := []int{10, 10, 20, 30}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("fire order = %v, want %v", got, want)
		}
	}
}

func TestStopAndReset(t *testing.T) {
	c := New(Config{})
	runClock(t, c)
	a := c.NewActor("a")
	fired := make(chan time.Duration, 2)
	tm := c.AfterFunc(time.Second, func() { fired <- c.Elapsed() })
	if !tm.Stop() {
		t.Fatal("Stop() of a pending timer = false, want true")
	}
	if tm.Stop() {
		t.Fatal("second Stop() = true, want false")
	}
	tm.Reset(2 * time.Second)
	a.Sleep(context.Background(), 3*time.Second)
	select {
	case at := <-fired:
		if at != 2*time.Second {
			t.Fatalf("reset timer fired at %v, want 2s", at)
		}
	default:
		t.Fatal("reset timer did not fire")
	}
	if len(fired) != 0 {
		t.Fatal("stopped timer fired too")
	}
}

func TestWakeBeforeParkIsRemembered(t *testing.T) {
	c := New(Config{})
	runClock(t, c)
	a := c.NewActor("a")
	a.Wake()
	done := make(chan struct{})
	go func() {
		a.Park(context.Background(), -1)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Park did not return after an earlier Wake")
	}
}

func TestParkTimeoutAndWake(t *testing.T) {
	c := New(Config{})
	runClock(t, c)
	a := c.NewActor("waiter")
	b := c.NewActor("waker")
	// b wakes a at 5 s; a waits with a 10 s timeout and must see 5 s.
	go func() {
		b.Sleep(context.Background(), 5*time.Second)
		a.Wake()
		b.Close()
	}()
	a.Park(context.Background(), 10*time.Second)
	if got := c.Elapsed(); got != 5*time.Second {
		t.Fatalf("woken at %v, want 5s", got)
	}
	a.Park(context.Background(), time.Second)
	if got := c.Elapsed(); got != 6*time.Second {
		t.Fatalf("timed out at %v, want 6s", got)
	}
}

func TestParkHonoursContext(t *testing.T) {
	c := New(Config{})
	runClock(t, c)
	a := c.NewActor("a")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := a.Park(ctx, -1); err != context.Canceled {
		t.Fatalf("Park(cancelled ctx) = %v, want context.Canceled", err)
	}
}

func TestRealtimeTracksWallClock(t *testing.T) {
	c := New(Config{Mode: Realtime})
	runClock(t, c)
	a := c.NewActor("a")
	wall := time.Now()
	a.Sleep(context.Background(), 200*time.Millisecond)
	got := time.Since(wall)
	if got < 180*time.Millisecond || got > 220*time.Millisecond*3/2 {
		t.Fatalf("200ms realtime sleep took %v of wall time", got)
	}
	sim := c.Elapsed()
	if d := sim - got; d > got/10 || d < -got/10 {
		t.Fatalf("simulator time %v differs from wall time %v by more than 10%%", sim, got)
	}
}

// Many actors sleeping different amounts must all wake at their own
// simulator times; run under -race this is the clock's hammer test.
func TestManyActors(t *testing.T) {
	c := New(Config{})
	runClock(t, c)
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan string, n)
	actors := make([]*Actor, n)
	for i := range actors {
		actors[i] = c.NewActor("a")
	}
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			a := actors[i]
			defer a.Close()
			for k := 1; k <= 5; k++ {
				a.Sleep(context.Background(), time.Duration(i+1)*time.Millisecond)
			}
			if got, min := c.Elapsed(), time.Duration(5*(i+1))*time.Millisecond; got < min {
				errs <- "actor woke before its time"
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if got, want := c.Elapsed(), 250*time.Millisecond; got != want {
		t.Errorf("Elapsed() = %v, want %v (the longest sleeper)", got, want)
	}
}

// With nothing else running, fast mode sees at once that every goroutine is
// blocked and jumps without waiting a settle window.
func TestFastJumpsWithoutSettleWhenSchedulerIsQuiet(t *testing.T) {
	c := New(Config{Settle: 50 * time.Millisecond})
	runClock(t, c)
	a := c.NewActor("board")
	start := time.Now()
	for range 100 {
		if err := a.Sleep(context.Background(), time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	a.Close()
	jumps, exact := c.Advances(), c.ExactAdvances()
	if jumps < 100 || exact < jumps/2 {
		t.Errorf("%d of %d jumps were exact (took %v), want most", exact, jumps, time.Since(start))
	}
}

// TestRealtimeStartsAtRun: building a world before its clock runs is host
// work no board sees; realtime time starts when Run does. Anchored at New,
// a slow construction on a loaded machine was already simulator time when
// the first board powered on.
func TestRealtimeStartsAtRun(t *testing.T) {
	c := New(Config{Mode: Realtime})
	time.Sleep(300 * time.Millisecond) // a world being built
	if e := c.Elapsed(); e != 0 {
		t.Fatalf("Elapsed() = %v before Run, want 0", e)
	}
	wall := time.Now()
	runClock(t, c)
	a := c.NewActor("a")
	a.Sleep(context.Background(), 50*time.Millisecond)
	// The sleep ends at 50 ms of simulator time, which is no more than the
	// wall time since Run (plus scheduling), far from the 350 ms since New.
	if e, w := c.Elapsed(), time.Since(wall); e < 50*time.Millisecond || e > w+20*time.Millisecond {
		t.Fatalf("Elapsed() = %v after a 50 ms sleep %v after Run, want the time since Run", e, w)
	}
}
