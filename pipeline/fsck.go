package pipeline

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
	Kind     string `json:"kind"` // corrupt_item, missing_blob, bad_blob, orphan_blob, corrupt_review, corrupt_cursor, stale_lease, stray_object
	Key      string `json:"key"`
	Detail   string `json:"detail"`
	Repaired string `json:"repaired,omitempty"` // what --repair did
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
		if p.Repaired == "" {
			n++
		}
	}
	return n
}

// Fsck checks an apprentice's ledger: items that cannot be read, items
// whose blobs are missing, blobs whose content does not match their hash,
// orphan blobs no item names, unreadable reviews and cursors, and a stale
// lease. With repair it moves unreadable objects to quarantine/ (nothing is
// deleted that might be evidence), deletes orphan blobs and stale leases.
// Missing blobs cannot be repaired here: the item's source must be
// collected again. Run it with repair only while no run is going on (it
// takes the lease itself).
func Fsck(ctx context.Context, l *ledger.Ledger, repair bool, acquire func() (*ledger.Lease, error)) (FsckResult, error) {
	res := FsckResult{Problems: []Problem{}}
	s := l.Store()
	p := l.Prefix()

	if info, ok, err := l.ReadLease(ctx); err != nil && !errors.Is(err, ledger.ErrCorrupt) {
		return res, err
	} else if errors.Is(err, ledger.ErrCorrupt) || (ok && leaseExpired(info)) {
		pr := Problem{Kind: "stale_lease", Key: l.LockKey(), Detail: "lease of a run that stopped renewing it"}
		if ok {
			pr.Detail = "left by " + info.Holder() + ", expired " + info.Expires.Format("2006-01-02 15:04:05Z07:00")
		}
		if repair {
			if err := s.Delete(ctx, l.LockKey()); err != nil {
				return res, err
			}
			pr.Repaired = "deleted"
		}
		res.Problems = append(res.Problems, pr)
	}
	var lease *ledger.Lease
	if repair && acquire != nil {
		var err error
		if lease, err = acquire(); err != nil {
			return res, err
		}
		defer lease.Release(context.WithoutCancel(ctx))
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
			if repair {
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
			if repair {
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
	if repair {
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

func leaseExpired(info ledger.LeaseInfo) bool {
	return !info.Expires.IsZero() && info.Expires.Before(time.Now())
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
