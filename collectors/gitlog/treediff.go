package gitlog

import (
	"bytes"
	"container/list"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
)

// treeEntry is one entry of a decoded tree.
type treeEntry struct {
	name string
	mode filemode.FileMode
	hash plumbing.Hash
}

func (e treeEntry) isTree() bool { return e.mode == filemode.Dir }

// change is one path that differs between two trees: from or to is the
// zero entry (hash zero) when the path is absent on that side.
type change struct {
	path     string
	from, to treeEntry
}

// treeCacheSize is how many decoded trees a treeCache keeps: the trees of
// the last few commits diffed, so that a parent's tree decoded for one
// commit is reused for the next.
const treeCacheSize = 4096

// treeCache reads and decodes trees, keeping the most recently used.
// Not safe for concurrent use.
type treeCache struct {
	objs  objectSource
	max   int
	ll    *list.List // of *cachedTree, most recent first
	byKey map[plumbing.Hash]*list.Element
}

type cachedTree struct {
	hash    plumbing.Hash
	entries []treeEntry
}

func newTreeCache(objs objectSource, max int) *treeCache {
	return &treeCache{objs: objs, max: max, ll: list.New(), byKey: map[plumbing.Hash]*list.Element{}}
}

// get returns the entries of tree h, in the tree's (git's) order. A
// missing tree gives a *missingError naming what.
func (tc *treeCache) get(h plumbing.Hash, what string) ([]treeEntry, error) {
	if el, ok := tc.byKey[h]; ok {
		tc.ll.MoveToFront(el)
		return el.Value.(*cachedTree).entries, nil
	}
	o, err := tc.objs.EncodedObject(plumbing.TreeObject, h)
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		return nil, &missingError{what + " not in repository (shallow or partial clone)"}
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	r, err := o.Reader()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	raw := make([]byte, o.Size())
	_, err = io.ReadFull(r, raw)
	r.Close()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	entries, err := decodeTree(raw)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", what, err)
	}
	tc.byKey[h] = tc.ll.PushFront(&cachedTree{hash: h, entries: entries})
	for tc.ll.Len() > tc.max {
		last := tc.ll.Back()
		tc.ll.Remove(last)
		delete(tc.byKey, last.Value.(*cachedTree).hash)
	}
	return entries, nil
}

// decodeTree parses a raw tree object: entries "<octal mode> <name>\0<20
// byte hash>", in the order stored.
func decodeTree(raw []byte) ([]treeEntry, error) {
	n := bytes.Count(raw, []byte{0})
	out := make([]treeEntry, 0, n)
	for len(raw) > 0 {
		sp := bytes.IndexByte(raw, ' ')
		if sp <= 0 {
			return nil, errors.New("entry without a mode")
		}
		var mode uint32
		for _, c := range raw[:sp] {
			if c < '0' || c > '7' {
				return nil, fmt.Errorf("entry mode %q is not octal", raw[:sp])
			}
			mode = mode<<3 | uint32(c-'0')
		}
		raw = raw[sp+1:]
		nul := bytes.IndexByte(raw, 0)
		if nul < 0 || len(raw) < nul+1+20 {
			return nil, errors.New("entry cut short")
		}
		if nul == 0 {
			return nil, errors.New("entry without a name")
		}
		e := treeEntry{name: string(raw[:nul]), mode: canonicalMode(mode)}
		copy(e.hash[:], raw[nul+1:nul+21])
		out = append(out, e)
		raw = raw[nul+21:]
	}
	return out, nil
}

// canonicalMode is git's canon_mode: the modes a tree may hold, whatever
// odd mode an old tool wrote (100664 is a regular file).
func canonicalMode(m uint32) filemode.FileMode {
	switch m & 0o170000 {
	case 0o040000:
		return filemode.Dir
	case 0o100000:
		if m&0o111 != 0 {
			return filemode.Executable
		}
		return filemode.Regular
	case 0o120000:
		return filemode.Symlink
	}
	return filemode.Submodule
}

// compareEntries orders tree entries as git does (base_name_compare): by
// name, where a tree's name is followed by '/'.
func compareEntries(a, b treeEntry) int {
	n := min(len(a.name), len(b.name))
	if c := cmpStrings(a.name[:n], b.name[:n]); c != 0 {
		return c
	}
	ca, cb := nextChar(a, n), nextChar(b, n)
	switch {
	case ca < cb:
		return -1
	case ca > cb:
		return 1
	}
	return 0
}

func cmpStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func nextChar(e treeEntry, n int) byte {
	if n < len(e.name) {
		return e.name[n]
	}
	if e.isTree() {
		return '/'
	}
	return 0
}

// diffTrees appends to out the files that differ between trees a and b
// (either may be the zero hash: an empty tree), recursing only into the
// subtrees whose hashes differ, in git's path order. A file replaced by a
// folder (or the reverse) is a deletion and additions. Submodules are
// compared by the commit they point at.
func diffTrees(ctx context.Context, tc *treeCache, a, b plumbing.Hash, prefix, what string, out []change) ([]change, error) {
	if a == b {
		return out, nil
	}
	if err := ctx.Err(); err != nil {
		return out, err
	}
	var ea, eb []treeEntry
	var err error
	if !a.IsZero() {
		if ea, err = tc.get(a, treeWhat(a, prefix, what)); err != nil {
			return out, err
		}
	}
	if !b.IsZero() {
		if eb, err = tc.get(b, treeWhat(b, prefix, what)); err != nil {
			return out, err
		}
	}
	i, j := 0, 0
	for i < len(ea) || j < len(eb) {
		var c int
		switch {
		case i == len(ea):
			c = 1
		case j == len(eb):
			c = -1
		default:
			c = compareEntries(ea[i], eb[j])
		}
		switch {
		case c < 0: // only in a: removed
			if out, err = sideOnly(ctx, tc, ea[i], prefix, what, true, out); err != nil {
				return out, err
			}
			i++
		case c > 0: // only in b: added
			if out, err = sideOnly(ctx, tc, eb[j], prefix, what, false, out); err != nil {
				return out, err
			}
			j++
		default:
			x, y := ea[i], eb[j]
			i++
			j++
			if x.hash == y.hash && x.mode == y.mode {
				continue
			}
			if x.isTree() { // both trees: same name and '/'
				if out, err = diffTrees(ctx, tc, x.hash, y.hash, prefix+x.name+"/", what, out); err != nil {
					return out, err
				}
				continue
			}
			out = append(out, change{path: prefix + x.name, from: x, to: y})
		}
	}
	return out, nil
}

// sideOnly records entry e, present on one side only: a file, or every
// file under a tree.
func sideOnly(ctx context.Context, tc *treeCache, e treeEntry, prefix, what string, removed bool, out []change) ([]change, error) {
	if e.isTree() {
		if removed {
			return diffTrees(ctx, tc, e.hash, plumbing.ZeroHash, prefix+e.name+"/", what, out)
		}
		return diffTrees(ctx, tc, plumbing.ZeroHash, e.hash, prefix+e.name+"/", what, out)
	}
	ch := change{path: prefix + e.name}
	if removed {
		ch.from = e
	} else {
		ch.to = e
	}
	return append(out, ch), nil
}

func treeWhat(h plumbing.Hash, prefix, what string) string {
	if prefix == "" {
		return "tree " + h.String() + what
	}
	return "subtree " + h.String() + " (" + prefix + ")" + what
}

// readTreeFile reads the text file at a slash-separated path of tree, of
// at most limit bytes; nil when there is no such file.
func readTreeFile(objs objectSource, tree plumbing.Hash, path string, limit int64) ([]byte, error) {
	tc := newTreeCache(objs, 8)
	h := tree
	parts := strings.Split(path, "/")
	for i, name := range parts {
		entries, err := tc.get(h, "tree "+h.String())
		if err != nil {
			return nil, err
		}
		var found *treeEntry
		for k := range entries {
			if entries[k].name == name {
				found = &entries[k]
				break
			}
		}
		last := i == len(parts)-1
		switch {
		case found == nil, !last && !found.isTree():
			return nil, nil
		case !last:
			h = found.hash
			continue
		case !found.mode.IsFile():
			return nil, fmt.Errorf("not a regular file (mode %s)", found.mode)
		}
		o, err := objs.EncodedObject(plumbing.BlobObject, found.hash)
		if err != nil {
			return nil, fmt.Errorf("blob %s: %w", found.hash, err)
		}
		b, kind, err := readBlob(o, limit)
		switch {
		case err != nil:
			return nil, fmt.Errorf("blob %s: %w", found.hash, err)
		case kind == largeBlob:
			return nil, fmt.Errorf("%d bytes, over the %d byte limit", o.Size(), limit)
		case kind == binaryBlob:
			return nil, errors.New("not text (it holds a NUL byte)")
		}
		return b, nil
	}
	return nil, nil
}
