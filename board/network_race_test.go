//go:build race

package board_test

// raceEnabled trims the slowest end-to-end network tests under the race
// detector (the firmware runs several times slower there); the wifi
// package's own tests cover the same state machine under -race.
const raceEnabled = true
