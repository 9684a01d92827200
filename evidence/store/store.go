// Package store defines the object store under the ledger: a flat namespace
// of keys ("apprentices/jdoe/items/git-….json") holding immutable-or-replaced
// byte objects. Backends live in sub-packages (fsstore: a local folder, the
// default; s3store: any S3 API) and all pass the conformance suite in
// storetest.
//
// Keys are slash-separated, relative, and never contain "..", "." or empty
// segments, a leading slash, a backslash or a NUL; ValidKey checks that and
// every backend refuses other keys with ErrInvalidKey, so no key can name a
// place outside the store. A key may not also be a prefix folder of another
// key ("a/b" and "a/b/c" cannot both exist: the folder store keeps objects
// as files); the ledger's layout never does this.
package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Errors callers branch on; test them with errors.Is.
var (
	// ErrNotFound: no object at that key.
	ErrNotFound = errors.New("object not found")
	// ErrPrecondition: a conditional write failed (the object exists for
	// IfAbsent, or its ETag differs for IfMatch).
	ErrPrecondition = errors.New("precondition failed")
	// ErrInvalidKey: the key is not a valid store key.
	ErrInvalidKey = errors.New("invalid key")
)

// Info describes one stored object.
type Info struct {
	Key     string
	Size    int64
	ModTime time.Time
	// ETag changes whenever the object is replaced with different content
	// (S3 may keep it for identical bytes); opaque, compare only for
	// equality. It is what PutOptions.IfMatch takes.
	ETag string
}

// PutOptions makes a write conditional. The zero value is an unconditional
// overwrite.
type PutOptions struct {
	// IfAbsent: write only if no object exists at the key (S3 If-None-Match: *).
	IfAbsent bool
	// IfMatch: write only if the current object's ETag equals this value.
	IfMatch string
	// NoSync lets a backend that implements Syncer return before the
	// object is durable: readers see it at once and whole, as always, but
	// it survives a power loss or kernel crash only once a later
	// Syncer.Sync has returned nil (the backend's doc says exactly what a
	// crash before that may leave). Backends whose writes are always
	// durable (S3) ignore it.
	NoSync bool
}

// Syncer is implemented by stores whose durability can be paid once per
// batch instead of once per Put (the folder store). Callers that write a
// batch with PutOptions.NoSync call Sync before anything that depends on
// the batch being durable: before writing objects that name it, before
// recording that it is done.
type Syncer interface {
	// Sync makes every object written before it was called (NoSync or
	// not) durable.
	Sync(ctx context.Context) error
}

// Sync calls s.Sync if s is a Syncer; otherwise every Put is already
// durable and it does nothing.
func Sync(ctx context.Context, s Store) error {
	if sy, ok := s.(Syncer); ok {
		return sy.Sync(ctx)
	}
	return nil
}

// Store is the object store. Implementations are safe for concurrent use by
// several goroutines and by several processes on the same store.
type Store interface {
	// Put writes the object at key, whole or not at all: a reader never sees
	// a partial object, and a failed or cancelled Put leaves the previous
	// object (or none) in place. size is the exact length of r, or -1 if
	// unknown. A failed condition gives ErrPrecondition. On success it
	// returns the new object's Info (its ETag is what a later IfMatch
	// takes), so compare-and-swap needs no extra Stat.
	Put(ctx context.Context, key string, r io.Reader, size int64, opts PutOptions) (Info, error)
	// Get opens the object at key, with its Info as of the moment it was
	// opened, in one request; ErrNotFound if there is none. The reader is
	// that version of the object even if it is replaced meanwhile. Its
	// read errors name the key. The caller closes the reader.
	Get(ctx context.Context, key string) (io.ReadCloser, Info, error)
	// Stat describes the object at key; ErrNotFound if there is none.
	Stat(ctx context.Context, key string) (Info, error)
	// List calls fn for every object whose key starts with prefix, in
	// lexical key order, in the caller's goroutine. It stops at and returns
	// the first error fn returns.
	List(ctx context.Context, prefix string, fn func(Info) error) error
	// Delete removes the object at key. Deleting a missing key is not an
	// error.
	Delete(ctx context.Context, key string) error
	// String names the store for messages (a path or s3://bucket/prefix),
	// never with credentials.
	String() string
}

// Cleaner is implemented by stores that a crashed writer can leave debris
// in: the folder store's temporary files of a Put cut short by SIGKILL or a
// power cut, which no reader ever sees but which take space. Callers test
// for it (if c, ok := s.(store.Cleaner); ok) and call it when repairing.
type Cleaner interface {
	// CleanTemp removes the temporary files whose last write is older than
	// olderThan and returns how many it removed. A Put still writing its
	// temporary file keeps it younger than any sensible grace period; one
	// whose file is removed anyway fails, and nothing stored is lost.
	// olderThan <= 0 removes every temporary file: only for a store no
	// process is writing to.
	CleanTemp(ctx context.Context, olderThan time.Duration) (int, error)
}

// ValidKey reports whether key may be used with a Store: non-empty, at most
// 1024 bytes, slash-separated with no empty, "." or ".." segment, no leading
// or trailing slash, no backslash, NUL or other control character.
func ValidKey(key string) error {
	if key == "" || len(key) > 1024 {
		return fmt.Errorf("%w %q: empty or longer than 1024 bytes", ErrInvalidKey, key)
	}
	for _, r := range key {
		if r < 0x20 || r == 0x7f || r == '\\' {
			return fmt.Errorf("%w %q: control character or backslash", ErrInvalidKey, key)
		}
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("%w %q: empty, \".\" or \"..\" segment", ErrInvalidKey, key)
		}
	}
	return nil
}

// ReadAll reads the whole object at key in one request, refusing objects
// larger than max bytes (max <= 0: no limit), and returns it with its Info.
func ReadAll(ctx context.Context, s Store, key string, max int64) ([]byte, Info, error) {
	rc, info, err := s.Get(ctx, key)
	if err != nil {
		return nil, Info{}, err
	}
	defer rc.Close()
	var r io.Reader = rc
	if max > 0 {
		r = io.LimitReader(rc, max+1)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, Info{}, err // it names the key
	}
	if max > 0 && int64(len(b)) > max {
		return nil, Info{}, fmt.Errorf("read %s: larger than %d bytes", key, max)
	}
	return b, info, nil
}

// Source wraps the data handed to Put, for backends: its reads fail once
// ctx is done, and it keeps the first read error (Err) so that a backend
// can tell the caller's failing reader from its own write error.
type Source struct {
	ctx context.Context
	r   io.Reader
	err error
}

// NewSource wraps r.
func NewSource(ctx context.Context, r io.Reader) *Source { return &Source{ctx: ctx, r: r} }

func (s *Source) Read(p []byte) (int, error) {
	if err := s.ctx.Err(); err != nil {
		s.err = err
		return 0, err
	}
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF && s.err == nil {
		s.err = err
	}
	return n, err
}

// Err is the first error reading the caller's data (or ctx's), nil if none.
func (s *Source) Err() error { return s.err }
