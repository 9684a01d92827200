package ledger

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/ksbfolio/ksbfolio/evidence/store"
)

// StandardKey is where an imported catalogue is stored: standards/<id>.yaml.
func StandardKey(id string) string { return "standards/" + id + ".yaml" }

// PutStandard stores an imported catalogue (its YAML form) under its ID.
func PutStandard(ctx context.Context, s store.Store, id string, yaml []byte) error {
	if !ValidName(id) {
		return fmt.Errorf("catalogue id %q: not a valid name", id)
	}
	if _, err := s.Put(ctx, StandardKey(id), bytes.NewReader(yaml), int64(len(yaml)), store.PutOptions{}); err != nil {
		return fmt.Errorf("store catalogue %s: %w", id, err)
	}
	return nil
}

// GetStandard reads an imported catalogue's YAML; store.ErrNotFound if none.
func GetStandard(ctx context.Context, s store.Store, id string) ([]byte, error) {
	if !ValidName(id) {
		return nil, fmt.Errorf("catalogue id %q: %w", id, store.ErrNotFound)
	}
	b, _, err := store.ReadAll(ctx, s, StandardKey(id), MaxObject)
	return b, err
}

// StandardIDs lists the IDs of imported catalogues, sorted.
func StandardIDs(ctx context.Context, s store.Store) ([]string, error) {
	var ids []string
	err := s.List(ctx, "standards/", func(in store.Info) error {
		name := strings.TrimPrefix(in.Key, "standards/")
		if id, ok := strings.CutSuffix(name, ".yaml"); ok && ValidName(id) {
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list catalogues: %w", err)
	}
	return ids, nil
}
