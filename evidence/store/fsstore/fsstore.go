// Package fsstore is the store.Store on a local folder, the default ledger
// backend: each object is a regular file under the root at its key's path
// ("apprentices/jdoe/items/x.json" is ROOT/apprentices/jdoe/items/x.json).
//
// # Atomicity
//
// Put writes a temporary file in the object's directory, fsyncs it (see
// Durability) and then renames it over the object (or, for IfAbsent,
// hard-links it into place, which fails if anything is there), so readers
// see the old object or the new one, never a mix, and a failed Put leaves
// nothing behind but, after a crash, a temporary file that List ignores and CleanTemp removes. Conditional writes hold an exclusive
// flock(2) on ROOT/.ksbfolio-lock around compare-and-rename and every other
// change holds it shared, so conditions hold across processes sharing the
// folder (on filesystems where flock works: local disks, not every NFS).
//
// # Durability
//
// A Put returns once the object is durable: it fsyncs the temporary file
// before the rename and the directory after it, two fsyncs per object.
// A Put with store.PutOptions.NoSync does neither, and Sync (the
// store.Syncer barrier) later makes every object written so far durable at
// once with syncfs(2) on the store's filesystem. The directories a batch
// writes into are opened once for the batch (see dirs) and closed by
// Sync. Readers see no difference: a NoSync object is visible, whole, as
// soon as Put returns.
// A process that dies (even by SIGKILL) loses nothing either: the data is
// in the kernel. What a NoSync Put gives up is only this: if the machine
// loses power or the kernel crashes before the next Sync returns, an
// object written with NoSync since the last Sync may afterwards be absent,
// hold its previous content, or (where the filesystem commits a rename
// before the file's data, as ext4 and XFS may for new files) exist empty
// or shorter than written. Objects written before a Sync that returned
// nil, and every Put without NoSync, are unaffected. Callers therefore
// write with NoSync only what they write again if a crash loses it, and
// call Sync before writing anything that names it or says it is done (the
// runner: items NoSync, then Sync before their source's cursor is saved).
//
// # ETags
//
// An ETag is the file's inode, size and modification time in nanoseconds;
// Put sets that time to the wall clock with full precision, and every
// replace is a new inode, so the ETag changes on every replace.
//
// # Names
//
// Names starting with ".ksbfolio-" are the store's own (temporary files, the
// lock file): keys with such a segment are refused with store.ErrInvalidKey,
// and List never shows them. All access goes through os.Root: a key whose
// path crosses a symbolic link leading out of the root gives an error.
// Symbolic links that stay inside the root are followed (directory cycles are
// not); files that are not regular files are not objects.
package fsstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

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
	f.Close()
	st := &Store{path: abs, root: r, syncFile: (*os.File).Sync, syncFS: unix.Syncfs}
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
	d, err := s.root.Open(".")
	if err != nil {
		return fmt.Errorf("sync %s: %w", s.path, err)
	}
	defer d.Close()
	if err := s.syncFS(int(d.Fd())); err != nil {
		return fmt.Errorf("sync %s: %w", s.path, err)
	}
	s.dirs.forgetAll()
	return nil
}

// Close releases the store's handle on its folder. Calling it is optional
// (the handle is released when the Store is garbage collected); after Close
// every method fails.
func (s *Store) Close() error {
	s.dirs.forgetAll()
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

func (s *Store) put(ctx context.Context, key string, r io.Reader, size int64, opts store.PutOptions) (store.Info, error) {
	if err := checkKey(key); err != nil {
		return store.Info{}, err
	}
	if opts.IfAbsent && opts.IfMatch != "" {
		return store.Info{}, fmt.Errorf("put %s: IfAbsent and IfMatch are mutually exclusive", key)
	}
	if err := ctx.Err(); err != nil {
		return store.Info{}, fmt.Errorf("put %s: %w", key, err)
	}
	// Fail early, before reading the data, when the condition already
	// fails; the check that counts is made again at commit.
	if err := s.checkCondition(key, opts); err != nil {
		return store.Info{}, fmt.Errorf("put %s: %w", key, err)
	}

	dir := path.Dir(key)
	d, f, tmp, err := s.createTemp(dir, opts.NoSync)
	if err != nil {
		return store.Info{}, fmt.Errorf("put %s: %w", key, err)
	}
	defer func() {
		if f != nil {
			f.Close()
		}
		if tmp != "" {
			unix.Unlinkat(d.fd(), tmp, 0)
		}
		s.dirs.release(d)
	}()

	src := store.NewSource(ctx, r)
	var from io.Reader = src
	if size >= 0 {
		from = io.LimitReader(src, size+1) // one byte more shows a reader longer than size
	}
	n, err := io.Copy(f, from)
	switch {
	case src.Err() != nil:
		return store.Info{}, fmt.Errorf("put %s: read: %w", key, src.Err())
	case err != nil:
		return store.Info{}, fmt.Errorf("put %s: write %s: %w", key, tmp, err)
	case size >= 0 && n > size:
		return store.Info{}, fmt.Errorf("put %s: reader holds more than the %d bytes size says", key, size)
	case size >= 0 && n < size:
		return store.Info{}, fmt.Errorf("put %s: reader ended after %d bytes, size says %d: %w", key, n, size, io.ErrUnexpectedEOF)
	}
	// A full-precision modification time makes the ETag unique even when
	// an inode number is reused within one clock tick.
	now := unix.NsecToTimespec(time.Now().UnixNano())
	if err := unix.UtimesNanoAt(d.fd(), tmp, []unix.Timespec{now, now}, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return store.Info{}, fmt.Errorf("put %s: set time: %w", key, &fs.PathError{Op: "utimensat", Path: tmp, Err: err})
	}
	if !opts.NoSync {
		if err := s.syncFile(f); err != nil {
			return store.Info{}, fmt.Errorf("put %s: sync: %w", key, err)
		}
	}
	// The temporary file becomes the object (rename or link keep its inode,
	// size and time), so its Info is the object's.
	fi, err := f.Stat()
	if err != nil {
		return store.Info{}, fmt.Errorf("put %s: stat: %w", key, err)
	}
	info := infoOf(key, fi)
	err = f.Close()
	f = nil
	if err != nil {
		return store.Info{}, fmt.Errorf("put %s: close: %w", key, err)
	}
	if err := ctx.Err(); err != nil {
		return store.Info{}, fmt.Errorf("put %s: %w", key, err)
	}

	if err := s.commit(ctx, d, tmp, key, opts); err != nil {
		return store.Info{}, fmt.Errorf("put %s: %w", key, err)
	}
	if !opts.IfAbsent {
		tmp = "" // renamed: nothing to remove
	}
	if !opts.NoSync {
		if err := s.syncDir(dir); err != nil {
			return store.Info{}, fmt.Errorf("put %s: sync directory: %w", key, err)
		}
	}
	return info, nil
}

// checkCondition checks opts against the object now at key.
func (s *Store) checkCondition(key string, opts store.PutOptions) error {
	switch {
	case opts.IfAbsent:
		fi, err := s.root.Lstat(key)
		switch {
		case notFound(err):
			return nil
		case err != nil:
			return err
		case fi.IsDir():
			return fmt.Errorf("a directory is in the way of the object")
		}
		return fmt.Errorf("object exists: %w", store.ErrPrecondition)
	case opts.IfMatch != "":
		info, err := s.stat(key)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("no object to match ETag %q: %w", opts.IfMatch, store.ErrPrecondition)
		case err != nil:
			return err
		case info.ETag != opts.IfMatch:
			return fmt.Errorf("ETag is %q, not %q: %w", info.ETag, opts.IfMatch, store.ErrPrecondition)
		}
	}
	return nil
}

// commit moves the finished temporary file tmp of the key's directory d
// to key, under the store lock.
func (s *Store) commit(ctx context.Context, d *dir, tmp, key string, opts store.PutOptions) error {
	how := syscall.LOCK_SH
	if opts.IfMatch != "" {
		how = syscall.LOCK_EX
	}
	unlock, err := s.lock(ctx, how)
	if err != nil {
		return err
	}
	defer unlock()
	name := path.Base(key)
	switch {
	case opts.IfAbsent:
		err := unix.Linkat(d.fd(), tmp, d.fd(), name, 0)
		if errors.Is(err, fs.ErrExist) {
			return s.checkCondition(key, opts)
		}
		if err != nil {
			return &os.LinkError{Op: "linkat", Old: tmp, New: name, Err: err}
		}
		return nil
	case opts.IfMatch != "":
		if err := s.checkCondition(key, opts); err != nil {
			return err
		}
	}
	if err := unix.Renameat(d.fd(), tmp, d.fd(), name); err != nil {
		return &os.LinkError{Op: "renameat", Old: tmp, New: name, Err: err}
	}
	return nil
}

// createTemp creates a new temporary file in dir, creating dir if needed.
// It returns the directory, open (every later step of the Put works in
// it, one system call each, instead of walking the key's path again; kept
// open in s.dirs for the rest of a batch), the file, and the file's name
// in d. The caller releases d.
func (s *Store) createTemp(name string, batch bool) (d *dir, f *os.File, tmp string, err error) {
	for attempt := 0; ; attempt++ {
		d, err = s.dirs.acquire(s.root, name, batch)
		if notFound(err) && attempt < 10 {
			// A concurrent Delete may remove a parent just made, once
			// empty: try again. A concurrent Put may make the same
			// directory at the same moment (os.Root.MkdirAll then says it
			// exists): try again too; a file in the way fails the acquire.
			if err := s.root.MkdirAll(name, dirPerm); err != nil && ((!notFound(err) && !errors.Is(err, fs.ErrExist)) || attempt == 9) {
				return nil, nil, "", fmt.Errorf("create directory: %w", err)
			}
			continue
		}
		if err != nil {
			return nil, nil, "", fmt.Errorf("open directory: %w", err)
		}
		var b [12]byte
		rand.Read(b[:])
		tmp = tmpPrefix + hex.EncodeToString(b[:])
		fd, err := unix.Openat(d.fd(), tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, filePerm)
		// A concurrent Delete (or CleanTemp) may remove the directory once
		// it is empty (creating in a removed directory fails): forget it,
		// and make it again.
		if errors.Is(err, fs.ErrNotExist) && attempt < 10 {
			s.dirs.forget(d)
			s.dirs.release(d)
			continue
		}
		if err != nil {
			s.dirs.release(d)
			return nil, nil, "", fmt.Errorf("create temporary file: %w", &fs.PathError{Op: "openat", Path: tmp, Err: err})
		}
		return d, os.NewFile(uintptr(fd), path.Join(s.path, name, tmp)), tmp, nil
	}
}

func (s *Store) fsyncDir(dir string) error {
	d, err := s.root.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// lock takes the store lock, shared or exclusive (syscall.LOCK_SH or
// LOCK_EX), waiting for it as long as ctx allows. Each call opens the lock
// file anew: flock locks belong to an open file, so this excludes other
// goroutines as well as other processes.
func (s *Store) lock(ctx context.Context, how int) (unlock func(), err error) {
	f, err := s.root.OpenFile(lockName, os.O_RDWR|os.O_CREATE, filePerm)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	fd := int(f.Fd())
	wait := 100 * time.Microsecond
	for {
		err := syscall.Flock(fd, how|syscall.LOCK_NB)
		if err == nil {
			return func() {
				syscall.Flock(fd, syscall.LOCK_UN)
				f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", lockName, err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			f.Close()
			return nil, ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, 10*time.Millisecond)
	}
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
		ETag:    fmt.Sprintf("%x-%x-%x", ino, fi.Size(), fi.ModTime().UnixNano()),
	}
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
	// Best effort: Remove fails on a directory that is not empty.
	for dir := path.Dir(key); dir != "."; dir = path.Dir(dir) {
		if s.root.Remove(dir) != nil {
			break
		}
	}
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
	var out []entry
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
		// One stat in the directory; a symbolic link is followed from
		// the root, as long as it stays inside.
		fi, err := d.Lstat(name)
		if err == nil && fi.Mode()&fs.ModeSymlink != 0 {
			fi, err = w.s.root.Stat(key)
		}
		if notFound(err) {
			continue // removed while we walked, or a dangling link
		}
		if err != nil {
			if lfi, lerr := w.s.root.Lstat(key); lerr == nil && lfi.Mode()&fs.ModeSymlink != 0 {
				continue // a link leading out of the root: not an object
			}
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
