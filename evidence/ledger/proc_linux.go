package ledger

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"
)

func thisProcess() LeaseInfo {
	host, _ := os.Hostname()
	info := LeaseInfo{Host: host, PID: os.Getpid(), BootID: bootID()}
	if st, ok := procStat(info.PID); ok {
		info.PIDStart = st.start
	}
	return info
}

// holderGone says why the holder of info is known to be gone ("" if it
// may be alive or runs elsewhere): it is on this host and its process is
// not running.
func holderGone(info LeaseInfo) string {
	host, _ := os.Hostname()
	if info.Host == "" || info.Host != host || info.PID <= 0 {
		return ""
	}
	if b := bootID(); info.BootID != "" && b != "" && b != info.BootID {
		return "its host " + host + " restarted since"
	}
	st, ok := procStat(info.PID)
	switch {
	case !ok:
		if _, err := os.Stat("/proc/self/stat"); err != nil {
			return "" // no /proc here: cannot tell
		}
		return "its process (pid " + strconv.Itoa(info.PID) + " on this host) is gone"
	case st.state == 'Z' || st.state == 'X':
		return "its process (pid " + strconv.Itoa(info.PID) + " on this host) has exited"
	case info.PIDStart != 0 && st.start != info.PIDStart:
		return "pid " + strconv.Itoa(info.PID) + " on this host is now another process"
	}
	return ""
}

type stat struct {
	state byte
	start uint64 // clock ticks after boot
}

// procStat reads the state and start time of a process from
// /proc/<pid>/stat; ok is false if there is no such process.
func procStat(pid int) (stat, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			return stat{}, true // unreadable: assume it runs
		}
		// /proc may hide other users' processes (hidepid): ask the kernel.
		return stat{}, errors.Is(syscall.Kill(pid, 0), syscall.EPERM)
	}
	// "pid (comm) state ppid …": comm may hold spaces and parentheses, so
	// the fields start after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return stat{}, true
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 || len(f[0]) != 1 {
		return stat{}, true
	}
	st := stat{state: f[0][0]}
	st.start, _ = strconv.ParseUint(f[19], 10, 64) // field 22 overall
	return st, true
}

func bootID() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
