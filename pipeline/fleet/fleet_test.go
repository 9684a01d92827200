package fleet_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/pipeline/fleet"
)

func ids(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("appr-%03d", i)
	}
	return out
}

// Shards of one count partition the list: every ID in exactly one, and
// the same one whatever the list's order or its other entries.
func TestShardPartition(t *testing.T) {
	all := ids(200)
	for _, count := range []int{1, 2, 3, 7} {
		seen := map[string]int{}
		for i := range count {
			sh := fleet.Shard{Index: i, Count: count}
			got := sh.Select(all)
			if count > 1 && (len(got) == 0 || len(got) == len(all)) {
				t.Errorf("%d/%d took %d of %d: not a share", i, count, len(got), len(all))
			}
			for _, id := range got {
				seen[id]++
				if !sh.Owns(id) || len(sh.Select([]string{id})) != 1 {
					t.Errorf("%s moved shards with the list", id)
				}
			}
		}
		for _, id := range all {
			if seen[id] != 1 {
				t.Errorf("count %d: %s in %d shards", count, id, seen[id])
			}
		}
	}
}

func TestParseShard(t *testing.T) {
	for _, s := range []string{"", "1", "1/1", "-1/2", "2/2", "0/0", "a/2", "0/2/3"} {
		if _, err := fleet.ParseShard(s); err == nil {
			t.Errorf("ParseShard(%q) accepted", s)
		}
	}
	if sh, err := fleet.ParseShard("3/4"); err != nil || sh != (fleet.Shard{Index: 3, Count: 4}) {
		t.Errorf("ParseShard(3/4) = %v, %v", sh, err)
	}
}

// Run keeps at most parallel jobs running, runs every job whatever the
// others do (error or panic), and gives results in the list's order.
func TestRunBoundedIsolated(t *testing.T) {
	var running, peak atomic.Int32
	all := ids(20)
	res := fleet.Run(context.Background(), all, 4, func(ctx context.Context, id string) error {
		n := running.Add(1)
		defer running.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(10 * time.Millisecond)
		switch id {
		case "appr-003":
			return errors.New("broken")
		case "appr-004":
			panic("boom")
		}
		return nil
	}, func(id string, err error) error { return err })
	if p := peak.Load(); p > 4 || p < 2 {
		t.Errorf("peak concurrency %d, want 2..4", p)
	}
	for i, err := range res {
		want := i == 3 || i == 4
		if (err != nil) != want {
			t.Errorf("%s: %v", all[i], err)
		}
	}
}

// Once ctx is done, jobs not started are not started.
func TestRunCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var started atomic.Int32
	res := fleet.Run(ctx, ids(10), 1, func(ctx context.Context, id string) error {
		started.Add(1)
		cancel()
		return nil
	}, func(id string, err error) error { return err })
	if started.Load() != 1 || !errors.Is(res[9], context.Canceled) {
		t.Errorf("started %d, last %v", started.Load(), res[9])
	}
}
