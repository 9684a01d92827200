package maintain

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ksbfolio/ksbfolio/evidence/ledger"
	"github.com/ksbfolio/ksbfolio/evidence/store"
)

// RecollectHint is the command that collects again what the cursors are
// already past (a quarantined item, a missing artefact).
const RecollectHint = "run `ksbfolio run --full`"

// Problem is one thing fsck found.
type Problem struct {
	Kind     string `json:"kind"` // corrupt_item, missing_blob, bad_blob, orphan_blob, corrupt_review, corrupt_cursor, stale_lease, stray_object, temp_files
	Key      string `json:"key"`
	Detail   string `json:"detail"`
	Repaired string `json:"repaired,omitempty"` // what --repair did
	// Pending says why the problem is left alone for now (an orphan blob
	// younger than the grace period); it does not count as unrepaired.
	Pending string `json:"pending,omitempty"`
}

// FsckResult is what Fsck found.
type FsckResult struct {
	Items    int       `json:"items"`
	Blobs    int       `json:"blobs"`
	Reviews  int       `json:"reviews"`
	Problems []Problem `json:"problems"`
}

// Unrepaired counts problems left as they are.
func (r FsckResult) Unrepaired() int {
	n := 0
	for _, p := range r.Problems {
		if p.Repaired == "" && p.Pending == "" {
			n++
		}
	}
	return n
}

// DefaultGrace is how old an orphan blob or a temporary file must be
// before fsck --repair deletes it: younger ones may belong to a write in
// progress (a run that stalled past its lease, whose item is not written
// yet).
const DefaultGrace = time.Hour

// FsckOptions choose what Fsck does.
type FsckOptions struct {
	Repair bool
	// Grace: orphan blobs and temporary files younger than this are kept
	// (reported as pending, not as problems).
	Grace time.Duration
	// Lease: how --repair holds the apprentice's lease (Ledger.Hold).
	Lease ledger.HoldOptions
}

// Fsck checks an apprentice's ledger: items that cannot be read, items
// whose blobs are missing, blobs whose content does not match their hash,
// orphan blobs no item names, unreadable reviews and cursors, and a stale
// lease (LeaseInfo.Stale: its holder's process is gone, or it expired).
// With Repair it holds the lease itself (taking a stale one over; it fails
// with a *ledger.HeldError while a live run holds it), moves unreadable
// objects to quarantine/ (nothing is deleted that might be evidence),
// deletes orphan blobs and the temporary files a killed writer left, if
// they are older than Grace. Missing blobs cannot be repaired here: the
// item's source must be collected again.
func Fsck(ctx context.Context, l *ledger.Ledger, o FsckOptions) (res FsckResult, err error) {
	res = FsckResult{Problems: []Problem{}}
	s := l.Store()
	p := l.Prefix()
	now := o.Lease.Now
	if now == nil {
		now = time.Now
	}

	stale := -1
	if info, ok, err := l.ReadLease(ctx); err != nil && !errors.Is(err, ledger.ErrCorrupt) {
		return res, err
	} else if err != nil {
		res.Problems = append(res.Problems, Problem{Kind: "stale_lease", Key: l.LockKey(), Detail: "unreadable lock: " + err.Error()})
		stale = len(res.Problems) - 1
	} else if why := info.Stale(now()); ok && why != "" {
		res.Problems = append(res.Problems, Problem{Kind: "stale_lease", Key: l.LockKey(), Detail: "left by " + info.Holder() + ": " + why})
		stale = len(res.Problems) - 1
	}
	if o.Repair {
		var release func() error
		ctx, release, err = l.Hold(ctx, o.Lease)
		if err != nil {
			return res, err
		}
		defer func() {
			if lost := release(); lost != nil {
				err = lost
			}
		}()
		if stale >= 0 {
			res.Problems[stale].Repaired = "taken over and released"
		}
		if c, ok := s.(store.Cleaner); ok {
			n, err := c.CleanTemp(ctx, o.Grace)
			if err != nil {
				return res, fmt.Errorf("remove temporary files: %w", err)
			}
			if n > 0 {
				res.Problems = append(res.Problems, Problem{Kind: "temp_files", Key: "",
					Detail: fmt.Sprintf("%d temporary files left by a killed writer", n), Repaired: "deleted"})
			}
		}
	}

	referenced := map[string]bool{}
	items, err := l.Items(ctx, res.corrupt("corrupt_item"))
	if err != nil {
		return res, err
	}
	res.Items = len(items)
	for _, it := range items {
		for _, a := range it.Artefacts {
			referenced[a.SHA256] = true
			ok, err := l.HasBlob(ctx, a.SHA256)
			if err != nil {
				return res, err
			}
			if !ok {
				res.Problems = append(res.Problems, Problem{Kind: "missing_blob", Key: l.BlobKey(a.SHA256),
					Detail: fmt.Sprintf("item %s names artefact %s, which is not stored; collect its source again (%s)", it.ID, a.Name, RecollectHint)})
			}
		}
	}
	// Blobs: verify each against its hash, find orphans.
	var blobs []store.Info
	if err := s.List(ctx, p+"blobs/", func(in store.Info) error { blobs = append(blobs, in); return nil }); err != nil {
		return res, fmt.Errorf("list blobs: %w", err)
	}
	for _, in := range blobs {
		res.Blobs++
		sum := in.Key[strings.LastIndex(in.Key, "/")+1:]
		if in.Key != l.BlobKey(sum) {
			res.Problems = append(res.Problems, Problem{Kind: "stray_object", Key: in.Key, Detail: "not a blob key"})
			continue
		}
		got, err := hashObject(ctx, s, in.Key)
		if err != nil {
			return res, err
		}
		if got != sum {
			pr := Problem{Kind: "bad_blob", Key: in.Key, Detail: "content hashes to " + got}
			if o.Repair {
				if err := quarantine(ctx, l, in.Key); err != nil {
					return res, err
				}
				pr.Repaired = "moved to quarantine/"
			}
			res.Problems = append(res.Problems, pr)
			continue
		}
		if !referenced[sum] {
			pr := Problem{Kind: "orphan_blob", Key: in.Key, Detail: "no item names it (left by an interrupted run, or its item was replaced)"}
			if age := now().Sub(in.ModTime); age < o.Grace {
				pr.Pending = fmt.Sprintf("kept: %s old, younger than the %s grace period (a run may be writing its item)", age.Round(time.Second), o.Grace)
			} else if o.Repair {
				if err := s.Delete(ctx, in.Key); err != nil {
					return res, err
				}
				pr.Repaired = "deleted"
			}
			res.Problems = append(res.Problems, pr)
		}
	}
	reviews, err := l.Reviews(ctx, res.corrupt("corrupt_review"))
	if err != nil {
		return res, err
	}
	res.Reviews = len(reviews)
	var cursors []string
	if err := s.List(ctx, p+"cursors/", func(in store.Info) error { cursors = append(cursors, in.Key); return nil }); err != nil {
		return res, err
	}
	for _, k := range cursors {
		name := strings.TrimSuffix(strings.TrimPrefix(k, p+"cursors/"), ".json")
		if _, err := l.Cursor(ctx, name); err != nil {
			res.Problems = append(res.Problems, Problem{Kind: "corrupt_cursor", Key: k, Detail: err.Error() + " (the next run collects that source from the start)"})
		}
	}
	if o.Repair {
		for i, pr := range res.Problems {
			if pr.Repaired != "" || pr.Key == "" {
				continue
			}
			switch pr.Kind {
			case "corrupt_item", "corrupt_review", "corrupt_cursor":
				if err := quarantine(ctx, l, pr.Key); err != nil {
					return res, err
				}
				res.Problems[i].Repaired = "moved to quarantine/"
				if pr.Kind == "corrupt_item" {
					// The cursor is past it: only a full run collects it again.
					res.Problems[i].Repaired += "; " + RecollectHint + " to collect it again"
				}
			}
		}
	}
	return res, nil
}

// corrupt returns a callback that records unreadable objects as problems
// of the given kind.
func (r *FsckResult) corrupt(kind string) func(error) {
	return func(e error) {
		var ce *ledger.CorruptError
		key := ""
		if errors.As(e, &ce) {
			key = ce.Key
		}
		r.Problems = append(r.Problems, Problem{Kind: kind, Key: key, Detail: e.Error()})
	}
}

func hashObject(ctx context.Context, s store.Store, key string) (string, error) {
	rc, _, err := s.Get(ctx, key)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	h := sha256.New()
	if _, err := io.Copy(h, rc); err != nil {
		return "", fmt.Errorf("read %s: %w", key, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// quarantine moves an object to apprentices/<id>/quarantine/<rest of key>,
// so an unreadable object is out of the way but not lost.
func quarantine(ctx context.Context, l *ledger.Ledger, key string) error {
	b, _, err := store.ReadAll(ctx, l.Store(), key, 0)
	if err != nil {
		return err
	}
	dst := l.Prefix() + "quarantine/" + strings.TrimPrefix(key, l.Prefix())
	if _, err := l.Store().Put(ctx, dst, bytes.NewReader(b), int64(len(b)), store.PutOptions{}); err != nil {
		return fmt.Errorf("quarantine %s: %w", key, err)
	}
	return l.Store().Delete(ctx, key)
}
