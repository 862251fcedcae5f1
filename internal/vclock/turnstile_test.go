package vclock

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// turnLog records the steps actors take, in the order they take them.
type turnLog struct {
	mu    sync.Mutex
	steps []string
}

func (l *turnLog) add(s string) {
	l.mu.Lock()
	l.steps = append(l.steps, s)
	l.mu.Unlock()
}

func (l *turnLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.steps, " ")
}

// Actors woken at one instant run one after the other, in the order they
// were woken, even when their goroutines lose the CPU halfway through
// (runtime.Gosched stands for the pre-emption a loaded machine brings):
// what they do at that instant comes out in the same order every run.
func TestTurnsRunWokenActorsInWakeOrder(t *testing.T) {
	tests := []struct {
		name string
		make func(c *Clock, name string) *Actor
		want string
	}{
		{"turn actors run in wake order", (*Clock).NewTurnActor, "a0 a0 a0 a1 a1 a1 a2 a2 a2 a3 a3 a3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 20 {
				if got := wakeFour(t, tt.make); got != tt.want {
					t.Fatalf("steps %q, want %q", got, tt.want)
				}
			}
		})
	}
}

// wakeFour parks four actors, wakes them at one instant from a timer in
// the order a0..a3, and returns the steps they took.
func wakeFour(t *testing.T, newActor func(c *Clock, name string) *Actor) string {
	t.Helper()
	c := New(Config{})
	runClock(t, c)
	var log turnLog
	var woken [4]atomic.Bool
	actors := make([]*Actor, 4)
	for i := range actors {
		actors[i] = newActor(c, fmt.Sprintf("a%d", i))
	}
	// Time reaches 1 ms only once every actor is parked.
	c.AfterFunc(time.Millisecond, func() {
		for i, a := range actors {
			woken[i].Store(true)
			a.Wake()
		}
	})
	var wg sync.WaitGroup
	for i, a := range actors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer a.Close()
			for !woken[i].Load() {
				if err := a.Park(context.Background(), -1); err != nil {
					t.Errorf("Park: %v", err)
					return
				}
			}
			for range 3 {
				log.add(a.Name())
				runtime.Gosched()
			}
		}()
	}
	wg.Wait()
	return log.String()
}

// An actor made in line by a running actor takes its turn after the actors
// woken before it, whenever its goroutine starts; a queued actor that is
// closed or whose context ends leaves the line without holding it up.
func TestActorInLineWaitsForTheTurnsBeforeIt(t *testing.T) {
	c := New(Config{})
	runClock(t, c)
	var log turnLog
	first, second := c.NewTurnActor("first"), c.NewTurnActor("second")
	gone, cancelled := c.NewTurnActor("gone"), c.NewTurnActor("cancelled")
	var woken atomic.Bool
	c.AfterFunc(time.Millisecond, func() {
		woken.Store(true)
		first.Wake() // its turn
		second.Wake()
		gone.Wake()
		cancelled.Wake()
	})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	park := func(a *Actor, ctx context.Context, then func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !woken.Load() {
				if err := a.Park(ctx, -1); err != nil {
					break
				}
			}
			then()
		}()
	}
	inLine := make(chan *Actor, 1)
	park(first, context.Background(), func() {
		// Queued behind second, gone and cancelled: they were woken first.
		line := c.NewActorInLine("inline")
		inLine <- line
		// gone leaves the queue closed, cancelled by its context.
		gone.Close()
		cancel()
		log.add("first")
		runtime.Gosched()
		first.Close()
	})
	park(second, context.Background(), func() {
		log.add("second")
		runtime.Gosched()
		second.Close()
	})
	park(gone, context.Background(), func() {})
	park(cancelled, ctx, func() { cancelled.Close() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		a := <-inLine
		if err := a.WaitTurn(context.Background()); err != nil {
			t.Errorf("WaitTurn: %v", err)
		}
		log.add("inline")
		a.Close()
	}()
	wg.Wait()
	if got, want := log.String(), "first second inline"; got != want {
		t.Errorf("steps %q, want %q", got, want)
	}
}
