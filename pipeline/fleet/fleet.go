// Package fleet runs one job per apprentice of a multi-apprentice config:
// with bounded concurrency, each job's failure its own, and a stable share
// of the apprentices per shard so that several processes (pods of a
// Kubernetes Indexed Job) split one list between them.
package fleet

import (
	"context"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"sync"
)

// Shard is one of Count stable shares of a list of apprentice IDs
// (Index from 0 to Count-1). The zero Shard is the whole list.
type Shard struct {
	Index, Count int
}

// ParseShard reads INDEX/COUNT ("0/4"): COUNT at least 1, INDEX from 0 to
// COUNT-1.
func ParseShard(s string) (Shard, error) {
	i, c, ok := strings.Cut(s, "/")
	index, err1 := strconv.Atoi(i)
	count, err2 := strconv.Atoi(c)
	if !ok || err1 != nil || err2 != nil || count < 1 || index < 0 || index >= count {
		return Shard{}, fmt.Errorf("shard %q: want INDEX/COUNT with 0 <= INDEX < COUNT, like 0/4", s)
	}
	return Shard{Index: index, Count: count}, nil
}

// Owns reports whether the apprentice id is in this shard: the FNV-1a
// hash of the ID, modulo Count, is Index. It depends only on the ID and
// Count, so every process given the same Count agrees, whatever the order
// or the other entries of its list.
func (s Shard) Owns(id string) bool {
	if s.Count <= 1 {
		return true
	}
	h := fnv.New64a()
	h.Write([]byte(id))
	return h.Sum64()%uint64(s.Count) == uint64(s.Index)
}

// Select returns the IDs of ids in this shard, in their order.
func (s Shard) Select(ids []string) []string {
	var out []string
	for _, id := range ids {
		if s.Owns(id) {
			out = append(out, id)
		}
	}
	return out
}

// Run calls job once for each ID, at most parallel at a time (1 when
// parallel < 1), and returns their results in the order of ids. A job's
// error or panic is not another's business: every job runs, except that
// once ctx is done the jobs not yet started are not started and get
// ctx's error. job must be safe to call from several goroutines.
func Run[R any](ctx context.Context, ids []string, parallel int, job func(ctx context.Context, id string) R, skipped func(id string, err error) R) []R {
	if parallel < 1 {
		parallel = 1
	}
	out := make([]R, len(ids))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, id := range ids {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			out[i] = skipped(id, ctx.Err())
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			defer func() {
				if p := recover(); p != nil {
					out[i] = skipped(id, fmt.Errorf("panic: %v", p))
				}
			}()
			out[i] = job(ctx, id)
		}()
	}
	wg.Wait()
	return out
}
