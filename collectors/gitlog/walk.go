package gitlog

import (
	"bytes"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// slop is how many extra commits the walk takes once only uninteresting
// commits are queued, to survive clock skew (git's revision.c SLOP).
const slop = 5

// node is one commit met by the walk.
type node struct {
	hash    plumbing.Hash
	tree    plumbing.Hash
	parents []plumbing.Hash
	when    int64 // committer time, Unix seconds: the queue order
	seq     int   // insertion order, to break ties
	seen    bool  // queued at least once
	queued  bool
	uninter bool // reachable from an old tip: not new
	mine    bool // authored (or co-authored) by the apprentice
	coAuth  bool // the apprentice is a co-author, not the author
	// commit is kept for small commits by the apprentice until they are
	// emitted; a larger one is read again when emitted.
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
	objs    objectSource
	shallow map[plumbing.Hash]bool
	match   func(name, email string) bool // is this the apprentice's commit (author as written)?
	// missing is called once for each commit that could not be read: a
	// start commit (start true) or a parent met on the way.
	missing func(h plumbing.Hash, reason string, start bool)

	nodes       map[plumbing.Hash]*node
	queue       nodeQueue
	seq         int
	interesting int // queued nodes not marked uninteresting
	walked      int // commits read
	buf         bytes.Buffer
	// onMine, when set, is handed each of the apprentice's commits as
	// soon as the walk takes it: only for a walk without stop commits,
	// where nothing taken can turn out to be old.
	onMine func(*node) error
	// coMatch, when set, tells the apprentice among a commit's
	// Co-authored-by trailers.
	coMatch func([]coAuthor) bool
	// keepAll: walk returns every new commit, not only the apprentice's.
	keepAll bool
	// limit, when positive, is how many commits load reads at most;
	// limited says it was reached.
	limit   int
	limited bool
}

// errWalkLimit: the walker read its limit of commits.
var errWalkLimit = errors.New("walk limit reached")

func newWalker(objs objectSource, shallow map[plumbing.Hash]bool, match func(name, email string) bool,
	missing func(h plumbing.Hash, reason string, start bool)) *walker {
	return &walker{objs: objs, shallow: shallow, match: match, missing: missing, nodes: map[plumbing.Hash]*node{}}
}

// errMissing marks a commit object that is not in the repository.
var errMissing = errors.New("commit object not in repository")

// keepCommitBytes: a commit object up to this size stays in memory from the
// walk to its emission; a larger one is read again when emitted.
const keepCommitBytes = 64 << 10

// maxCommitBytes is how much of a commit object is read: its headers and
// the start of its message. The rest of a longer message is dropped (cut at
// a line break), so that one odd commit cannot take the memory.
const maxCommitBytes = 2 << 20

// readCommit reads and decodes commit h, at most maxCommitBytes of it; cut
// is true when the message was cut. A missing object gives errMissing.
func readCommit(objs objectSource, h plumbing.Hash) (c *object.Commit, size int64, cut bool, err error) {
	o, err := objs.EncodedObject(plumbing.CommitObject, h)
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		return nil, 0, false, errMissing
	}
	if err != nil {
		return nil, 0, false, fmt.Errorf("read commit %s: %w", h, err)
	}
	size = o.Size()
	if size > maxCommitBytes {
		o, cut = limitedObject{EncodedObject: o, n: maxCommitBytes}, true
	}
	c, err = object.DecodeCommit(nil, o)
	if err != nil {
		return nil, 0, false, fmt.Errorf("decode commit %s: %w", h, err)
	}
	if cut {
		if i := strings.LastIndexByte(c.Message, '\n'); i > 0 {
			c.Message = c.Message[:i+1]
		}
	}
	return c, size, cut, nil
}

// limitedObject reads only the first n bytes of an object.
type limitedObject struct {
	plumbing.EncodedObject
	n int64
}

func (o limitedObject) Reader() (io.ReadCloser, error) {
	r, err := o.EncodedObject.Reader()
	if err != nil {
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{io.LimitReader(r, o.n), r}, nil
}

// load reads the commit h into a new node. A missing object gives
// errMissing; an unreadable one another error. Either way the node is not
// recorded, so the walk does not go through it.
func (w *walker) load(h plumbing.Hash) (*node, error) {
	if n := w.nodes[h]; n != nil {
		return n, nil
	}
	if w.limit > 0 && w.walked >= w.limit {
		w.limited = true
		return nil, errWalkLimit
	}
	hd, o, err := readHeader(w.objs, h, &w.buf)
	if err != nil {
		return nil, err
	}
	w.walked++
	n := &node{hash: h, tree: hd.tree, parents: hd.parents, when: hd.committed, mine: w.match(hd.authorName, hd.authorEmail)}
	if !n.mine && w.coMatch != nil {
		if cas := coAuthors(w.buf.Bytes()); cas != nil && w.coMatch(cas) {
			n.mine, n.coAuth = true, true
		}
	}
	if n.mine && o.Size() <= keepCommitBytes {
		c, err := object.DecodeCommit(nil, o)
		if err != nil {
			return nil, fmt.Errorf("decode commit %s: %w", h, err)
		}
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
		n.mine, n.commit = false, nil // (keepAll walks drop them too: uninter)
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
// reported through missing; missing stop commits are ignored (they only make
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
			w.missing(h, reasonFor(err, "start of the walk"), true)
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
					w.missing(p, reasonFor(err, "parent of "+n.hash.String()), false)
				}
				continue
			}
			w.push(pn)
		}
		if w.onMine != nil {
			if n.mine {
				if err := w.onMine(n); err != nil {
					return nil, err
				}
			}
			continue
		}
		out = append(out, n)
	}
	// Drop what turned out to be reachable from an old tip after it was
	// taken, and everything not by the apprentice.
	kept := out[:0]
	for _, n := range out {
		if !n.uninter && (n.mine || w.keepAll) {
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
