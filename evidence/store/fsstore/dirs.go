package fsstore

import (
	"os"
	"path"
	"sync"
	"syscall"
)

// maxDirs bounds how many directories a Store keeps open (a ledger's
// items folder and its blobs' 256 fan-out folders fit).
const maxDirs = 512

// dirs keeps open the directories batched Puts (store.PutOptions.NoSync)
// write into, so that a batch of Puts into one directory opens it once
// instead of walking the key's path through the root for each; any Put
// uses them. A directory is opened through the root
// (os.Root: no symbolic link leads out of it) and every later step works
// in it, on itself (an unnamed file: openat ".", O_TMPFILE) or on single
// names (openat, linkat, renameat, unlinkat), so nothing is written
// outside the folder. Sync and Close forget them all: a directory moved
// or removed meanwhile is not written into after the batch that was
// writing into it; one removed (a Delete or CleanTemp removes empty
// directories) is forgotten at once, as creating in it fails.
//
// A directory some Put is using (between acquire and release) is never
// removed by this Store (removeEmpty): an unnamed file does not keep its
// directory from being empty, and linking it into a removed directory
// fails.
type dirs struct {
	mu   sync.Mutex
	open map[string]*dir
	used map[string]int // by name: the Puts between acquire and release
}

// dir is one open directory, shared by the Puts using it.
type dir struct {
	name string
	f    *os.File
	refs int  // Puts using it, plus one while in dirs.open
	gone bool // no longer in dirs.open
}

func (d *dir) fd() int { return int(d.f.Fd()) }

// acquire returns the directory name of root, open, kept open for the
// next Puts if keep (a batch's); the caller releases it.
func (ds *dirs) acquire(root *os.Root, name string, keep bool) (*dir, error) {
	ds.mu.Lock()
	// Counted before it is opened: removeEmpty leaves it alone from now on.
	if ds.used == nil {
		ds.used = map[string]int{}
	}
	ds.used[name]++
	if d := ds.open[name]; d != nil {
		d.refs++
		ds.mu.Unlock()
		return d, nil
	}
	ds.mu.Unlock()
	// O_DIRECTORY: anything else (a file, a FIFO that would block) fails.
	f, err := root.OpenFile(name, os.O_RDONLY|syscall.O_DIRECTORY, 0)
	if err != nil {
		ds.mu.Lock()
		ds.unuse(name)
		ds.mu.Unlock()
		return nil, err
	}
	d := &dir{name: name, f: f, refs: 1, gone: true}
	ds.mu.Lock()
	defer ds.mu.Unlock()
	if have := ds.open[name]; have != nil { // opened meanwhile
		have.refs++
		d.f.Close()
		return have, nil
	}
	if keep && len(ds.open) < maxDirs {
		if ds.open == nil {
			ds.open = map[string]*dir{}
		}
		ds.open[name] = d
		d.refs++
		d.gone = false
	}
	return d, nil
}

// release ends a Put's use of d.
func (ds *dirs) release(d *dir) {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	ds.unuse(d.name)
	d.refs--
	if d.refs == 0 {
		d.f.Close()
	}
}

// unuse ends one use of the directory name; ds.mu is held.
func (ds *dirs) unuse(name string) {
	if ds.used[name]--; ds.used[name] <= 0 {
		delete(ds.used, name)
	}
}

// removeEmpty removes the directory name of root and then each parent, up
// to the root, while each is empty and no Put is using it (see dirs).
// Best effort: it stops at the first it leaves.
func (ds *dirs) removeEmpty(root *os.Root, name string) {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	for ; name != "." && name != "/" && name != ""; name = path.Dir(name) {
		if ds.used[name] > 0 || root.Remove(name) != nil {
			return
		}
	}
}

// forget stops keeping d open (it is closed when its last Put releases it).
func (ds *dirs) forget(d *dir) {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	ds.drop(d)
}

// forgetAll forgets every directory kept open.
func (ds *dirs) forgetAll() {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	for _, d := range ds.open {
		ds.drop(d)
	}
}

func (ds *dirs) drop(d *dir) {
	if d.gone {
		return
	}
	d.gone = true
	delete(ds.open, d.name)
	d.refs--
	if d.refs == 0 {
		d.f.Close()
	}
}
