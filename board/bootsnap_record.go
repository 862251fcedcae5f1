package board

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sort"
	"strings"
	"time"
)

// setupRecord notes, while a fresh interpreter is prepared, everything the
// firmware asked of the host: which host functions it called, the random
// numbers it drew and the paths it looked at. A boot snapshot (bootsnap.go)
// is only taken, and only replayed, when that record shows the setup could
// not have depended on anything that differs between boards.
type setupRecord struct {
	calls map[string]int
	// replay lists the calls of replayable host functions, in order.
	replay  []setupCall
	randoms []uint32
	paths   map[string]bool
	console int
	// elapsed is simulator time when the setup began.
	elapsed time.Duration
}

// setupCall is a call of a host function without arguments and what it
// answered (formatted with %#v).
type setupCall struct {
	f      hostFuncRef
	result string
}

func (b *Board) newSetupRecord() *setupRecord {
	return &setupRecord{calls: map[string]int{}, paths: map[string]bool{}, elapsed: b.clock.Elapsed()}
}

// noteHost counts a host call made during setup (a no-op otherwise).
func noteHost(ctx context.Context, name string) {
	if b, _ := ctx.Value(boardKey{}).(*Board); b != nil && b.setupRec != nil {
		b.setupRec.calls[name]++
	}
}

// fsFingerprint describes what the board's filesystem answers for the
// paths the setup looked at: whether each exists, is a directory, and its
// contents (or names). Two boards with equal fingerprints give an import
// the same answers.
func (b *Board) fsFingerprint(paths map[string]bool) string {
	names := make([]string, 0, len(paths))
	for p := range paths {
		names = append(names, p)
	}
	sort.Strings(names)
	var sb strings.Builder
	for _, p := range names {
		isDir, _, _, e := b.fs.stat(p)
		fmt.Fprintf(&sb, "%q %d %v", p, e, isDir)
		switch {
		case e != 0:
		case isDir:
			list, _ := b.fs.list(p)
			fmt.Fprintf(&sb, " %q", list)
		default:
			b.fs.mu.Lock()
			data := b.fs.files[p].data
			b.fs.mu.Unlock()
			fmt.Fprintf(&sb, " %x", sha256.Sum256(data))
		}
		sb.WriteByte('\n')
	}
	return sb.String()
}
