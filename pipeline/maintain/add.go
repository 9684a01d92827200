package maintain

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/ledger"
	"github.com/ksbfolio/ksbfolio/evidence/store"
	"github.com/ksbfolio/ksbfolio/evidence/tagging"
	"github.com/ksbfolio/ksbfolio/pipeline"
	"github.com/ksbfolio/ksbfolio/pipeline/workspace"
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

// Add stores a file as a `manual` item under the run lease: the file
// as its artefact (through the same redaction boundary as every run: text
// in any encoding redacted and stored as UTF-8, binary with a secret
// refused), the declared KSBs as "declared:add" tags, plus rule tags. Its
// ID derives from the file's content: adding the same content again is an
// *ExistsError unless m.Replace, which replaces the item (reviews are
// kept). Anything but a regular file (a directory, a FIFO, a device) is
// refused before it is read.
func Add(ctx context.Context, w *workspace.Workspace, m Manual) (_ *evidence.Item, _ []string, err error) {
	if strings.TrimSpace(m.Title) == "" {
		return nil, nil, &workspace.SetupError{Err: fmt.Errorf("a title is required")}
	}
	red, err := w.Redactor()
	if err != nil {
		return nil, nil, err
	}
	b, err := readRegular(m.Path)
	if err != nil {
		return nil, nil, errors.New(red.Error(err))
	}
	h := sha256.Sum256(b)
	sum := hex.EncodeToString(h[:])

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
		Facts:  map[string]any{"file_name": name, "file_size": int64(len(b))},
	}
	for _, k := range m.KSBs {
		it.Tags = append(it.Tags, evidence.Tag{KSB: evidence.NormalizeKSB(k), By: evidence.ByDeclared + "add", Confidence: 1,
			Reason: "declared when the evidence was added"})
	}
	ms := &manualSink{w: w, tg: tg}
	g := red.Guard(ms, pipeline.MaxArtefact)
	e := collectors.Emission{Item: it, Files: []collectors.File{{Name: name, MediaType: mt,
		Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }}}}
	if err := g.Emit(ctx, e); err != nil {
		return nil, nil, err
	}
	warns = append(warns, ms.warns...)
	if _, _, err := pipeline.UpdateCoverage(ctx, w.Ledger, w.Catalogue, w.Target, w.Now()); err != nil {
		warns = append(warns, "coverage not updated: "+red.Error(err))
	}
	return ms.stored, warns, nil
}

// manualSink stores the one item of `add`, after the redaction boundary,
// unless its file was skipped.
type manualSink struct {
	w       *workspace.Workspace
	tg      *tagging.Tagger
	skipped []string
	warns   []string
	stored  *evidence.Item
}

func (s *manualSink) Emit(ctx context.Context, e collectors.Emission) error {
	it := e.Item
	if len(s.skipped) > 0 {
		return errors.New(strings.Join(s.skipped, "; "))
	}
	if _, err := pipeline.StoreFiles(ctx, s.w.Ledger, e.Files, &it, s.Skip); err != nil {
		return err
	}
	if len(s.skipped) > 0 {
		return errors.New(strings.Join(s.skipped, "; "))
	}
	s.warns = append(s.warns, s.tg.Tag(&it)...)
	if err := s.w.Ledger.PutItem(ctx, &it); err != nil {
		return err
	}
	s.stored = &it
	return nil
}

func (s *manualSink) Skip(sk collectors.Skipped) {
	s.skipped = append(s.skipped, sk.What+": "+sk.Reason)
}
func (s *manualSink) Warn(msg string) { s.warns = append(s.warns, msg) }

// readRegular reads a regular file (at most pipeline.MaxArtefact bytes), refusing
// anything else before reading it: the mode is checked before opening
// (following symbolic links), the file is opened without blocking (a FIFO
// swapped in meanwhile does not hang the open), and checked again once
// open.
func readRegular(path string) ([]byte, error) {
	st, err := os.Stat(path) // errors name the path
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file (%s)", path, fileKind(st.Mode()))
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err = f.Stat(); err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file (%s)", path, fileKind(st.Mode()))
	}
	b, err := io.ReadAll(io.LimitReader(f, pipeline.MaxArtefact+1))
	if err != nil {
		return nil, err
	}
	if len(b) > pipeline.MaxArtefact {
		return nil, fmt.Errorf("%s: larger than %d MiB", path, pipeline.MaxArtefact>>20)
	}
	return b, nil
}

// fileKind names a non-regular file mode for an error message.
func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "mode " + m.Type().String()
}
