package multitest

import (
	_ "embed"
	"fmt"
	"time"

	"github.com/esp8266sim/esp8266sim/board"
	boardnet "github.com/esp8266sim/esp8266sim/board/net"
	"github.com/esp8266sim/esp8266sim/sim/scenario"
)

// helperSource is the multitest module installed on every board.
//
//go:embed py/multitest.py
var helperSource string

// driverTemplate is every board's main.py, with {run}, {idx} and
// {module} filled in.
//
//go:embed py/main.py
var driverTemplate string

// The _multitest host module: what the boards' driver and helper ask the
// runner. Every call names its run and instance.
//
//	start(run, idx) -> "function\nglobals source" or None (joins the WiFi first)
//	ip(run, idx) -> the station's address (multitest.get_network_ip())
//	readline(run, idx) -> the next BROADCAST line sent to this instance
//	error(run, idx)     the instance raised (its traceback is printed)
//	done(run, idx)      the instance's function returned
func init() {
	board.RegisterFunc("_multitest", "start", hostStart)
	board.RegisterFunc("_multitest", "readline", hostReadline)
	board.RegisterFunc("_multitest", "ip", hostIP)
	board.RegisterFunc("_multitest", "error", hostError)
	board.RegisterFunc("_multitest", "done", hostDone)
}

// runArgs finds the run and checks the instance index of a host call.
func runArgs(args []board.Value) (*runState, int, error) {
	id, err := board.ArgInt(args, 0)
	if err != nil {
		return nil, 0, err
	}
	idx, err := board.ArgInt(args, 1)
	if err != nil {
		return nil, 0, err
	}
	v, ok := runs.Load(int64(id))
	if !ok {
		return nil, 0, board.RuntimeError(fmt.Sprintf("multitest run %d is not running", id))
	}
	rs := v.(*runState)
	if idx < 0 || idx >= rs.n {
		return nil, 0, board.ValueError(fmt.Sprintf("multitest instance %d out of range", idx))
	}
	return rs, idx, nil
}

// hostStart waits until the instance may start: the one before it printed
// NEXT or ended. It returns None when the test was stopped (SKIP, an
// error) before this instance's turn, as run-multitests.py then never
// starts it.
func hostStart(b *board.Board, args []board.Value) (board.Value, error) {
	rs, idx, err := runArgs(args)
	if err != nil {
		return nil, err
	}
	rs.mu.Lock()
	rs.registerLocked(idx, b)
	rs.mu.Unlock()
	joined, err := join(b)
	rs.mu.Lock()
	if rs.stopped {
		rs.mu.Unlock()
		return nil, nil
	}
	if err != nil {
		rs.mu.Unlock()
		return nil, err
	}
	rs.joinFailed[idx] = !joined
	for {
		if rs.stopped {
			rs.mu.Unlock()
			return nil, nil
		}
		if idx == 0 || rs.released[idx-1] {
			break
		}
		rs.mu.Unlock()
		err := b.Park(-1)
		rs.mu.Lock()
		if rs.stopped {
			rs.mu.Unlock()
			return nil, nil
		}
		if err != nil {
			rs.mu.Unlock()
			return nil, err
		}
	}
	fn := fmt.Sprintf("instance%d", idx)
	if rs.started[idx] && rs.resume[idx] != "" {
		// Back after the reboot the instance announced.
		fn, rs.resume[idx] = rs.resume[idx], ""
	}
	rs.started[idx] = true
	globals := rs.globals.String()
	rs.mu.Unlock()
	return fn + "\n" + globals, nil
}

// join puts the board's station on the default access point, as a real
// board that remembers its network does at boot before the runner starts
// the test, and waits until it has an address.
func join(b *board.Board) (bool, error) {
	wl, ok := b.Env(boardnet.WLANKey{}).(boardnet.WLAN)
	if !ok || wl == nil {
		return false, nil
	}
	if wl.IsConnected(0) {
		return true, nil
	}
	if err := wl.SetActive(0, true); err != nil {
		return false, err
	}
	if err := wl.Connect(true, scenario.DefaultSSID, scenario.DefaultPassphrase, nil); err != nil {
		return false, err
	}
	for waited := time.Duration(0); waited < joinTimeout; waited += joinPoll {
		if wl.IsConnected(0) {
			return true, nil
		}
		if err := b.Sleep(joinPoll); err != nil {
			return false, err
		}
	}
	return wl.IsConnected(0), nil
}

// joinPoll is how often join checks the station.
const joinPoll = 50 * time.Millisecond

// hostIP is multitest.get_network_ip(): the station's address.
func hostIP(b *board.Board, args []board.Value) (board.Value, error) {
	if _, _, err := runArgs(args); err != nil {
		return nil, err
	}
	wl, ok := b.Env(boardnet.WLANKey{}).(boardnet.WLAN)
	if !ok || wl == nil {
		return "0.0.0.0", nil
	}
	return wl.IfConfig(0)[0].String(), nil
}

// hostReadline returns the next line the runner sent this instance,
// parking the board until there is one.
func hostReadline(b *board.Board, args []board.Value) (board.Value, error) {
	rs, idx, err := runArgs(args)
	if err != nil {
		return nil, err
	}
	rs.mu.Lock()
	rs.registerLocked(idx, b)
	for len(rs.inbox[idx]) == 0 {
		rs.mu.Unlock()
		if err := b.Park(-1); err != nil {
			return nil, err
		}
		rs.mu.Lock()
	}
	l := rs.inbox[idx][0]
	rs.inbox[idx] = rs.inbox[idx][1:]
	rs.mu.Unlock()
	return l, nil
}

// hostError ends the test: an instance raised. The pyboard runner stops
// every instance at the first error.
func hostError(b *board.Board, args []board.Value) (board.Value, error) {
	rs, idx, err := runArgs(args)
	if err != nil {
		return nil, err
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.registerLocked(idx, b)
	rs.failLocked("instance%d raised an exception", idx)
	return nil, nil
}

// hostDone records that an instance's function returned (or raised
// SystemExit). An instance that announced a reboot is not done: it comes
// back through start. The board then waits until every instance is done:
// a board whose program ended would hold simulated time still for the
// others (its clock actor stays running until the world closes it).
func hostDone(b *board.Board, args []board.Value) (board.Value, error) {
	rs, idx, err := runArgs(args)
	if err != nil {
		return nil, err
	}
	rs.mu.Lock()
	rs.registerLocked(idx, b)
	if rs.resume[idx] != "" {
		rs.mu.Unlock()
		return nil, nil
	}
	rs.done[idx] = true
	rs.releaseLocked(idx)
	if rs.allDoneLocked() {
		for i := range rs.n {
			rs.wakeLocked(i)
		}
	}
	for !rs.allDoneLocked() && !rs.stopped {
		rs.mu.Unlock()
		err := b.Park(-1)
		rs.mu.Lock()
		if err != nil && !rs.stopped {
			rs.mu.Unlock()
			return nil, err
		}
	}
	rs.mu.Unlock()
	return nil, nil
}
