package gitlog

import (
	"container/heap"
	"context"
	"errors"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// slop is how many extra commits the walk takes once only uninteresting
// commits are queued, to survive clock skew (git's revision.c SLOP).
const slop = 5

// node is one commit met by the walk.
type node struct {
	hash    plumbing.Hash
	parents []plumbing.Hash
	when    int64 // committer time, Unix seconds: the queue order
	seq     int   // insertion order, to break ties
	seen    bool  // queued at least once
	queued  bool
	uninter bool // reachable from an old tip: not new
	// commit is kept for commits by the apprentice until they are emitted.
	commit *object.Commit
}

// nodeQueue is a max-heap on committer time, first in first out on ties.
type nodeQueue []*node

func (q nodeQueue) Len() int { return len(q) }
func (q nodeQueue) Less(i, j int) bool {
	if q[i].when != q[j].when {
		return q[i].when > q[j].when
	}
	return q[i].seq < q[j].seq
}
func (q nodeQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *nodeQueue) Push(x any)   { *q = append(*q, x.(*node)) }
func (q *nodeQueue) Pop() any {
	old := *q
	n := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return n
}

// walker finds the commits reachable from new tips and not from old ones,
// like `git rev-list new1 new2 ^old1 ^old2`: a walk in committer-date order
// that propagates "uninteresting" from the old tips and stops once every
// queued commit is uninteresting (plus a few for clock skew), so that an
// incremental run reads only the new commits and a little around them.
type walker struct {
	objs    storer.EncodedObjectStorer
	shallow map[plumbing.Hash]bool
	match   func(*object.Commit) bool // is this the apprentice's commit?
	skip    func(what, reason string)

	nodes       map[plumbing.Hash]*node
	queue       nodeQueue
	seq         int
	interesting int // queued nodes not marked uninteresting
	walked      int // commits read
}

func newWalker(objs storer.EncodedObjectStorer, shallow []plumbing.Hash, match func(*object.Commit) bool, skip func(what, reason string)) *walker {
	w := &walker{objs: objs, match: match, skip: skip,
		nodes: map[plumbing.Hash]*node{}, shallow: map[plumbing.Hash]bool{}}
	for _, h := range shallow {
		w.shallow[h] = true
	}
	return w
}

// errMissing marks a commit object that is not in the repository.
var errMissing = errors.New("commit object not in repository")

// load reads the commit h into a new node. A missing object gives
// errMissing; an unreadable one another error. Either way the node is not
// recorded, so the walk does not go through it.
func (w *walker) load(h plumbing.Hash) (*node, error) {
	if n := w.nodes[h]; n != nil {
		return n, nil
	}
	o, err := w.objs.EncodedObject(plumbing.CommitObject, h)
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		return nil, errMissing
	}
	if err != nil {
		return nil, fmt.Errorf("read commit %s: %w", h, err)
	}
	c, err := object.DecodeCommit(w.objs, o)
	if err != nil {
		return nil, fmt.Errorf("decode commit %s: %w", h, err)
	}
	w.walked++
	n := &node{hash: h, parents: c.ParentHashes, when: c.Committer.When.Unix()}
	if w.match(c) {
		n.commit = c
	}
	w.nodes[h] = n
	return n, nil
}

func (w *walker) push(n *node) {
	if n.seen {
		return
	}
	n.seen, n.queued = true, true
	n.seq = w.seq
	w.seq++
	if !n.uninter {
		w.interesting++
	}
	heap.Push(&w.queue, n)
}

// markUninteresting flags n and every ancestor already read.
func (w *walker) markUninteresting(n *node) {
	stack := []*node{n}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if n.uninter {
			continue
		}
		n.uninter = true
		n.commit = nil
		if n.queued {
			w.interesting--
		}
		for _, p := range n.parents {
			if pn := w.nodes[p]; pn != nil && pn.seen {
				stack = append(stack, pn)
			}
		}
	}
}

// walk returns, newest first, the apprentice's commits reachable from
// from and not from stop. Missing start commits and missing history are
// reported through skip; missing stop commits are ignored (they only make
// the walk longer).
func (w *walker) walk(ctx context.Context, from []plumbing.Hash, stop []plumbing.Hash) ([]*node, error) {
	for _, h := range stop {
		n, err := w.load(h)
		if errors.Is(err, errMissing) {
			continue
		}
		if err != nil {
			continue // an unreadable old tip only costs a longer walk
		}
		w.markUninteresting(n)
		w.push(n)
	}
	for _, h := range from {
		n, err := w.load(h)
		if err != nil {
			w.skip("commit "+h.String(), reasonFor(err, "ref tip"))
			continue
		}
		w.push(n)
	}
	var out []*node
	left := slop
	reported := map[plumbing.Hash]bool{}
	for pops := 0; w.queue.Len() > 0; pops++ {
		if pops%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		n := heap.Pop(&w.queue).(*node)
		n.queued = false
		if !n.uninter {
			w.interesting--
		}
		if n.uninter {
			for _, p := range n.parents {
				pn, err := w.load(p)
				if err != nil {
					continue // beyond an old tip: nothing to report
				}
				w.markUninteresting(pn)
				w.push(pn)
			}
			left = w.stillInteresting(n.when, left)
			if left > 0 {
				continue
			}
			break
		}
		for _, p := range n.parents {
			pn, err := w.load(p)
			if err != nil {
				if !(errors.Is(err, errMissing) && w.shallow[n.hash]) && !reported[p] {
					reported[p] = true
					w.skip("commit "+p.String(), reasonFor(err, "parent of "+n.hash.String()))
				}
				continue
			}
			w.push(pn)
		}
		out = append(out, n)
	}
	// Drop what turned out to be reachable from an old tip after it was
	// taken, and everything not by the apprentice.
	kept := out[:0]
	for _, n := range out {
		if !n.uninter && n.commit != nil {
			kept = append(kept, n)
		}
	}
	return kept, nil
}

// stillInteresting is git's still_interesting: keep walking while a queued
// commit is newer than the one just taken or is interesting; otherwise
// count down the slop.
func (w *walker) stillInteresting(when int64, left int) int {
	if w.queue.Len() == 0 {
		return 0
	}
	if when <= w.queue[0].when || w.interesting > 0 {
		return slop
	}
	return left - 1
}

func reasonFor(err error, where string) string {
	if errors.Is(err, errMissing) {
		return "commit object not in repository (" + where + ")"
	}
	return err.Error() + " (" + where + ")"
}
