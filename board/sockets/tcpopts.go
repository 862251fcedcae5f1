package sockets

import "gvisor.dev/gvisor/pkg/tcpip/header"

// eachTCPOption calls f with the offset and length of each option in a TCP
// header's option bytes that has a kind and a length (all but EOL and
// NOP), in order, up to an EOL. It reports false when an option's length
// is below 2 or runs past the end (a malformed header): f has then seen
// the options before that one. Both of lwIP's SYN option rules walk the
// options with it: shrinkSyn (what the board sends) and blankSynOptions
// (what it takes in).
func eachTCPOption(opts []byte, f func(i, n int)) bool {
	for i := 0; i < len(opts); {
		switch opts[i] {
		case header.TCPOptionEOL:
			return true
		case header.TCPOptionNOP:
			i++
			continue
		}
		if i+1 >= len(opts) || opts[i+1] < 2 || i+int(opts[i+1]) > len(opts) {
			return false
		}
		n := int(opts[i+1])
		f(i, n)
		i += n
	}
	return true
}
