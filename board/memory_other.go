//go:build !(linux || darwin || freebsd)

package board

import "context"

// Elsewhere the linear memory is an ordinary Go slice.
func withBoardMemory(ctx context.Context) context.Context { return ctx }
