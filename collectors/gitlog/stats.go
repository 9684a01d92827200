package gitlog

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
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
}

// missingError says that an object needed for the stats is not in the
// repository; Reason says which, for sink.Skip.
type missingError struct{ Reason string }

func (e *missingError) Error() string { return e.Reason }

// statsOf computes the per-file line counts of c against its first parent
// (all files added for a root commit), like
// `git log --no-renames --numstat --diff-merges=first-parent`.
func statsOf(ctx context.Context, objs storer.EncodedObjectStorer, c *object.Commit) ([]fileStat, error) {
	tree, err := treeOf(objs, c.TreeHash, "tree "+c.TreeHash.String())
	if err != nil {
		return nil, err
	}
	var ptree *object.Tree
	if len(c.ParentHashes) > 0 {
		ph := c.ParentHashes[0]
		p, err := object.GetCommit(objs, ph)
		if errors.Is(err, plumbing.ErrObjectNotFound) {
			return nil, &missingError{fmt.Sprintf("parent %s not in repository (shallow or partial clone)", ph)}
		}
		if err != nil {
			return nil, fmt.Errorf("read parent %s: %w", ph, err)
		}
		if ptree, err = treeOf(objs, p.TreeHash, "tree "+p.TreeHash.String()+" of parent "+ph.String()); err != nil {
			return nil, err
		}
	}
	changes, err := object.DiffTreeWithOptions(ctx, ptree, tree, nil)
	if err != nil {
		if errors.Is(err, plumbing.ErrObjectNotFound) {
			return nil, &missingError{"a subtree not in repository (shallow or partial clone)"}
		}
		if cerr := ctx.Err(); cerr != nil {
			return nil, cerr
		}
		return nil, fmt.Errorf("diff trees: %w", err)
	}
	out := make([]fileStat, 0, len(changes))
	for _, ch := range changes {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		fs, err := changeStat(objs, ch)
		if err != nil {
			return nil, err
		}
		out = append(out, fs)
	}
	return out, nil
}

func treeOf(objs storer.EncodedObjectStorer, h plumbing.Hash, what string) (*object.Tree, error) {
	t, err := object.GetTree(objs, h)
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		return nil, &missingError{what + " not in repository (shallow or partial clone)"}
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	return t, nil
}

func changeStat(objs storer.EncodedObjectStorer, ch *object.Change) (fileStat, error) {
	fs := fileStat{Path: ch.To.Name}
	if fs.Path == "" {
		fs.Path = ch.From.Name
	}
	a, aKind, err := entryContent(objs, ch.From, fs.Path)
	if err != nil {
		return fs, err
	}
	b, bKind, err := entryContent(objs, ch.To, fs.Path)
	if err != nil {
		return fs, err
	}
	if aKind != textBlob || bKind != textBlob {
		fs.Binary = true
		fs.TooLarge = aKind == largeBlob || bKind == largeBlob
		return fs, nil
	}
	fs.Insertions, fs.Deletions = lineStat(a, b)
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
func entryContent(objs storer.EncodedObjectStorer, e object.ChangeEntry, path string) (content []byte, kind blobKind, err error) {
	if e.Name == "" && e.TreeEntry.Hash.IsZero() {
		return nil, textBlob, nil
	}
	if e.TreeEntry.Mode == filemode.Submodule {
		return []byte("Subproject commit " + e.TreeEntry.Hash.String() + "\n"), textBlob, nil
	}
	o, err := objs.EncodedObject(plumbing.BlobObject, e.TreeEntry.Hash)
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		return nil, textBlob, &missingError{fmt.Sprintf("blob %s of %s not in repository (shallow or partial clone)", e.TreeEntry.Hash, path)}
	}
	if err != nil {
		return nil, textBlob, fmt.Errorf("read blob %s of %s: %w", e.TreeEntry.Hash, path, err)
	}
	content, kind, err = readBlob(o, maxBlobSize)
	if err != nil {
		return nil, textBlob, fmt.Errorf("read blob %s of %s: %w", e.TreeEntry.Hash, path, err)
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
