package fsstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ksbfolio/ksbfolio/evidence/store"
)

// What a Store has found out about a way of writing that the filesystem
// or kernel may refuse (Store.tmpfile: unnamed files; Store.emptyPath:
// linking them on their descriptor; see Atomicity).
const (
	untried int32 = iota // not tried yet
	works                // works here
	refused              // refused here: the fallback is used
)

// pending is the data of a Put on its way to the key: the open file f in
// the key's directory d, either unnamed (tmp is "") or named tmp in d.
type pending struct {
	d     *dir
	f     *os.File
	tmp   string
	batch bool // a NoSync Put: d is kept open for the batch
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
	p, err := s.create(dir, opts.NoSync)
	if err != nil {
		return store.Info{}, fmt.Errorf("put %s: %w", key, err)
	}
	defer s.discard(p)

	src := store.NewSource(ctx, r)
	var n int64
	if br, ok := r.(*bytes.Reader); ok && size >= 0 && int64(br.Len()) == size && ctx.Err() == nil {
		// Data in memory, as the ledger's items are, goes in one write,
		// without a copy buffer.
		n, err = br.WriteTo(p.f)
	} else {
		var from io.Reader = src
		if size >= 0 {
			from = io.LimitReader(src, size+1) // one byte more shows a reader longer than size
		}
		n, err = io.Copy(p.f, from)
	}
	switch {
	case src.Err() != nil:
		return store.Info{}, fmt.Errorf("put %s: read: %w", key, src.Err())
	case err != nil:
		return store.Info{}, fmt.Errorf("put %s: %w", key, err) // a *fs.PathError naming the file
	case size >= 0 && n > size:
		return store.Info{}, fmt.Errorf("put %s: reader holds more than the %d bytes size says", key, size)
	case size >= 0 && n < size:
		return store.Info{}, fmt.Errorf("put %s: reader ended after %d bytes, size says %d: %w", key, n, size, io.ErrUnexpectedEOF)
	}
	// A full-precision modification time makes the ETag unique even when
	// an inode number is reused within one clock tick.
	if err := futimens(p.f, time.Now()); err != nil {
		return store.Info{}, fmt.Errorf("put %s: set time: %w", key, err)
	}
	if !opts.NoSync {
		if err := s.syncFile(p.f); err != nil {
			return store.Info{}, fmt.Errorf("put %s: sync: %w", key, err)
		}
	}
	// The file becomes the object (link and rename keep its inode, size
	// and time), so its Info is the object's.
	fi, err := p.f.Stat()
	if err != nil {
		return store.Info{}, fmt.Errorf("put %s: stat: %w", key, err)
	}
	info := infoOf(key, fi)
	if p.tmp != "" {
		// A named file is done with; an unnamed one is linked through
		// its descriptor, closed after.
		if err := s.closeFile(p); err != nil {
			return store.Info{}, fmt.Errorf("put %s: close: %w", key, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return store.Info{}, fmt.Errorf("put %s: %w", key, err)
	}

	if err := s.commit(ctx, p, key, opts); err != nil {
		return store.Info{}, fmt.Errorf("put %s: %w", key, err)
	}
	if p.f != nil {
		if err := s.closeFile(p); err != nil {
			return store.Info{}, fmt.Errorf("put %s: close: %w", key, err)
		}
	}
	if opts.NoSync {
		s.writeback.wrote(s, n)
	} else if err := s.syncDir(dir); err != nil {
		return store.Info{}, fmt.Errorf("put %s: sync directory: %w", key, err)
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

// commit gives the finished file of p the key's name, under the store
// lock: exclusive for IfMatch (compare, then rename), shared otherwise.
func (s *Store) commit(ctx context.Context, p *pending, key string, opts store.PutOptions) error {
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
	if opts.IfMatch != "" {
		if err := s.checkCondition(key, opts); err != nil {
			return err
		}
	}
	if p.tmp != "" { // a named temporary file
		if opts.IfAbsent {
			return s.linkIfAbsent(key, func() error {
				if err := unix.Linkat(p.d.fd(), p.tmp, p.d.fd(), name, 0); err != nil {
					return &os.LinkError{Op: "linkat", Old: p.tmp, New: name, Err: err}
				}
				return nil // the temporary name is removed by discard
			})
		}
		return s.rename(p, name)
	}
	switch {
	case opts.IfAbsent:
		return s.linkIfAbsent(key, func() error { return s.link(p, name) })
	case opts.IfMatch == "":
		err := s.link(p, name)
		if !errors.Is(err, fs.ErrExist) {
			return err // linked, or failed
		}
		// Something is at the name: replace it, as below.
	}
	// rename(2) is the one call that replaces a name at once, and it
	// needs a name to move: give the file a temporary one first.
	if err := s.link(p, tmpName()); err != nil {
		return err
	}
	return s.rename(p, name)
}

// linkIfAbsent calls link, which gives the file the key's name unless
// something has it, until it succeeds or fails for another reason than
// fs.ErrExist, or checkCondition finds the key taken.
func (s *Store) linkIfAbsent(key string, link func() error) error {
	for range 10 {
		err := link()
		if !errors.Is(err, fs.ErrExist) {
			return err
		}
		if err := s.checkCondition(key, store.PutOptions{IfAbsent: true}); err != nil {
			return err
		}
		// Removed meanwhile (a concurrent Delete): try again.
	}
	return fmt.Errorf("object exists: %w", store.ErrPrecondition)
}

// link gives the unnamed file of p the name in its directory with
// linkat(2): on the descriptor itself (AT_EMPTY_PATH, which Linux 6.10 and
// later allow for a file the caller opened, and older kernels only with
// CAP_DAC_READ_SEARCH), else from /proc/self/fd/N, AT_SYMLINK_FOLLOW (what
// open(2) documents for O_TMPFILE), which costs a path lookup through
// /proc. The first refusal of AT_EMPTY_PATH is remembered (s.emptyPath).
// An existing name, of anything, fails with fs.ErrExist. If the directory
// was removed since it was opened (an unnamed file does not keep it from
// being empty, and a Delete removes directories it empties), it is made
// again and the file linked there. When name is a temporary name, p.tmp
// is set to it.
func (s *Store) link(p *pending, name string) error {
	for attempt := 0; ; attempt++ {
		err := s.linkat(p, name)
		if errors.Is(err, unix.ENOENT) && attempt < 10 && removed(p.d) {
			d, err := s.openDir(p.d.name, p.batch)
			if err != nil {
				return err
			}
			s.dirs.forget(p.d)
			s.dirs.release(p.d)
			p.d = d
			continue
		}
		if err != nil {
			return &os.LinkError{Op: "linkat", Old: p.f.Name(), New: name, Err: err}
		}
		if strings.HasPrefix(name, tmpPrefix) {
			p.tmp = name
		}
		return nil
	}
}

// linkat is one linkat(2) of link: AT_EMPTY_PATH unless s.emptyPath says
// it is refused here, then from /proc. ENOENT is how the kernel refuses
// AT_EMPTY_PATH, and also what a removed directory gives: the first is
// told apart by the /proc link succeeding (or failing otherwise than
// with ENOENT) where AT_EMPTY_PATH did not.
func (s *Store) linkat(p *pending, name string) error {
	fd := int(p.f.Fd())
	if s.emptyPath.Load() != refused {
		err := unix.Linkat(fd, "", p.d.fd(), name, unix.AT_EMPTY_PATH)
		if !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.EPERM) && !errors.Is(err, unix.EINVAL) {
			if err == nil {
				s.emptyPath.Store(works)
			}
			return err
		}
		if s.emptyPath.Load() == works && errors.Is(err, unix.ENOENT) {
			return err // it works here: the directory is gone
		}
		viaProc := unix.Linkat(unix.AT_FDCWD, procFD(fd), p.d.fd(), name, unix.AT_SYMLINK_FOLLOW)
		if !errors.Is(viaProc, unix.ENOENT) {
			s.emptyPath.Store(refused) // refused, where /proc is not
		}
		return viaProc
	}
	return unix.Linkat(unix.AT_FDCWD, procFD(fd), p.d.fd(), name, unix.AT_SYMLINK_FOLLOW)
}

// rename moves the temporary file of p over name.
func (s *Store) rename(p *pending, name string) error {
	if err := unix.Renameat(p.d.fd(), p.tmp, p.d.fd(), name); err != nil {
		return &os.LinkError{Op: "renameat", Old: p.tmp, New: name, Err: err}
	}
	p.tmp = "" // nothing left to remove
	return nil
}

// create opens a new file for a Put's data in the directory name,
// creating the directory if needed: unnamed if the filesystem allows
// (O_TMPFILE; the answer is remembered in s.tmpfile), else with a
// temporary name. The caller discards the result.
func (s *Store) create(name string, batch bool) (*pending, error) {
	for attempt := 0; ; attempt++ {
		d, err := s.openDir(name, batch)
		if err != nil {
			return nil, err
		}
		p := &pending{d: d, batch: batch}
		// A concurrent Delete (or CleanTemp) may remove the directory once
		// it is empty (creating in a removed directory fails): forget it,
		// and make it again. An unnamed file does not keep the directory
		// from being empty, a named one does: when Deletes keep emptying
		// it, try with a named one.
		err = s.createIn(p, attempt == 0)
		if errors.Is(err, fs.ErrNotExist) && attempt < 10 {
			s.dirs.forget(d)
			s.dirs.release(d)
			continue
		}
		if err != nil {
			s.dirs.release(d)
			return nil, err
		}
		return p, nil
	}
}

// createIn opens the file of p in p.d, unnamed if unnamed and s can.
func (s *Store) createIn(p *pending, unnamed bool) error {
	dirPath := path.Join(s.path, p.d.name)
	if unnamed && s.tmpfile.Load() != refused {
		fd, err := unix.Openat(p.d.fd(), ".", unix.O_TMPFILE|unix.O_WRONLY|unix.O_CLOEXEC, filePerm)
		switch {
		case err == nil:
			if s.tmpfile.Load() == works || s.procWorks(fd) {
				p.f = os.NewFile(uintptr(fd), path.Join(dirPath, "(unnamed file)"))
				return nil
			}
			unix.Close(fd)
		case errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EISDIR) || errors.Is(err, unix.EINVAL):
			// No O_TMPFILE on this filesystem (EOPNOTSUPP) or kernel
			// (older ones take the flag for O_DIRECTORY: EISDIR).
			s.tmpfile.Store(refused)
		case removed(p.d):
			// ext4 refuses an unnamed file in a removed directory with
			// EPERM: say what it means, for create to make it again.
			return fmt.Errorf("create file: %w", &fs.PathError{Op: "openat O_TMPFILE", Path: dirPath, Err: fs.ErrNotExist})
		default:
			return fmt.Errorf("create file: %w", &fs.PathError{Op: "openat O_TMPFILE", Path: dirPath, Err: err})
		}
	}
	tmp := tmpName()
	fd, err := unix.Openat(p.d.fd(), tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, filePerm)
	if err != nil {
		return fmt.Errorf("create temporary file: %w", &fs.PathError{Op: "openat", Path: path.Join(dirPath, tmp), Err: err})
	}
	p.f, p.tmp = os.NewFile(uintptr(fd), path.Join(dirPath, tmp)), tmp
	return nil
}

// procWorks reports whether /proc/self/fd/fd names the open file fd, as
// link needs, and remembers the answer in s.tmpfile: once per Store.
func (s *Store) procWorks(fd int) bool {
	var viaProc, st unix.Stat_t
	ok := unix.Stat(procFD(fd), &viaProc) == nil && unix.Fstat(fd, &st) == nil &&
		viaProc.Dev == st.Dev && viaProc.Ino == st.Ino
	if ok {
		s.tmpfile.Store(works)
	} else {
		s.tmpfile.Store(refused)
	}
	return ok
}

// discard ends a Put: it closes its file if still open, removes its
// temporary name if it has one, and releases its directory.
func (s *Store) discard(p *pending) {
	if p.f != nil {
		p.f.Close()
	}
	if p.tmp != "" {
		unix.Unlinkat(p.d.fd(), p.tmp, 0)
	}
	s.dirs.release(p.d)
}

func (s *Store) closeFile(p *pending) error {
	err := p.f.Close()
	p.f = nil
	return err
}

// openDir returns the directory name, open (see dirs), making it if
// missing. The caller releases it.
func (s *Store) openDir(name string, batch bool) (*dir, error) {
	for attempt := 0; ; attempt++ {
		d, err := s.dirs.acquire(s.root, name, batch)
		if notFound(err) && attempt < 10 {
			// A concurrent Delete may remove a parent just made, once
			// empty: try again. A concurrent Put may make the same
			// directory at the same moment (os.Root.MkdirAll then says it
			// exists): try again too; a file in the way fails the acquire.
			if err := s.root.MkdirAll(name, dirPerm); err != nil && ((!notFound(err) && !errors.Is(err, fs.ErrExist)) || attempt == 9) {
				return nil, fmt.Errorf("create directory: %w", err)
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("open directory: %w", err)
		}
		return d, nil
	}
}

// removed reports whether the open directory d has been removed.
func removed(d *dir) bool {
	var st unix.Stat_t
	return unix.Fstat(d.fd(), &st) == nil && st.Nlink == 0
}

func tmpName() string {
	var b [12]byte
	rand.Read(b[:])
	return tmpPrefix + hex.EncodeToString(b[:])
}

// procFD is the /proc path naming the open file fd.
func procFD(fd int) string { return "/proc/self/fd/" + strconv.Itoa(fd) }

// futimens sets the access and modification times of f to t, to the
// nanosecond: utimensat(2) on the descriptor (a NULL path), not a name.
func futimens(f *os.File, t time.Time) error {
	ts := unix.NsecToTimespec(t.UnixNano())
	times := [2]unix.Timespec{ts, ts}
	_, _, e := unix.Syscall6(unix.SYS_UTIMENSAT, f.Fd(), 0, uintptr(unsafe.Pointer(&times)), 0, 0, 0)
	if e != 0 {
		return &fs.PathError{Op: "futimens", Path: f.Name(), Err: e}
	}
	return nil
}
