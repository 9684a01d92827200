package fsstore

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/evidence/store"
)

// benchPuts makes b.N NoSync Puts of ~1.5 KB objects (a ledger item's
// size) into one directory from 8 goroutines, as the runner stores a
// batch of items; keys are new unless replace.
func benchPuts(b *testing.B, s *Store, replace bool) {
	ctx := context.Background()
	data := bytes.Repeat([]byte("{\"k\":\"v\"}\n"), 150)
	if replace {
		for i := range 1000 {
			if _, err := s.Put(ctx, "apprentices/jdoe/items/"+strconv.Itoa(i)+".json", bytes.NewReader(data), int64(len(data)), store.PutOptions{NoSync: true}); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.SetBytes(int64(len(data)))
	before := cpuTime(b)
	b.ResetTimer()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				if replace {
					i %= 1000
				}
				key := "apprentices/jdoe/items/" + strconv.Itoa(i) + ".json"
				if _, err := s.Put(ctx, key, bytes.NewReader(data), int64(len(data)), store.PutOptions{NoSync: true}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	// CPU time (user and system) says more than wall time on a machine
	// shared with other work.
	b.ReportMetric(float64(cpuTime(b)-before)/float64(b.N), "cpu-ns/op")
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}

// cpuTime is the CPU time the process has used so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func newBenchStore(b *testing.B, named bool) *Store {
	dir := b.TempDir()
	if keep := os.Getenv("FSSTORE_BENCH_DIR"); keep != "" {
		// The caller removes it after all runs: on ext4 without a
		// journal, inodes freed in the last minutes make allocating new
		// ones slow, so removing each run's files would slow the next.
		var err error
		if dir, err = os.MkdirTemp(keep, "bench-"); err != nil {
			b.Fatal(err)
		}
	}
	s, err := New(dir)
	if err != nil {
		b.Fatal(err)
	}
	if named {
		s.tmpfile.Store(refused)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkPutNoSync: "new" keys (the runner's items) and "replace" of
// existing ones, with unnamed files (O_TMPFILE) and with the named
// temporary files of the fallback.
func BenchmarkPutNoSync(b *testing.B) {
	for _, keys := range []string{"new", "replace"} {
		for _, how := range []string{"unnamed", "named"} {
			b.Run(keys+"/"+how, func(b *testing.B) {
				s := newBenchStore(b, how == "named")
				benchPuts(b, s, keys == "replace")
				if want := map[string]int32{"unnamed": works, "named": refused}[how]; s.tmpfile.Load() != want {
					b.Fatalf("the %s path was not taken", how)
				}
			})
		}
	}
}
