package ledger

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/store"
)

// ItemVersion names one stored version of an item: the item's ID and the
// ETag of its object. The ETag changes whenever the item is written again
// (by any writer), so a summary of an item kept beside its ETag is known
// to be current while ListItems lists the same ETag.
type ItemVersion struct {
	ID   string
	ETag string
}

// ItemListing is one List of a ledger's items folder: every key under
// items/ with its ETag, in key order, as ListItems took it.
type ItemListing struct {
	prefix string // the items folder's key prefix
	keys   []string
	etags  []string
}

// ListItems lists the items folder with one List and no Get.
func (l *Ledger) ListItems(ctx context.Context) (*ItemListing, error) {
	li := &ItemListing{prefix: l.prefix + "items/"}
	err := l.s.List(ctx, li.prefix, func(in store.Info) error {
		li.keys = append(li.keys, in.Key)
		li.etags = append(li.etags, in.ETag)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list items: %w", err)
	}
	return li, nil
}

// Versions returns the listed items with their ETags, in key order,
// leaving out keys that are not an item's key (Snapshot reports them as
// corrupt).
func (li *ItemListing) Versions() []ItemVersion {
	out := make([]ItemVersion, 0, len(li.keys))
	for i, k := range li.keys {
		if id, ok := li.id(k); ok && evidence.ValidID(id) {
			out = append(out, ItemVersion{ID: id, ETag: li.etags[i]})
		}
	}
	return out
}

// id returns the item ID key names, if it is a .json key in the folder.
func (li *ItemListing) id(key string) (string, bool) {
	return strings.CutSuffix(strings.TrimPrefix(key, li.prefix), ".json")
}

// GetItemVersion is GetItem that also returns the ETag of the version it
// read.
func (l *Ledger) GetItemVersion(ctx context.Context, id string) (*evidence.Item, string, error) {
	if !evidence.ValidID(id) {
		return nil, "", fmt.Errorf("item %q: %w", id, store.ErrNotFound)
	}
	it, info, err := l.readItemInfo(ctx, l.ItemKey(id))
	if err != nil {
		return nil, "", err
	}
	return it, info.ETag, nil
}

// Versioned is an item as read, with the ETag of the version read.
type Versioned struct {
	Item *evidence.Item
	ETag string
}

// GetItemVersions reads the items ids names (GetItemVersion), at most
// DefaultConcurrency at once, and returns them in the order of ids. An item
// deleted since it was listed, or that cannot be decoded (Snapshot reports
// it as corrupt), is left out; any other error ends the read and is
// returned.
func (l *Ledger) GetItemVersions(ctx context.Context, ids []string) ([]Versioned, error) {
	got := make([]Versioned, len(ids))
	err := readEach(ctx, 0, ids, func(ctx context.Context, i int, id string) error {
		it, etag, err := l.GetItemVersion(ctx, id)
		switch {
		case err == nil:
			got[i] = Versioned{it, etag}
		case errors.Is(err, store.ErrNotFound), errors.Is(err, ErrCorrupt):
		default:
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := got[:0]
	for _, v := range got {
		if v.Item != nil {
			out = append(out, v)
		}
	}
	return out, nil
}

// IndexKey is the key of the index called name:
// apprentices/<id>/index/<name>.json. An index is a cache the pipeline
// derives from the items (the link step's summary of every item, for
// one): nothing is lost when it is missing, stale or unreadable, since it
// is rebuilt from the items, and its holder checks each entry against the
// items (ListItems) before trusting it.
func (l *Ledger) IndexKey(name string) string { return l.prefix + "index/" + name + ".json" }

// Index decodes the index called name into v. found is false (and err
// nil) when there is none; a *CorruptError when it cannot be decoded.
func (l *Ledger) Index(ctx context.Context, name string, v any) (found bool, err error) {
	if !ValidName(name) {
		return false, fmt.Errorf("index name %q: not a valid name", name)
	}
	_, err = l.getJSON(ctx, l.IndexKey(name), v)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// PutIndex stores v (compact JSON) as the index called name. It is
// written without waiting for it to be durable (store.PutOptions.NoSync;
// the next Sync makes it so): an index is a cache, and one a crash loses or
// leaves short is rebuilt.
func (l *Ledger) PutIndex(ctx context.Context, name string, v any) error {
	if !ValidName(name) {
		return fmt.Errorf("index name %q: not a valid name", name)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode index %s: %w", name, err)
	}
	b = append(b, '\n')
	if _, err := l.s.Put(ctx, l.IndexKey(name), bytes.NewReader(b), int64(len(b)), store.PutOptions{NoSync: true}); err != nil {
		return fmt.Errorf("put index %s: %w", name, err)
	}
	return nil
}
