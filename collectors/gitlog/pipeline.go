package gitlog

import (
	"context"
	"runtime"
	"sync"

	"github.com/go-git/go-git/v5/plumbing/object"
)

// maxDiffWorkers bounds the goroutines computing file stats.
const maxDiffWorkers = 4

// inFlight bounds the jobs between the producer and the emitter.
const inFlight = 64

// job is one step of a pipeline, done in order on the emitting goroutine:
// a commit to emit once a worker has computed its stats, or fn.
type job struct {
	co            *object.Commit
	cut           bool // the commit object was cut (maxCommitBytes)
	onlyWithStats bool // not emitted when its stats cannot be computed
	stats         []fileStat
	err           error
	work          *pieceOfWork  // a merge's, nil when it could not be found
	done          chan struct{} // closed when stats and err are set
	fn            func()        // instead of a commit
}

// differs makes one diff worker per core (at most maxDiffWorkers), each
// with its own reader of the shared packs.
func (c *Collector) differs(packs *packSet, fallback *lockedObjects) []*differ {
	n := min(max(runtime.GOMAXPROCS(0), 1), maxDiffWorkers)
	ds := make([]*differ, n)
	for i := range ds {
		ds[i] = newDiffer(newFastObjects(packs, fallback, diffCacheSize))
	}
	return ds
}

// pipeline runs produce on its own goroutine, computes the stats of the
// commits it sends on the differs' goroutines, and emits them (and runs
// its other jobs) on the calling goroutine in the order sent. It returns
// the first error of the emitting (the sink's) or of produce.
func (r *run) pipeline(parent context.Context, differs []*differ, produce func(*producer) error) error {
	// ctx stops the producer and the workers; the sink gets parent, which
	// it may keep for writes that finish after Emit returns.
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	work := make(chan *job)
	order := make(chan *job, inFlight)
	var wg sync.WaitGroup
	for _, d := range differs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				j.stats, j.err = d.statsOf(ctx, j.co.TreeHash, j.co.ParentHashes)
				if len(j.co.ParentHashes) > 1 && j.err == nil {
					j.work, _ = d.work(ctx, j.co.ParentHashes, r.isMine)
				}
				close(j.done)
			}
		}()
	}
	send := func(j *job) error {
		if j.fn == nil {
			j.done = make(chan struct{})
			select {
			case work <- j:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		select {
		case order <- j:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	prodErr := make(chan error, 1)
	go func() {
		defer close(order)
		prodErr <- produce(&producer{r: r, send: send})
	}()
	var emitErr error
	for j := range order {
		if emitErr != nil {
			continue // drain until the producer stops
		}
		if err := parent.Err(); err != nil {
			emitErr = err
			continue
		}
		if j.fn != nil {
			j.fn()
			continue
		}
		<-j.done
		if err := r.finish(parent, j); err != nil {
			emitErr = err
			cancel()
		}
	}
	close(work)
	wg.Wait()
	if emitErr != nil {
		return emitErr
	}
	return <-prodErr
}
