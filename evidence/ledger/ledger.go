// Package ledger reads and writes one apprentice's evidence in a store.Store
// under the keys of docs/ledger.md:
//
//	apprentices/<id>/items/<item-id>.json
//	apprentices/<id>/reviews/<item-id>.json
//	apprentices/<id>/blobs/sha256/<hh>/<hash>
//	apprentices/<id>/cursors/<source>.json
//	apprentices/<id>/coverage.json
//	apprentices/<id>/runs/<time>-<id>.json
//	apprentices/<id>/lock
//	standards/<catalogue-id>.yaml
//
// Blobs are content-addressed and written once, durably; an item is
// written after the blobs it names, whole or not at all (the store
// guarantees atomic puts), so a crash at any point leaves a ledger the next
// run completes. Items written in a batch (PutItemBatched) are durable once
// Sync returns; the runner saves a source's cursor only after that.
//
// The read side goes through one seam, Snapshot: every item with its
// review applied, the reviews, and the objects that could not be read,
// read with bounded concurrency and one request per object.
package ledger

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/store"
)

// MaxObject is the largest JSON object (item, review, cursor, report) the
// ledger reads; anything larger is treated as corrupt.
const MaxObject = 64 << 20

// ErrCorrupt wraps errors about a stored object that cannot be read as what
// its key says it is. The run reports and skips such objects.
var ErrCorrupt = errors.New("corrupt object")

// CorruptError names the corrupt object.
type CorruptError struct {
	Key string
	Err error
}

func (e *CorruptError) Error() string   { return fmt.Sprintf("corrupt object %s: %v", e.Key, e.Err) }
func (e *CorruptError) Unwrap() []error { return []error{ErrCorrupt, e.Err} }

var (
	slug    = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	runName = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$`)
)

// ValidName reports whether s may be used as an apprentice ID, source name
// or catalogue ID inside a key.
func ValidName(s string) bool { return slug.MatchString(s) && !strings.Contains(s, "..") }

// Ledger is one apprentice's part of a store.
type Ledger struct {
	s          store.Store
	apprentice string
	prefix     string
	encoders   encoders // for items
}

// New returns the ledger of apprentice in s. The ID must be ValidName.
func New(s store.Store, apprentice string) (*Ledger, error) {
	if !ValidName(apprentice) {
		return nil, fmt.Errorf("apprentice id %q: not a valid name", apprentice)
	}
	return &Ledger{s: s, apprentice: apprentice, prefix: "apprentices/" + apprentice + "/"}, nil
}

// Store returns the underlying store.
func (l *Ledger) Store() store.Store { return l.s }

// Apprentice returns the apprentice ID.
func (l *Ledger) Apprentice() string { return l.apprentice }

// Prefix returns "apprentices/<id>/".
func (l *Ledger) Prefix() string { return l.prefix }

// Key functions, exported for fsck and tests.
func (l *Ledger) ItemKey(id string) string   { return l.prefix + "items/" + id + ".json" }
func (l *Ledger) ReviewKey(id string) string { return l.prefix + "reviews/" + id + ".json" }
func (l *Ledger) BlobKey(sum string) string {
	return l.prefix + "blobs/sha256/" + sum[:2] + "/" + sum
}
func (l *Ledger) CursorKey(source string) string { return l.prefix + "cursors/" + source + ".json" }
func (l *Ledger) CoverageKey() string            { return l.prefix + "coverage.json" }
func (l *Ledger) RunKey(name string) string      { return l.prefix + "runs/" + name + ".json" }
func (l *Ledger) LockKey() string                { return l.prefix + "lock" }

// --- blobs ---

// PutBlob stores b content-addressed and returns its SHA-256 (hex). A blob
// already present is not written again.
func (l *Ledger) PutBlob(ctx context.Context, b []byte) (string, error) {
	sum := sha256.Sum256(b)
	h := hex.EncodeToString(sum[:])
	key := l.BlobKey(h)
	if _, err := l.s.Stat(ctx, key); err == nil {
		return h, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("stat blob %s: %w", h, err)
	}
	_, err := l.s.Put(ctx, key, bytes.NewReader(b), int64(len(b)), store.PutOptions{IfAbsent: true})
	if err != nil && !errors.Is(err, store.ErrPrecondition) {
		return "", fmt.Errorf("put blob %s: %w", h, err)
	}
	return h, nil
}

// PutBlobFile stores the file at path content-addressed, streaming it (the
// file is read twice: once to hash, once to upload). It returns the hash and
// size.
func (l *Ledger) PutBlobFile(ctx context.Context, path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, fmt.Errorf("store blob: %w", err) // a *fs.PathError names the path
	}
	defer f.Close()
	hs := sha256.New()
	n, err := io.Copy(hs, f)
	if err != nil {
		return "", 0, fmt.Errorf("hash blob: %w", err)
	}
	h := hex.EncodeToString(hs.Sum(nil))
	key := l.BlobKey(h)
	if _, err := l.s.Stat(ctx, key); err == nil {
		return h, n, nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", 0, fmt.Errorf("rewind blob: %w", err)
	}
	vr := &verifyReader{r: io.LimitReader(f, n), h: sha256.New()}
	_, err = l.s.Put(ctx, key, vr, n, store.PutOptions{IfAbsent: true})
	if err != nil && !errors.Is(err, store.ErrPrecondition) {
		return "", 0, fmt.Errorf("put blob %s: %w", h, err)
	}
	if err == nil && hex.EncodeToString(vr.h.Sum(nil)) != h {
		_ = l.s.Delete(ctx, key)
		return "", 0, fmt.Errorf("put blob from %s: file changed while it was stored", path)
	}
	return h, n, nil
}

type verifyReader struct {
	r io.Reader
	h hash.Hash
}

func (v *verifyReader) Read(p []byte) (int, error) {
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	return n, err
}

// GetBlob opens the blob with the given hash.
func (l *Ledger) GetBlob(ctx context.Context, sum string) (io.ReadCloser, error) {
	if !evidence.ValidSHA256(sum) {
		return nil, fmt.Errorf("blob %q: not a SHA-256", sum)
	}
	rc, _, err := l.s.Get(ctx, l.BlobKey(sum))
	return rc, err
}

// HasBlob reports whether the blob is stored.
func (l *Ledger) HasBlob(ctx context.Context, sum string) (bool, error) {
	if !evidence.ValidSHA256(sum) {
		return false, fmt.Errorf("blob %q: not a SHA-256", sum)
	}
	_, err := l.s.Stat(ctx, l.BlobKey(sum))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// --- items ---

// PutItem validates and stores an item, replacing any earlier version. The
// blobs it names must already be stored. The item is durable when it
// returns.
func (l *Ledger) PutItem(ctx context.Context, it *evidence.Item) error {
	_, err := l.putItem(ctx, it, store.PutOptions{})
	return err
}

// PutItemBatched is PutItem for a batch: the item is visible at once but
// durable only after the next Sync (store.PutOptions.NoSync). A crash
// before that may lose it or leave it unreadable (then reported corrupt),
// so the caller must be able to write it again: the runner saves a
// source's cursor only after Sync. It returns the ETag of the stored
// version, as ListItems lists it until the item is written again.
func (l *Ledger) PutItemBatched(ctx context.Context, it *evidence.Item) (etag string, err error) {
	info, err := l.putItem(ctx, it, store.PutOptions{NoSync: true})
	return info.ETag, err
}

// Sync makes everything stored so far durable (store.Sync).
func (l *Ledger) Sync(ctx context.Context) error {
	if err := store.Sync(ctx, l.s); err != nil {
		return fmt.Errorf("sync ledger: %w", err)
	}
	return nil
}

func (l *Ledger) putItem(ctx context.Context, it *evidence.Item, opts store.PutOptions) (store.Info, error) {
	it.Normalize()
	if it.Apprentice != l.apprentice {
		return store.Info{}, fmt.Errorf("put item %s: belongs to apprentice %q, not %q", it.ID, it.Apprentice, l.apprentice)
	}
	if err := it.Validate(); err != nil {
		return store.Info{}, fmt.Errorf("put item %s: %w", it.ID, err)
	}
	enc := l.encoders.get()
	defer l.encoders.put(enc)
	b, err := enc.encodeItem(it)
	if err != nil {
		return store.Info{}, fmt.Errorf("encode item %s: %w", it.ID, err)
	}
	info, err := l.s.Put(ctx, l.ItemKey(it.ID), bytes.NewReader(b), int64(len(b)), opts)
	if err != nil {
		return store.Info{}, fmt.Errorf("put item %s: %w", it.ID, err)
	}
	return info, nil
}

// GetItem reads one item: store.ErrNotFound if absent, a *CorruptError if
// it cannot be decoded or does not validate.
func (l *Ledger) GetItem(ctx context.Context, id string) (*evidence.Item, error) {
	if !evidence.ValidID(id) {
		return nil, fmt.Errorf("item %q: %w", id, store.ErrNotFound)
	}
	return l.readItem(ctx, l.ItemKey(id))
}

func (l *Ledger) readItem(ctx context.Context, key string) (*evidence.Item, error) {
	it, _, err := l.readItemInfo(ctx, key)
	return it, err
}

// readItemInfo is readItem that also returns the Info of the version read.
func (l *Ledger) readItemInfo(ctx context.Context, key string) (*evidence.Item, store.Info, error) {
	b, info, err := store.ReadAll(ctx, l.s, key, MaxObject)
	if err != nil {
		return nil, info, err
	}
	var it evidence.Item
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&it); err != nil {
		return nil, info, &CorruptError{Key: key, Err: fmt.Errorf("decode: %w", err)}
	}
	if err := it.Validate(); err != nil {
		return nil, info, &CorruptError{Key: key, Err: err}
	}
	if want := l.ItemKey(it.ID); want != key {
		return nil, info, &CorruptError{Key: key, Err: fmt.Errorf("holds item %s", it.ID)}
	}
	it.Normalize()
	return &it, info, nil
}

// Items reads every stored item, DefaultConcurrency at a time. Corrupt
// items are not returned; each is passed to onCorrupt (which may be nil),
// in key order, and reading goes on.
func (l *Ledger) Items(ctx context.Context, onCorrupt func(error)) ([]*evidence.Item, error) {
	return l.items(ctx, DefaultConcurrency, onCorrupt)
}

// --- small JSON objects ---

func (l *Ledger) getJSON(ctx context.Context, key string, v any) (store.Info, error) {
	b, info, err := store.ReadAll(ctx, l.s, key, MaxObject)
	if err != nil {
		return info, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return info, &CorruptError{Key: key, Err: fmt.Errorf("decode: %w", err)}
	}
	return info, nil
}

func (l *Ledger) putJSON(ctx context.Context, key string, v any, opts store.PutOptions) (store.Info, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return store.Info{}, fmt.Errorf("encode %s: %w", key, err)
	}
	b = append(b, '\n')
	return l.s.Put(ctx, key, bytes.NewReader(b), int64(len(b)), opts)
}

// Review reads the review of an item; nil (no error) if there is none.
func (l *Ledger) Review(ctx context.Context, id string) (*evidence.Review, error) {
	r, _, err := l.review(ctx, id)
	return r, err
}

func (l *Ledger) review(ctx context.Context, id string) (*evidence.Review, string, error) {
	var r evidence.Review
	info, err := l.getJSON(ctx, l.ReviewKey(id), &r)
	if errors.Is(err, store.ErrNotFound) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	return &r, info.ETag, nil
}

// Reviews reads every stored review, keyed by item ID, DefaultConcurrency
// at a time. Corrupt reviews go to onCorrupt, in key order.
func (l *Ledger) Reviews(ctx context.Context, onCorrupt func(error)) (map[string]*evidence.Review, error) {
	return l.reviews(ctx, DefaultConcurrency, onCorrupt)
}

// AddDecision appends a decision to an item's review, safely against
// concurrent reviewers (compare-and-swap on the stored object), and
// idempotently: a decision whose ID is already stored is not appended
// again, so a write that landed although its response was lost (or that the
// client retried) counts once. A decision without an ID gets a random one.
func (l *Ledger) AddDecision(ctx context.Context, id string, d evidence.Decision) (*evidence.Review, error) {
	if d.ID == "" {
		d.ID = evidence.NewDecisionID()
	}
	var lastErr error
	for attempt := 0; attempt < 20; attempt++ {
		r, etag, err := l.review(ctx, id)
		if err != nil {
			return nil, err
		}
		if r != nil {
			for _, have := range r.Decisions {
				if have.ID == d.ID {
					return r, nil // already recorded
				}
			}
		}
		if lastErr != nil {
			return nil, lastErr // not recorded: the write failed
		}
		opts := store.PutOptions{IfMatch: etag}
		if r == nil {
			r = &evidence.Review{Schema: evidence.SchemaVersion, Item: id}
			opts = store.PutOptions{IfAbsent: true}
		}
		r.Decisions = append(r.Decisions, d)
		_, err = l.putJSON(ctx, l.ReviewKey(id), r, opts)
		if err == nil {
			return r, nil
		}
		if !errors.Is(err, store.ErrPrecondition) {
			// Did it land? Read again; if not, fail with this error.
			lastErr = fmt.Errorf("put review of %s: %w", id, err)
		}
	}
	return nil, fmt.Errorf("put review of %s: too many concurrent writers", id)
}

// Cursor reads the stored cursor of a source; nil if none.
func (l *Ledger) Cursor(ctx context.Context, source string) (json.RawMessage, error) {
	if !ValidName(source) {
		return nil, fmt.Errorf("source name %q: not a valid name", source)
	}
	var raw json.RawMessage
	_, err := l.getJSON(ctx, l.CursorKey(source), &raw)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return raw, err
}

// PutCursor stores the cursor of a source.
func (l *Ledger) PutCursor(ctx context.Context, source string, c json.RawMessage) error {
	if !ValidName(source) {
		return fmt.Errorf("source name %q: not a valid name", source)
	}
	if len(c) == 0 {
		return nil
	}
	if !json.Valid(c) {
		return fmt.Errorf("cursor of %s: not JSON", source)
	}
	_, err := l.putJSON(ctx, l.CursorKey(source), c, store.PutOptions{})
	return err
}

// PutCoverage stores the latest coverage summary (any JSON-encodable value).
func (l *Ledger) PutCoverage(ctx context.Context, v any) error {
	_, err := l.putJSON(ctx, l.CoverageKey(), v, store.PutOptions{})
	return err
}

// PutRun stores a run report under runs/<name>.json.
func (l *Ledger) PutRun(ctx context.Context, name string, v any) error {
	if !runName.MatchString(name) {
		return fmt.Errorf("run name %q: not a valid name", name)
	}
	_, err := l.putJSON(ctx, l.RunKey(name), v, store.PutOptions{})
	return err
}

// LastRun returns the key of the newest run report, "" if none.
func (l *Ledger) LastRun(ctx context.Context) (string, error) {
	last := ""
	err := l.s.List(ctx, l.prefix+"runs/", func(in store.Info) error { last = in.Key; return nil })
	return last, err
}
