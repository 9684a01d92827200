package gitlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
)

// maxBlobSize: larger blobs are counted as binary (0/0), and marked
// too_large, rather than read into memory; their size is known from the
// object header before any of the content is read. git's own cut-off
// (core.bigFileThreshold) is 512 MiB.
const maxBlobSize = 64 << 20

// fileStat is one changed path of a commit, as `git log --numstat` shows it.
type fileStat struct {
	Path       string
	Insertions int
	Deletions  int
	Binary     bool
	TooLarge   bool // a side is over maxBlobSize: counted as binary, not read
	// Classes are the kinds of work the file shows (fileClasses);
	// DocWords the words it adds to documentation (docWordsAdded).
	Classes  []string
	DocWords int
}

// missingError says that an object needed for the stats is not in the
// repository; Reason says which, for sink.Skip.
type missingError struct{ Reason string }

func (e *missingError) Error() string { return e.Reason }

// differ computes commits' file stats from one object storage. Not safe
// for concurrent use: each worker has its own.
type differ struct {
	objs  objectSource
	trees *treeCache
	buf   bytes.Buffer
	paths pathCache
	attrs *attributes // nil: none
	memo  *statsMemo  // shared by the run's differs; nil: none
}

// maxStatsMemo bounds a statsMemo: the stats of commits computed for a
// merge's piece of work, kept for the commit's own item (and the reverse).
const maxStatsMemo = 20_000

// statsMemo keeps commits' stats (immutable once stored) for the other
// differs of the run. Safe for concurrent use.
type statsMemo struct {
	mu sync.Mutex
	m  map[statsKey][]fileStat
}

type statsKey struct{ tree, parent plumbing.Hash }

func newStatsMemo() *statsMemo { return &statsMemo{m: map[statsKey][]fileStat{}} }

func (sm *statsMemo) get(k statsKey) ([]fileStat, bool) {
	if sm == nil {
		return nil, false
	}
	sm.mu.Lock()
	defer sm.mu.Unlock()
	st, ok := sm.m[k]
	return st, ok
}

func (sm *statsMemo) put(k statsKey, st []fileStat) {
	if sm == nil {
		return
	}
	sm.mu.Lock()
	defer sm.mu.Unlock()
	if len(sm.m) < maxStatsMemo {
		sm.m[k] = st
	}
}

func newDiffer(objs objectSource) *differ {
	return &differ{objs: objs, trees: newTreeCache(objs, treeCacheSize), paths: pathCache{}}
}

// statsOf computes the per-file line counts of the commit with this tree
// and these parents against its first parent (all files added for a root
// commit), like `git log --no-renames --numstat --diff-merges=first-parent`.
// Only the subtrees that differ are read, and only the blobs that changed.
func (d *differ) statsOf(ctx context.Context, tree plumbing.Hash, parents []plumbing.Hash) ([]fileStat, error) {
	var ptree plumbing.Hash
	if len(parents) > 0 {
		ph := parents[0]
		hd, _, err := readHeader(d.objs, ph, &d.buf)
		if errors.Is(err, errMissing) {
			return nil, &missingError{fmt.Sprintf("parent %s not in repository (shallow or partial clone)", ph)}
		}
		if err != nil {
			return nil, fmt.Errorf("read parent %s: %w", ph, err)
		}
		ptree = hd.tree
		if ptree == tree { // nothing changed (an empty commit)
			return []fileStat{}, nil
		}
		if ptree.IsZero() {
			return nil, fmt.Errorf("read parent %s: no tree", ph)
		}
	}
	key := statsKey{tree, ptree}
	if st, ok := d.memo.get(key); ok {
		return st, nil
	}
	what := ""
	changes, err := diffTrees(ctx, d.trees, ptree, tree, "", what, nil)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, cerr
		}
		return nil, err
	}
	out := make([]fileStat, 0, len(changes))
	for _, ch := range changes {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		fs, err := d.changeStat(ch)
		if err != nil {
			return nil, err
		}
		out = append(out, fs)
	}
	d.memo.put(key, out)
	return out, nil
}

func (d *differ) changeStat(ch change) (fileStat, error) {
	fs := fileStat{Path: ch.path}
	if d.attrs.binary(fs.Path) { // .gitattributes: binary or -diff
		fs.Binary = true
		fs.Classes = fileClassesWith(d.paths, fs.Path, nil)
		return fs, nil
	}
	a, aKind, err := entryContent(d.objs, ch.from, fs.Path)
	if err != nil {
		return fs, err
	}
	b, bKind, err := entryContent(d.objs, ch.to, fs.Path)
	if err != nil {
		return fs, err
	}
	if aKind != textBlob || bKind != textBlob {
		fs.Binary = true
		fs.TooLarge = aKind == largeBlob || bKind == largeBlob
		fs.Classes = fileClassesWith(d.paths, fs.Path, nil)
		return fs, nil
	}
	fs.Insertions, fs.Deletions = lineStat(a, b)
	fs.Classes = fileClassesWith(d.paths, fs.Path, b)
	if slices.ContainsFunc(fs.Classes, isDocClass) {
		fs.DocWords = docWordsAdded(a, b)
	}
	return fs, nil
}

// blobKind says how a side of a change is counted.
type blobKind int

const (
	textBlob   blobKind = iota // line counts
	binaryBlob                 // a NUL in its first bytes, as git sniffs
	largeBlob                  // over maxBlobSize: not read
)

// entryContent reads one side of a change: nil for the absent side, the
// "Subproject commit <sha>" line git diffs for a submodule, else the blob.
// A blob over maxBlobSize is not read at all, and a binary one only up to
// the bytes that show it is binary; content is then nil.
func entryContent(objs objectSource, e treeEntry, path string) (content []byte, kind blobKind, err error) {
	if e.hash.IsZero() {
		return nil, textBlob, nil
	}
	if e.mode == filemode.Submodule {
		return []byte("Subproject commit " + e.hash.String() + "\n"), textBlob, nil
	}
	o, err := objs.EncodedObject(plumbing.BlobObject, e.hash)
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		return nil, textBlob, &missingError{fmt.Sprintf("blob %s of %s not in repository (shallow or partial clone)", e.hash, path)}
	}
	if err != nil {
		return nil, textBlob, fmt.Errorf("read blob %s of %s: %w", e.hash, path, err)
	}
	content, kind, err = readBlob(o, maxBlobSize)
	if err != nil {
		return nil, textBlob, fmt.Errorf("read blob %s of %s: %w", e.hash, path, err)
	}
	return content, kind, nil
}

// readBlob reads a blob object of at most limit bytes, streaming: its
// size is checked first, then its first binarySniffLen bytes, and only a
// text blob is read whole, into one buffer of its size.
func readBlob(o plumbing.EncodedObject, limit int64) ([]byte, blobKind, error) {
	size := o.Size()
	if size > limit {
		return nil, largeBlob, nil
	}
	r, err := o.Reader()
	if err != nil {
		return nil, textBlob, err
	}
	defer r.Close()
	head := make([]byte, min(int64(binarySniffLen), size))
	if _, err := io.ReadFull(r, head); err != nil {
		return nil, textBlob, err
	}
	if isBinary(head) {
		return nil, binaryBlob, nil
	}
	buf := make([]byte, size)
	copy(buf, head)
	if _, err := io.ReadFull(r, buf[len(head):]); err != nil {
		return nil, textBlob, err
	}
	return buf, textBlob, nil
}
