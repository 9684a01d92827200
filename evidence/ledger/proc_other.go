//go:build !linux

package ledger

import "os"

func thisProcess() LeaseInfo {
	host, _ := os.Hostname()
	return LeaseInfo{Host: host, PID: os.Getpid()}
}

// holderGone cannot tell whether a process runs without /proc: a lease
// of a dead holder on this host expires by its TTL, like a remote one.
func holderGone(LeaseInfo) string { return "" }
