package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/ledger"
	"github.com/ksbfolio/ksbfolio/evidence/store"
)

// Manual describes evidence made by hand: a design document, a
// presentation, a certificate.
type Manual struct {
	Path  string
	Title string
	Date  time.Time
	KSBs  []string      // declared by the apprentice
	Wait  time.Duration // wait this long for another run's lease (0: fail at once)
	// Replace allows replacing the item of a file added before (its
	// title, date and declared KSBs). Without it, adding the same
	// content again is an error.
	Replace bool
}

// ExistsError: the file was added before and Manual.Replace was not set.
type ExistsError struct {
	ID, Title string
}

func (e *ExistsError) Error() string {
	return fmt.Sprintf("this file was already added as %s (%q); add --replace to replace its title, date and KSBs", e.ID, e.Title)
}

// refuseReplace returns an *ExistsError when the item id is stored and
// replace is false. An unreadable stored item may be replaced.
func refuseReplace(ctx context.Context, l *ledger.Ledger, id string, replace bool) error {
	if replace {
		return nil
	}
	old, err := l.GetItem(ctx, id)
	switch {
	case err == nil:
		return &ExistsError{ID: id, Title: old.Title}
	case errors.Is(err, store.ErrNotFound), errors.Is(err, ledger.ErrCorrupt):
		return nil
	}
	return fmt.Errorf("add: look for an earlier copy: %w", err)
}

// AddManual stores a file as a `manual` item under the run lease: the file
// (redacted if it is text) as its artefact, the declared KSBs as
// "declared:add" tags, plus rule tags. Its ID derives from the file's
// content: adding the same content again is an *ExistsError unless
// m.Replace, which replaces the item (reviews are kept).
func (w *Workspace) AddManual(ctx context.Context, m Manual) (_ *evidence.Item, _ []string, err error) {
	if strings.TrimSpace(m.Title) == "" {
		return nil, nil, &SetupError{Err: fmt.Errorf("a title is required")}
	}
	f, err := os.Open(m.Path)
	if err != nil {
		return nil, nil, fmt.Errorf("add: %w", err) // a *fs.PathError names the path
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("%s: not a regular file", m.Path)
	}
	h := sha256.New()
	_, err = io.Copy(h, f)
	f.Close()
	if err != nil {
		return nil, nil, fmt.Errorf("add: %w", err)
	}
	sum := hex.EncodeToString(h.Sum(nil))

	red, err := w.Redactor()
	if err != nil {
		return nil, nil, err
	}
	tg, warns, err := w.Tagger()
	if err != nil {
		return nil, nil, err
	}
	ctx, release, err := w.Ledger.Hold(ctx, w.HoldOptions("add", m.Wait))
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if lost := release(); lost != nil {
			err = lost
		}
	}()

	if err := refuseReplace(ctx, w.Ledger, evidence.NewID("manual", sum), m.Replace); err != nil {
		return nil, nil, err
	}
	name := filepath.Base(m.Path)
	mt := mime.TypeByExtension(filepath.Ext(name))
	if mt == "" {
		mt = "application/octet-stream"
	}
	it := evidence.Item{
		Schema: evidence.SchemaVersion, ID: evidence.NewID("manual", sum), Apprentice: w.Ledger.Apprentice(),
		Source: "manual", SourceType: "manual", Kind: evidence.KindManual, Title: m.Title,
		Summary:    "Added by hand from " + name,
		OccurredAt: m.Date.UTC(), CollectedAt: w.Now().UTC(),
		Origin: evidence.Origin{URI: "file:" + name, NativeID: sum},
		Facts:  map[string]any{"file_name": name, "file_size": st.Size()},
	}
	for _, k := range m.KSBs {
		it.Tags = append(it.Tags, evidence.Tag{KSB: evidence.NormalizeKSB(k), By: evidence.ByDeclared + "add", Confidence: 1,
			Reason: "declared when the evidence was added"})
	}
	var skipped []string
	files := []collectors.File{{Name: name, MediaType: mt, Open: func() (io.ReadCloser, error) { return os.Open(m.Path) }}}
	if _, err := StoreFiles(ctx, w.Ledger, red, files, &it, func(s collectors.Skipped) { skipped = append(skipped, s.What+": "+s.Reason) }); err != nil {
		return nil, nil, err
	}
	if len(skipped) > 0 {
		return nil, nil, fmt.Errorf("store %s: %s", name, strings.Join(skipped, "; "))
	}
	red.Item(&it)
	warns = append(warns, tg.Tag(&it)...)
	if err := w.Ledger.PutItem(ctx, &it); err != nil {
		return nil, nil, err
	}
	if _, _, err := UpdateCoverage(ctx, w.Ledger, w.Catalogue, w.Target, w.Now()); err != nil {
		warns = append(warns, "coverage not updated: "+err.Error())
	}
	return &it, warns, nil
}
