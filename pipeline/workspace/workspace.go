// Package workspace opens what every command needs for one apprentice:
// the config, the store, the apprentice's ledger, the KSB catalogue and
// what the portfolio covers, and builds from them the redactor, the
// tagger, the sources (through the collector registry) and the runner.
package workspace

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/collectors/registry"
	"github.com/ksbfolio/ksbfolio/evidence/coverage"
	"github.com/ksbfolio/ksbfolio/evidence/ksb"
	"github.com/ksbfolio/ksbfolio/evidence/ledger"
	"github.com/ksbfolio/ksbfolio/evidence/store"
	"github.com/ksbfolio/ksbfolio/evidence/store/fsstore"
	"github.com/ksbfolio/ksbfolio/evidence/store/s3store"
	"github.com/ksbfolio/ksbfolio/evidence/tagging"
	"github.com/ksbfolio/ksbfolio/pipeline"
	"github.com/ksbfolio/ksbfolio/pipeline/config"
	"github.com/ksbfolio/ksbfolio/pipeline/redact"
)

// DefaultStore is the store used when the config names none: a folder
// beside the config file.
const DefaultStore = "./.ksbfolio"

// SetupError marks errors that come from what the user configured (a
// missing catalogue, a bad rules file): the CLI exits 2 for them.
type SetupError struct{ Err error }

func (e *SetupError) Error() string { return e.Err.Error() }
func (e *SetupError) Unwrap() error { return e.Err }

// OpenStore opens the store named by spec: an s3:// URL, or a folder
// (relative to dir). An empty spec is DefaultStore.
func OpenStore(ctx context.Context, spec, dir string) (store.Store, error) {
	if spec == "" {
		spec = DefaultStore
	}
	if strings.HasPrefix(spec, "s3://") {
		cfg, err := s3store.ParseURL(spec)
		if err != nil {
			return nil, &SetupError{Err: fmt.Errorf("store: %w", err)}
		}
		return s3store.New(ctx, cfg)
	}
	if strings.Contains(spec, "://") {
		return nil, &SetupError{Err: fmt.Errorf("store %q: want a folder or an s3:// URL", spec)}
	}
	if !filepath.IsAbs(spec) {
		spec = filepath.Join(dir, spec)
	}
	return fsstore.New(spec)
}

// LoadCatalogue finds a catalogue by built-in ID, by the ID of one
// imported into s, or as a file path (relative to dir).
func LoadCatalogue(ctx context.Context, spec string, s store.Store, dir string) (*ksb.Catalogue, error) {
	if spec == "" {
		spec = "st1398-v1.0"
	}
	for _, c := range ksb.Builtin() {
		if c.ID == spec {
			return c, nil
		}
	}
	if ledger.ValidName(spec) && s != nil {
		b, err := ledger.GetStandard(ctx, s, spec)
		if err == nil {
			c, err := ksb.Parse(ledger.StandardKey(spec), b, ksb.ImportOptions{})
			if err != nil {
				return nil, &ledger.CorruptError{Key: ledger.StandardKey(spec), Err: err}
			}
			return c, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("read catalogue %s: %w", spec, err)
		}
	}
	path := spec
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	if b, err := os.ReadFile(path); err == nil {
		c, err := ksb.Parse(path, b, ksb.ImportOptions{})
		if err != nil {
			return nil, &SetupError{Err: fmt.Errorf("standard %s: %w", spec, err)}
		}
		return c, nil
	}
	var imported []string
	if s != nil {
		imported, _ = ledger.StandardIDs(ctx, s)
	}
	return nil, &SetupError{Err: fmt.Errorf("standard %q: not a built-in catalogue (%s), not imported into this store (%s), and not a file",
		spec, strings.Join(ksb.BuiltinIDs(), ", "), orNone(imported))}
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none imported"
	}
	return strings.Join(s, ", ")
}

// Workspace is what every command needs: the config, the store, one
// apprentice's ledger and the catalogue.
type Workspace struct {
	Config     *config.Config
	Apprentice config.Apprentice
	Store      store.Store
	Ledger     *ledger.Ledger
	Catalogue  *ksb.Catalogue
	// Target is what the portfolio covers, the version of the standard
	// that applies, and the configured reviewers whose signatures confirm.
	Target coverage.Target
	Log    *slog.Logger
	Now    func() time.Time
	// Collectors builds the sources (registry.Default() after Open).
	Collectors registry.List
	LeaseTTL   time.Duration // 0: ledger.DefaultLeaseTTL
}

// HoldOptions are the lease options of a writing command of this
// workspace, for Ledger.Hold: a new run ID, the workspace's clock, log and
// lease TTL.
func (w *Workspace) HoldOptions(command string, wait time.Duration) ledger.HoldOptions {
	return ledger.HoldOptions{RunID: pipeline.NewRunID(w.Now()), Command: command, TTL: w.LeaseTTL, Wait: wait, Now: w.Now, Log: w.Log}
}

// Open opens the workspace of one apprentice of a loaded config: the one
// with ID apprentice, or, when apprentice is "", the config's only one.
// catalogue overrides the config's standard when not empty. Each
// apprentice of a multi-apprentice config has its own workspace (its own
// ledger in the shared store).
func Open(ctx context.Context, cfg *config.Config, apprentice, catalogue string, log *slog.Logger) (*Workspace, error) {
	appr, err := theApprentice(cfg, apprentice)
	if err != nil {
		return nil, err
	}
	s, err := OpenStore(ctx, cfg.Store, cfg.Dir)
	if err != nil {
		return nil, err
	}
	l, err := ledger.New(s, appr.ID)
	if err != nil {
		return nil, &SetupError{Err: err}
	}
	if catalogue == "" {
		catalogue = cfg.Standard
	}
	cat, err := LoadCatalogue(ctx, catalogue, s, cfg.Dir)
	if err != nil {
		return nil, err
	}
	target, err := NewTarget(cat, cfg.Portfolio.Covers, appr.Start.Time)
	if err != nil {
		return nil, err
	}
	if target.Reviewers, err = NewVerifier(cfg.Reviewers); err != nil {
		return nil, err
	}
	return &Workspace{Config: cfg, Apprentice: appr, Store: s, Ledger: l, Catalogue: cat, Target: target, Log: log, Now: time.Now,
		Collectors: registry.Default()}, nil
}

func theApprentice(cfg *config.Config, id string) (config.Apprentice, error) {
	all := cfg.All()
	if id != "" {
		if a, ok := cfg.FindApprentice(id); ok {
			return a, nil
		}
		return config.Apprentice{}, &SetupError{Err: fmt.Errorf("apprentice %q is not in the config (it lists %s)", id, apprenticeIDs(all))}
	}
	if len(all) == 1 {
		return all[0], nil
	}
	return config.Apprentice{}, &SetupError{Err: fmt.Errorf("the config lists %d apprentices (%s); this command needs one (run --all, coverage --all and erase --apprentice work with several)", len(all), apprenticeIDs(all))}
}

func apprenticeIDs(all []config.Apprentice) string {
	ids := make([]string, len(all))
	for i, a := range all {
		ids[i] = a.ID
	}
	return strings.Join(ids, ", ")
}

// Redactor builds the redactor: built-in detectors plus the config's, with
// the apprentice's own e-mail addresses left unmasked.
func (w *Workspace) Redactor() (*redact.Redactor, error) {
	opts := redact.Options{Emails: w.Config.Redact.Emails, AllowedEmails: w.Apprentice.Emails}
	for _, p := range w.Config.Redact.Patterns {
		opts.Patterns = append(opts.Patterns, redact.Pattern{Name: p.Name, Regex: p.Regex})
	}
	r, err := redact.New(opts)
	if err != nil {
		return nil, &SetupError{Err: fmt.Errorf("redact: %w", err)}
	}
	return r, nil
}

// Tagger builds the tagger: the built-in rules with the config's rules file
// on top, compiled against the catalogue. Warnings are about built-in rules
// that name KSBs the catalogue lacks.
func (w *Workspace) Tagger() (*tagging.Tagger, []string, error) {
	rules := tagging.Builtin()
	var user []tagging.Rule
	if w.Config.Rules != "" {
		path := w.Config.Rules
		if !filepath.IsAbs(path) {
			path = filepath.Join(w.Config.Dir, path)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, nil, &SetupError{Err: fmt.Errorf("rules: %w", err)}
		}
		user, err = tagging.ParseRules(path, b)
		if err != nil {
			return nil, nil, &SetupError{Err: err}
		}
	}
	t, warns, err := tagging.Compile(tagging.Merge(rules, user), w.Catalogue, tagging.CompileOptions{})
	if err != nil {
		return nil, nil, &SetupError{Err: err}
	}
	return t, warns, nil
}

// Sources builds the collectors of the apprentice's sources (the
// top-level ones and the apprentice's own, config.SourcesFor), each with
// its type's factory in w.Collectors.
func (w *Workspace) Sources() ([]pipeline.Source, error) {
	var out []pipeline.Source
	httpClient := collectors.NewHTTPClient()
	appr := collectors.Apprentice{ID: w.Apprentice.ID, Name: w.Apprentice.Name, Emails: w.Apprentice.Emails}
	for _, sc := range w.Config.SourcesFor(w.Apprentice) {
		f, ok := w.Collectors.Lookup(sc.Type)
		if !ok {
			return nil, &SetupError{Err: fmt.Errorf("source %s: type %q is not supported by this version (supported: %s)",
				sc.Name, sc.Type, strings.Join(w.Collectors.SourceTypeNames(), ", "))}
		}
		log := w.Log
		if log == nil {
			log = slog.New(slog.DiscardHandler)
		}
		c, err := f.New(sc.Config, collectors.Settings{Name: sc.Name, Logger: log.With("source", sc.Name),
			Now: w.Now, HTTPClient: httpClient, Apprentice: appr})
		if err != nil {
			return nil, &SetupError{Err: fmt.Errorf("source %s: %w", sc.Name, err)}
		}
		out = append(out, pipeline.Source{Name: sc.Name, Type: sc.Type, Collector: c})
	}
	return out, nil
}

// Runner builds a Runner for this workspace.
func (w *Workspace) Runner(obs pipeline.Observer) (*pipeline.Runner, []string, error) {
	red, err := w.Redactor()
	if err != nil {
		return nil, nil, err
	}
	tg, warns, err := w.Tagger()
	if err != nil {
		return nil, nil, err
	}
	srcs, err := w.Sources()
	if err != nil {
		return nil, nil, err
	}
	return &pipeline.Runner{Ledger: w.Ledger, Sources: srcs, Redactor: red, Tagger: tg, Catalogue: w.Catalogue, Target: w.Target,
		Log: w.Log, Now: w.Now, Observer: obs, StoreName: w.Store.String()}, warns, nil
}

// NewTarget works out what coverage is judged against: the set the
// portfolio covers (covers against cat; an unknown method or KSB is a
// SetupError naming portfolio.covers) and the version of the standard
// that applies to an apprentice who started on start (zero: not
// configured). A catalogue without a version log (an imported list) uses
// the log of the built-in catalogue of the same standard, if any.
func NewTarget(cat *ksb.Catalogue, covers config.Covers, start time.Time) (coverage.Target, error) {
	c, err := coverage.NewCovers(cat, covers.Set, covers.KSBs)
	if err != nil {
		return coverage.Target{}, &SetupError{Err: err}
	}
	log := cat.VersionLog
	if len(log) == 0 && cat.Reference != "" {
		for _, b := range ksb.Builtin() {
			if b.Reference == cat.Reference {
				log = b.VersionLog
			}
		}
	}
	return coverage.Target{Covers: c, Version: coverage.StandardVersion(cat, log, start)}, nil
}
