package mlflow

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/ksbfolio/ksbfolio/internal/sourceconfig"
)

// SourceType is the items' source_type, and the ID namespace of their IDs:
// a run has the same item ID whichever store (file, SQLite, server) it is
// read from.
const SourceType = "mlflow"

// Default caps.
const (
	DefaultMaxArtifactBytes = 1 << 20  // per file
	DefaultMaxRunBytes      = 16 << 20 // per run, all files together
)

// SourceConfig is an MLflow source as the user writes it in ksbfolio.yaml,
// besides its name and type. check is the one place it is validated.
type SourceConfig struct {
	// URI is the tracking store: file:./mlruns (a file store, relative to
	// the config file), sqlite:///mlflow.db (a SQLite store; four slashes
	// for an absolute path), or http(s)://host[/prefix] (a tracking
	// server).
	URI string `yaml:"uri" json:"uri"`
	// Experiments keeps only runs of these experiments (names or IDs).
	// Empty: every experiment.
	Experiments []string `yaml:"experiments,omitempty" json:"experiments,omitempty"`
	// Users keeps only runs whose mlflow.user tag (or user_id) is one of
	// these. Empty: every run of the store (or of Experiments).
	Users []string `yaml:"users,omitempty" json:"users,omitempty"`
	// Filter is a search filter passed to a tracking server
	// (runs/search, e.g. "tags.team = 'fraud'"). Server only.
	Filter string `yaml:"filter,omitempty" json:"filter,omitempty"`
	// IncludeDeleted also collects deleted runs and experiments.
	IncludeDeleted bool `yaml:"include_deleted,omitempty" json:"include_deleted,omitempty"`
	// Artifacts: download (or read) run artefacts up to the caps; default
	// true. Listing is always done.
	Artifacts *bool `yaml:"artifacts,omitempty" json:"artifacts,omitempty"`
	// MaxArtifactBytes caps one artefact file (default 1 MiB); larger
	// files are listed, not stored.
	MaxArtifactBytes int64 `yaml:"max_artifact_bytes,omitempty" json:"max_artifact_bytes,omitempty"`
	// MaxRunBytes caps the artefacts stored per run (default 16 MiB).
	MaxRunBytes int64 `yaml:"max_run_bytes,omitempty" json:"max_run_bytes,omitempty"`
	// ArtifactRoots are extra folders a file store's artifact URIs may
	// point into; by default nothing outside the store is read.
	ArtifactRoots []string `yaml:"artifact_roots,omitempty" json:"artifact_roots,omitempty"`
	// Auth is for a tracking server: username and password (basic), or a
	// token (bearer, as Databricks hosts take).
	Auth *sourceconfig.Auth `yaml:"auth,omitempty" json:"auth,omitempty"`
}

// Store kinds, from the URI's scheme.
const (
	storeFile   = "file"
	storeSQLite = "sqlite"
	storeServer = "server"
)

// Config is one MLflow collector as the code builds it.
type Config struct {
	Name       string // the configured source name
	Apprentice string // the apprentice ID written into every item
	SourceConfig
	// Kind and Location come from URI: a folder (file), a database file
	// (sqlite) or a base URL (server), absolute.
	Kind     string
	Location string
}

type problem struct{ key, msg string }

// parseURI splits a store URI into its kind and location; dir resolves
// relative paths. It returns a problem message or "".
func parseURI(uri, dir string) (kind, loc, msg string) {
	u := strings.TrimSpace(uri)
	switch {
	case u == "":
		return "", "", "required: file:./mlruns, sqlite:///mlflow.db or https://tracking-server"
	case strings.HasPrefix(u, "file:"):
		p := strings.TrimPrefix(u, "file:")
		if strings.HasPrefix(p, "//") {
			pu, err := url.Parse(u)
			if err != nil || (pu.Host != "" && pu.Host != "localhost") {
				return "", "", fmt.Sprintf("%q: a file URI must name a local path (file:///abs or file:./rel)", uri)
			}
			p = pu.Path
		}
		if p == "" {
			return "", "", fmt.Sprintf("%q: no path", uri)
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		return storeFile, filepath.Clean(p), ""
	case strings.HasPrefix(u, "sqlite:///"):
		p := strings.TrimPrefix(u, "sqlite:///")
		if i := strings.IndexByte(p, '?'); i >= 0 {
			p = p[:i]
		}
		if p == "" || p == ":memory:" {
			return "", "", fmt.Sprintf("%q: name the database file (sqlite:///mlflow.db)", uri)
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		return storeSQLite, filepath.Clean(p), ""
	case strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://"):
		pu, err := url.Parse(u)
		if err != nil || pu.Host == "" {
			return "", "", fmt.Sprintf("%q: not a URL with a host", uri)
		}
		if pu.User != nil {
			return "", "", "credentials in the URI are not allowed; use auth with a secret reference"
		}
		pu.RawQuery, pu.Fragment = "", ""
		return storeServer, strings.TrimSuffix(pu.String(), "/"), ""
	}
	return "", "", fmt.Sprintf("%q: unknown store; want file:, sqlite:/// or http(s)://", uri)
}

// check validates what the user writes, without touching the store.
func (sc SourceConfig) check(dir string) []problem {
	var ps []problem
	add := func(key, format string, args ...any) { ps = append(ps, problem{key, fmt.Sprintf(format, args...)}) }
	kind, _, msg := parseURI(sc.URI, dir)
	if msg != "" {
		add("uri", "%s", msg)
	}
	for i, e := range sc.Experiments {
		if strings.TrimSpace(e) == "" {
			add(fmt.Sprintf("experiments[%d]", i), "empty; name an experiment or give its ID")
		}
	}
	for i, u := range sc.Users {
		if strings.TrimSpace(u) == "" {
			add(fmt.Sprintf("users[%d]", i), "empty")
		}
	}
	if sc.Filter != "" && kind != storeServer && kind != "" {
		add("filter", "only a tracking server (http(s)://) takes a filter; use experiments and users")
	}
	if sc.MaxArtifactBytes < 0 {
		add("max_artifact_bytes", "must not be negative")
	}
	if sc.MaxRunBytes < 0 {
		add("max_run_bytes", "must not be negative")
	}
	if len(sc.ArtifactRoots) > 0 && kind != storeFile && kind != storeSQLite && kind != "" {
		add("artifact_roots", "only for file and SQLite stores")
	}
	if a := sc.Auth; a != nil {
		if kind != storeServer && kind != "" {
			add("auth", "only a tracking server (http(s)://) takes credentials")
		}
		if !a.Password.IsZero() && a.Username == "" {
			add("auth.username", "required with password")
		}
		if a.Username != "" && a.Password.IsZero() {
			add("auth.password", "required with username")
		}
		if !a.Token.IsZero() && !a.Password.IsZero() {
			add("auth.token", "give either token or username and password, not both")
		}
		if a.SSHKey != "" {
			add("auth.ssh_key", "not used by MLflow")
		}
	}
	return ps
}

// Validate checks cfg without touching the store, reporting every problem.
func (cfg Config) Validate() error {
	var errs []error
	if strings.TrimSpace(cfg.Name) == "" {
		errs = append(errs, errors.New("name: must be set"))
	}
	if strings.TrimSpace(cfg.Apprentice) == "" {
		errs = append(errs, errors.New("apprentice: must be set"))
	}
	if cfg.Kind != storeFile && cfg.Kind != storeSQLite && cfg.Kind != storeServer {
		errs = append(errs, fmt.Errorf("kind %q: not file, sqlite or server", cfg.Kind))
	}
	if cfg.Location == "" {
		errs = append(errs, errors.New("location: empty"))
	}
	for _, p := range cfg.check("/") {
		if p.key == "uri" {
			continue // Location is what counts once built
		}
		errs = append(errs, fmt.Errorf("%s: %s", p.key, p.msg))
	}
	return errors.Join(errs...)
}

func (sc SourceConfig) artifacts() bool { return sc.Artifacts == nil || *sc.Artifacts }

func (sc SourceConfig) maxArtifact() int64 {
	if sc.MaxArtifactBytes == 0 {
		return DefaultMaxArtifactBytes
	}
	return sc.MaxArtifactBytes
}

func (sc SourceConfig) maxRun() int64 {
	if sc.MaxRunBytes == 0 {
		return DefaultMaxRunBytes
	}
	return sc.MaxRunBytes
}
