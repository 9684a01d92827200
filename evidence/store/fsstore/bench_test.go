package fsstore

import (
	"bytes"
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

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
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}

func newBenchStore(b *testing.B) *Store {
	s, err := New(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func BenchmarkPutNoSync(b *testing.B) {
	b.Run("new", func(b *testing.B) { benchPuts(b, newBenchStore(b), false) })
	b.Run("replace", func(b *testing.B) { benchPuts(b, newBenchStore(b), true) })
}
