// Package fsstore is the store.Store on a local folder, the default ledger
// backend: each object is a regular file under the root at its key's path
// ("apprentices/jdoe/items/x.json" is ROOT/apprentices/jdoe/items/x.json).
//
// # Atomicity
//
// Put writes the object's data to a new file in the object's directory,
// sets its time, fsyncs it (see Durability) and only then gives it the
// key's name, so readers see the old object or the new one, never a mix,
// and a failed Put leaves nothing behind.
//
// Where the filesystem allows it (ext4, XFS, btrfs, tmpfs: Linux's
// O_TMPFILE), the new file is unnamed while written: nothing in the
// directory shows it, and a process or machine that dies mid-Put leaves
// nothing in the folder but, at most, an empty directory the Put made
// (the kernel frees the file when the process dies; after a machine crash
// the filesystem's recovery does). It gets its name with linkat(2), on
// its descriptor (AT_EMPTY_PATH, allowed without privilege since Linux
// 6.10) or, where that is refused, from /proc/self/fd/N
// (AT_SYMLINK_FOLLOW). linkat never replaces a name,
// so it is the whole commit of a new key, and of IfAbsent, where the name
// existing is the precondition failing. To replace an existing object the
// file is linked to a temporary name (".ksbfolio-tmp-…") and renamed over
// the object. Where O_TMPFILE is refused (EOPNOTSUPP, EISDIR or EINVAL)
// or /proc/self/fd does not name open files, the Store writes a named
// temporary file instead and renames it over the object (for IfAbsent,
// hard-links it into place, which fails if anything is there); it finds
// out at its first Put and remembers. So a crash leaves a temporary file
// only with the fallback, or in the moment between a replace's temporary
// link and its rename: List ignores it and CleanTemp removes it.
//
// Conditional writes hold an exclusive flock(2) on ROOT/.ksbfolio-lock
// around compare-and-rename and every other change holds it shared while
// it commits (links, renames or removes), so conditions hold across
// processes sharing the folder (on filesystems where flock works: local
// disks, not every NFS). A flock belongs to an open file: each exclusive
// holder opens the lock file anew, while the shared holders of one Store
// share the open file New made, flocked shared as long as any of them
// holds it. An exclusive holder, in this process or another, therefore
// waits for exactly the same commits as if each had its own open file,
// and no commit waits for a batch: the lock is held per commit, not per
// batch (a lease renewed with IfMatch during a long batch would otherwise
// wait for its end). The lock file must stay in place while stores use
// the folder: one removed and made again would be another file to lock.
// The store never removes it (its name is reserved).
//
// # Durability
//
// A Put returns once the object is durable: it fsyncs the new file
// before naming it and the directory after, two fsyncs per object.
// A Put with store.PutOptions.NoSync does neither, and Sync (the
// store.Syncer barrier) later makes every object written so far durable at
// once with syncfs(2) on the store's filesystem. The directories a batch
// writes into are opened once for the batch (see dirs) and closed by
// Sync. While a batch grows, every 1,000 NoSync Puts (or 32 MiB) start
// one syncfs in the background (see writeback), so that the disk writes
// the batch while it is collected and Sync waits only for the rest; this
// promises nothing more, and a background sync's error is returned by the
// next Sync. Readers see no difference: a NoSync object is visible, whole,
// as soon as Put returns.
// A process that dies (even by SIGKILL) loses nothing either: the data is
// in the kernel. What a NoSync Put gives up is only this: if the machine
// loses power or the kernel crashes before the next Sync returns, an
// object written with NoSync since the last Sync may afterwards be absent,
// hold its previous content, or (where the filesystem commits a link or
// rename before the file's data, as ext4 and XFS may for new files) exist
// empty or shorter than written. Objects written before a Sync that returned
// nil, and every Put without NoSync, are unaffected. Callers therefore
// write with NoSync only what they write again if a crash loses it, and
// call Sync before writing anything that names it or says it is done (the
// runner: items NoSync, then Sync before their source's cursor is saved).
//
// # ETags
//
// An ETag is the file's inode, size and modification time in nanoseconds;
// Put sets that time to the wall clock with full precision (futimens on
// the new file), and every replace is a new inode, so the ETag changes on
// every replace. Linking and renaming keep all three, so the Info a Put
// returns (from one fstat of the new file) is the object's.
//
// # Names
//
// Names starting with ".ksbfolio-" are the store's own (temporary files, the
// lock file): keys with such a segment are refused with store.ErrInvalidKey,
// and List never shows them. All access goes through os.Root, or through
// single names in directories opened with it (see dirs): a key whose path
// crosses a symbolic link leading out of the root gives an error. The one
// other path used, /proc/self/fd/N, is linkat's source only: the Put's own
// open file.
// Symbolic links that stay inside the root are followed (directory cycles are
// not); files that are not regular files are not objects.
package fsstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/ksbfolio/ksbfolio/evidence/store"
)

const (
	reservedPrefix = ".ksbfolio-"
	tmpPrefix      = reservedPrefix + "tmp-"
	lockName       = reservedPrefix + "lock"

	dirPerm  = 0o755
	filePerm = 0o644
)

// Store is a store.Store on a local folder. Safe for concurrent use by
// goroutines and by processes sharing the folder.
type Store struct {
	path string
	root *os.Root
	// syncFile, syncDir and syncFS make data durable: f.Sync, a
	// directory's fsync and syncfs(2). Tests count the calls.
	syncFile func(f *os.File) error
	syncDir  func(dir string) error
	syncFS   func(fd int) error
	// dirs keeps open the directories Puts write into, until Sync.
	dirs dirs
	// tmpfile says whether Puts write unnamed files (works), named
	// temporary ones because unnamed ones are refused, or have not tried
	// yet (untried).
	tmpfile atomic.Int32
	// emptyPath says whether linkat(2) with AT_EMPTY_PATH links unnamed
	// files here (works), is refused (then they are linked from /proc),
	// or is untried.
	emptyPath atomic.Int32
	// shared is the store lock as this Store's shared holders hold it.
	shared sharedLock
	// writeback syncs a growing batch of NoSync Puts in the background.
	writeback writeback
}

var (
	_ store.Store  = (*Store)(nil)
	_ store.Syncer = (*Store)(nil)
)

// New opens the store rooted at the folder root, creating it if missing. The
// path is made absolute; String returns it.
func New(root string) (*Store, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("fs store %s: %w", root, err)
	}
	if err := os.MkdirAll(abs, dirPerm); err != nil {
		return nil, fmt.Errorf("fs store: create: %w", err) // a *fs.PathError names the path
	}
	r, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("fs store: %w", err)
	}
	f, err := r.OpenFile(lockName, os.O_RDWR|os.O_CREATE, filePerm)
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("fs store %s: create lock file: %w", abs, err)
	}
	st := &Store{path: abs, root: r, syncFile: (*os.File).Sync, syncFS: unix.Syncfs}
	st.shared.f = f
	st.syncDir = st.fsyncDir
	return st, nil
}

// Sync implements store.Syncer: it makes every object written so far
// durable, with one syncfs(2) of the filesystem holding the store (see
// Durability).
func (s *Store) Sync(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sync %s: %w", s.path, err)
	}
	early := s.writeback.wait()
	if err := s.syncNow(); err != nil {
		return fmt.Errorf("sync %s: %w", s.path, err)
	}
	s.dirs.forgetAll()
	if early != nil {
		return fmt.Errorf("sync %s: in the background: %w", s.path, early)
	}
	return nil
}

// syncNow is one syncfs(2) of the store's filesystem.
func (s *Store) syncNow() error {
	d, err := s.root.Open(".")
	if err != nil {
		return err
	}
	defer d.Close()
	return s.syncFS(int(d.Fd()))
}

// Close releases the store's handle on its folder. Calling it is optional
// (the handle is released when the Store is garbage collected); after Close
// every method fails.
func (s *Store) Close() error {
	s.writeback.wait()
	s.dirs.forgetAll()
	s.shared.f.Close()
	return s.root.Close()
}

// String returns the store's absolute root path.
func (s *Store) String() string { return s.path }

// checkKey refuses keys store.ValidKey refuses and keys naming the store's
// own files.
func checkKey(key string) error {
	if err := store.ValidKey(key); err != nil {
		return err
	}
	for seg := range strings.SplitSeq(key, "/") {
		if strings.HasPrefix(seg, reservedPrefix) {
			return fmt.Errorf("%w %q: segments starting with %q are reserved by the fs store", store.ErrInvalidKey, key, reservedPrefix)
		}
	}
	return nil
}

// notFound reports whether err means "nothing there": a missing file, or a
// path component that is a file rather than a directory.
func notFound(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// Put implements store.Store.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64, opts store.PutOptions) (store.Info, error) {
	info, err := s.put(ctx, key, r, size, opts)
	if err != nil {
		return store.Info{}, err
	}
	return info, nil
}

func (s *Store) fsyncDir(dir string) error {
	d, err := s.root.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Get implements store.Store. The caller closes the returned file.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, store.Info, error) {
	if err := checkKey(key); err != nil {
		return nil, store.Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return nil, store.Info{}, fmt.Errorf("get %s: %w", key, err)
	}
	// O_NONBLOCK: opening a FIFO someone left in the folder must not hang.
	f, err := s.root.OpenFile(key, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if notFound(err) {
		return nil, store.Info{}, fmt.Errorf("get %s: %w", key, store.ErrNotFound)
	}
	if err != nil {
		return nil, store.Info{}, fmt.Errorf("get %s: %w", key, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, store.Info{}, fmt.Errorf("get %s: %w", key, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, store.Info{}, fmt.Errorf("get %s: %w", key, store.ErrNotFound)
	}
	return f, infoOf(key, fi), nil
}

// Stat implements store.Store.
func (s *Store) Stat(ctx context.Context, key string) (store.Info, error) {
	if err := checkKey(key); err != nil {
		return store.Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return store.Info{}, fmt.Errorf("stat %s: %w", key, err)
	}
	info, err := s.stat(key)
	if err != nil {
		return store.Info{}, fmt.Errorf("stat %s: %w", key, err)
	}
	return info, nil
}

// stat describes the regular file at key; store.ErrNotFound if there is none.
func (s *Store) stat(key string) (store.Info, error) {
	fi, err := s.root.Stat(key)
	if notFound(err) {
		return store.Info{}, store.ErrNotFound
	}
	if err != nil {
		return store.Info{}, err
	}
	if !fi.Mode().IsRegular() {
		return store.Info{}, store.ErrNotFound
	}
	return infoOf(key, fi), nil
}

func infoOf(key string, fi fs.FileInfo) store.Info {
	var ino uint64
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		ino = uint64(st.Ino)
	}
	return store.Info{
		Key:     key,
		Size:    fi.Size(),
		ModTime: fi.ModTime(),
		ETag:    etagOf(ino, fi.Size(), fi.ModTime().UnixNano()),
	}
}

// etagOf is an object's ETag: its inode, size and modification time in
// nanoseconds, in hex, joined by "-" (fmt's "%x-%x-%x", without fmt: it is
// made for every object stored and listed).
func etagOf(ino uint64, size, mtime int64) string {
	b := make([]byte, 0, 3*17)
	b = strconv.AppendUint(b, ino, 16)
	b = append(b, '-')
	b = strconv.AppendInt(b, size, 16)
	b = append(b, '-')
	b = strconv.AppendInt(b, mtime, 16)
	return string(b)
}

// Delete implements store.Store. Directories left empty are removed.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	if err := s.delete(ctx, key); err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	s.dirs.removeEmpty(s.root, path.Dir(key))
	return nil
}

func (s *Store) delete(ctx context.Context, key string) error {
	unlock, err := s.lock(ctx, syscall.LOCK_SH)
	if err != nil {
		return err
	}
	defer unlock()
	fi, err := s.root.Lstat(key)
	if notFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return nil // a prefix of other keys, not an object
	}
	if err := s.root.Remove(key); err != nil && !notFound(err) {
		return err
	}
	return nil
}

// List implements store.Store. It walks only the directories that can hold
// keys with the prefix, in lexical key order.
func (s *Store) List(ctx context.Context, prefix string, fn func(store.Info) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("list %q: %w", prefix, err)
	}
	dir := "."
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		dir = prefix[:i]
		// Keys with this prefix would have dir as whole segments; if
		// those are not a valid key, no valid key has the prefix.
		if checkKey(dir) != nil {
			return nil
		}
	}
	fi, err := s.root.Stat(dir)
	if notFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("list %q: %w", prefix, err)
	}
	w := walker{s: s, ctx: ctx, prefix: prefix, fn: fn}
	return w.walk(dir, fi)
}

type walker struct {
	s      *Store
	ctx    context.Context
	prefix string
	fn     func(store.Info) error
	stack  []fs.FileInfo // directories being walked, to skip symlink cycles
}

type entry struct {
	key   string
	order string // key, or key+"/" for a directory: sorts as its contents' keys do
	fi    fs.FileInfo
}

func (w *walker) walk(dir string, dirInfo fs.FileInfo) error {
	for _, up := range w.stack {
		if os.SameFile(up, dirInfo) {
			return nil
		}
	}
	w.stack = append(w.stack, dirInfo)
	defer func() { w.stack = w.stack[:len(w.stack)-1] }()

	entries, err := w.readDir(dir)
	if err != nil {
		return fmt.Errorf("list %q: %w", w.prefix, err)
	}
	for _, e := range entries {
		if err := w.ctx.Err(); err != nil {
			return fmt.Errorf("list %q: %w", w.prefix, err)
		}
		if e.fi.IsDir() {
			if err := w.walk(e.key, e.fi); err != nil {
				return err
			}
			continue
		}
		if err := w.fn(infoOf(e.key, e.fi)); err != nil {
			return err
		}
	}
	return nil
}

// readDir returns the objects and subdirectories of dir that can hold keys
// with the prefix, sorted in key order.
func (w *walker) readDir(dir string) ([]entry, error) {
	d, err := w.s.root.OpenRoot(dir) // for one stat per entry, in it
	if err != nil {
		// Removed while we walked, or a file where a directory was: no
		// keys there.
		if fi, serr := w.s.root.Stat(dir); notFound(serr) || (serr == nil && !fi.IsDir()) {
			return nil, nil
		}
		return nil, err
	}
	defer d.Close()
	f, err := d.Open(".")
	if err != nil {
		return nil, err
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil && !notFound(err) {
		return nil, err
	}
	var keys, stat []string // the candidates' keys, and their names in dir
	for _, name := range names {
		key := name
		if dir != "." {
			key = dir + "/" + name
		}
		if checkKey(key) != nil {
			continue // the store's own files, or names no key can have
		}
		// Cheap prefix test before any stat.
		if !strings.HasPrefix(key, w.prefix) && !strings.HasPrefix(w.prefix, key) {
			continue
		}
		keys, stat = append(keys, key), append(stat, name)
	}
	// One stat per candidate, in the directory; a large directory (the
	// items of a ledger) is statted by a few goroutines at once, each a
	// share of it, since the stats are most of a List's time.
	infos := make([]fs.FileInfo, len(stat))
	errs := make([]error, len(stat))
	statEach := func(lo, hi int) {
		for i := lo; i < hi; i++ {
			infos[i], errs[i] = w.stat(d, stat[i], keys[i])
		}
	}
	if n := min(listStatters, len(stat)/listStatShare); n > 1 {
		var wg sync.WaitGroup
		for g := range n {
			wg.Go(func() { statEach(g*len(stat)/n, (g+1)*len(stat)/n) })
		}
		wg.Wait()
	} else {
		statEach(0, len(stat))
	}
	var out []entry
	for i, key := range keys {
		fi, err := infos[i], errs[i]
		if notFound(err) {
			continue // removed while we walked, a dangling link, or a link leading out of the root
		}
		if err != nil {
			return nil, err
		}
		switch {
		case fi.IsDir():
			if strings.HasPrefix(key+"/", w.prefix) || strings.HasPrefix(w.prefix, key+"/") {
				out = append(out, entry{key: key, order: key + "/", fi: fi})
			}
		case fi.Mode().IsRegular() && strings.HasPrefix(key, w.prefix):
			out = append(out, entry{key: key, order: key, fi: fi})
		}
	}
	slices.SortFunc(out, func(a, b entry) int { return strings.Compare(a.order, b.order) })
	return out, nil
}

// A directory of more than listStatShare candidates is statted by up to
// listStatters goroutines, each taking at least listStatShare of them.
const (
	listStatters  = 4
	listStatShare = 512
)

// stat stats the entry name of directory d (key from the root): a
// symbolic link is followed from the root, as long as it stays inside. An
// entry that is gone, a dangling link or one leading out of the root
// gives fs.ErrNotExist: it is no object.
func (w *walker) stat(d *os.Root, name, key string) (fs.FileInfo, error) {
	fi, err := d.Lstat(name)
	if err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		fi, err = w.s.root.Stat(key)
	}
	if err != nil && !notFound(err) {
		if lfi, lerr := w.s.root.Lstat(key); lerr == nil && lfi.Mode()&fs.ModeSymlink != 0 {
			return nil, fs.ErrNotExist // a link leading out of the root: not an object
		}
	}
	return fi, err
}
