// Package config reads ksbfolio.yaml, the one configuration file of
// ksbfolio (docs/config.md).
//
// # Strict decoding
//
// The file is decoded strictly: an unknown key, a value of the wrong type,
// a duplicate key, a missing required field or a value that fails
// validation is a problem naming the file, the line and the path of the
// key ("sources[1].refs"). Every problem is collected before Parse returns,
// so the user sees them all at once, sorted by line, in a
// *yamlstrict.Error (internal/yamlstrict, the error of every strictly
// read YAML file) of Kind ErrInvalid.
//
// # Paths
//
// Parse and Load resolve relative paths against Config.Dir, the folder of
// the config file: after loading, Rules, a local Store, a Standard that
// names a file and the paths in sources (their decoders resolve them with
// SourceKeys.Path) are absolute and cleaned, and Secret file references
// hold absolute paths. Nothing is read or checked for existence here; the
// code that uses a path reports a missing one.
//
// # Sources
//
// The config package decodes the keys every source has, name and type;
// the rest of a source is decoded by its type's SourceDecoder, which
// Parse and Load take as SourceTypes (collectors/registry lists them), so
// that a new collector needs no change here. Its problems have the same
// form and are reported with the others. SourceDecoder, SourceKeys and
// the values sources hold (Secret, Auth, Date) are in internal/sourceconfig,
// which the collectors import instead of this package.
//
// # Secrets
//
// Credentials are written only as references, ${env:NAME} or
// ${file:PATH}, and only into fields of type sourceconfig.Secret, which
// holds the reference and resolves it when asked (Secret.Resolve). ${…}
// anywhere else is ordinary text and is never expanded.
package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ksbfolio/ksbfolio/internal/sourceconfig"
)

// Defaults applied when the key is absent.
const (
	DefaultStandard = "st1398-v1.0"
	DefaultStore    = "./.ksbfolio"
)

// MaxFileSize is the largest config file Load reads.
const MaxFileSize = 16 << 20

// SourceTypes is what Parse knows about source types: for each type this
// build can collect, the decoder of its own keys. collectors/registry
// provides it (registry.Default()); config imports no collector.
type SourceTypes interface {
	// SourceDecoder returns the decoder of a source type, or false when
	// this build has no collector of that type.
	SourceDecoder(typ string) (sourceconfig.SourceDecoder, bool)
	// SourceTypeNames lists the types this build can collect, for
	// messages.
	SourceTypeNames() []string
}

// plannedTypes are source types the design names that a build may not
// have yet: naming one is "not supported by this version" rather than an
// unknown type. Adding a collector needs no change here.
func plannedTypes() []string {
	return []string{"git", "mlflow", "tensorboard", "wandb", "sagemaker", "logs", "prometheus"}
}

// Config is a loaded ksbfolio.yaml. Exactly one of Apprentice and
// Apprentices is set; All gives either as a list.
type Config struct {
	Dir         string       `yaml:"-" json:"-"` // folder of the config file; relative paths resolve against it
	File        string       `yaml:"-" json:"-"` // the config file (absolute after Load; the name given to Parse)
	Apprentice  *Apprentice  `yaml:"apprentice,omitempty" json:"apprentice,omitempty"`
	Apprentices []Apprentice `yaml:"apprentices,omitempty" json:"apprentices,omitempty"`
	// Standard is a catalogue ID ("st1398-v1.0", the default) or, when it
	// looks like a path, the absolute path of a catalogue file
	// (StandardFile).
	Standard string `yaml:"standard" json:"standard"`
	// Store is an absolute folder (default ./.ksbfolio next to the config
	// file) or an s3:// URL, whose syntax the S3 store checks.
	Store   string   `yaml:"store" json:"store"`
	Sources []Source `yaml:"sources" json:"sources"`
	Rules   string   `yaml:"rules,omitempty" json:"rules,omitempty"` // absolute path of a tagging rules file, or ""
	Redact  Redact   `yaml:"redact" json:"redact"`
	Pack    Pack     `yaml:"pack" json:"pack"`
	Metrics Metrics  `yaml:"metrics" json:"metrics"`
	// Portfolio says what the portfolio must cover (portfolio.go).
	Portfolio Portfolio `yaml:"portfolio" json:"portfolio"`
	// Reviewers are the people whose signed decisions confirm KSBs
	// (reviewers.go).
	Reviewers []Reviewer `yaml:"reviewers,omitempty" json:"reviewers,omitempty"`
}

// Apprentice is the person a portfolio is for.
type Apprentice struct {
	ID       string            `yaml:"id" json:"id"`         // slug; names the ledger prefix apprentices/<id>/
	Name     string            `yaml:"name" json:"name"`     // optional; shown on the pack
	Emails   []string          `yaml:"emails" json:"emails"` // at least one; lower-cased and deduplicated
	Employer string            `yaml:"employer,omitempty" json:"employer,omitempty"`
	Start    sourceconfig.Date `yaml:"start,omitempty" json:"start,omitzero"`
	Gateway  sourceconfig.Date `yaml:"gateway,omitempty" json:"gateway,omitzero"` // after Start when both are set
	// Sources are this apprentice's own sources, collected with the
	// top-level ones (SourcesFor); names are unique among both.
	Sources []Source `yaml:"sources,omitempty" json:"sources,omitempty"`
}

// Source is one configured place evidence is collected from: the keys
// every source has, and the rest as its type's decoder read them.
type Source struct {
	Name string `yaml:"name" json:"name"` // slug, unique in the file
	Type string `yaml:"type" json:"type"` // a type of SourceTypes
	// Config is the type's own settings, as its SourceDecoder decoded and
	// checked them (a *gitlog.SourceConfig for git), with paths absolute.
	Config any `yaml:"-" json:"-"`
}

// MarshalJSON writes name, type and then the keys of Config, as one
// object: the source as it was written, with paths resolved.
func (s Source) MarshalJSON() ([]byte, error) {
	head, err := json.Marshal(struct {
		Name string `json:"name"`
		Type string `json:"type"`
	}{s.Name, s.Type})
	if err != nil {
		return nil, err
	}
	if s.Config == nil {
		return head, nil
	}
	rest, err := json.Marshal(s.Config)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", s.Name, err)
	}
	if len(rest) < 2 || rest[0] != '{' {
		return nil, fmt.Errorf("source %s: config %T is not a JSON object", s.Name, s.Config)
	}
	if string(rest) == "{}" {
		return head, nil
	}
	out := append(head[:len(head)-1:len(head)-1], ',')
	return append(out, rest[1:]...), nil
}

// Redact adds detectors to the built-in ones and says what happens to
// e-mail addresses.
type Redact struct {
	Patterns []Pattern `yaml:"patterns,omitempty" json:"patterns,omitempty"`
	// Emails is EmailsMask (the default when empty: addresses other than
	// the apprentice's are masked in stored text) or EmailsKeep; the
	// redactor takes the same words (redact.Options.Emails).
	Emails string `yaml:"emails,omitempty" json:"emails,omitempty"`
}

// The values of redact.emails.
const (
	EmailsMask = "mask"
	EmailsKeep = "keep"
)

// Pattern is a named RE2 regular expression whose matches are masked.
// Names are unique slugs; Regex compiles with regexp.Compile.
type Pattern struct {
	Name  string `yaml:"name" json:"name"`
	Regex string `yaml:"regex" json:"regex"`
}

// Pack holds pack defaults.
type Pack struct {
	// MaxItems is how many items the pack selects; 0 means every
	// evidenced item. The --max-items flag overrides it.
	MaxItems int `yaml:"max_items,omitempty" json:"max_items,omitempty"`
}

// Metrics holds where a one-shot run pushes its metrics.
type Metrics struct {
	Pushgateway string `yaml:"pushgateway,omitempty" json:"pushgateway,omitempty"` // http(s) URL, or ""
}

// All returns the configured apprentices: the single Apprentice, or the
// Apprentices list.
func (c *Config) All() []Apprentice {
	if c.Apprentice != nil {
		return []Apprentice{*c.Apprentice}
	}
	return slices.Clone(c.Apprentices)
}

// FindApprentice returns the apprentice with that ID.
func (c *Config) FindApprentice(id string) (Apprentice, bool) {
	for _, a := range c.All() {
		if a.ID == id {
			return a, true
		}
	}
	return Apprentice{}, false
}

// FindSource returns the source with that name.
func (c *Config) FindSource(name string) (Source, bool) {
	for _, s := range c.Sources {
		if s.Name == name {
			return s, true
		}
	}
	return Source{}, false
}

// SourcesFor returns the sources collected for apprentice a: the
// top-level sources, then a's own.
func (c *Config) SourcesFor(a Apprentice) []Source {
	return append(slices.Clone(c.Sources), a.Sources...)
}

// StandardFile returns the catalogue file Standard names, or "" when
// Standard is a catalogue ID.
func (c *Config) StandardFile() string {
	if looksLikePath(c.Standard) {
		return c.Standard
	}
	return ""
}

// StoreIsS3 reports whether Store is an s3:// URL rather than a folder.
func (c *Config) StoreIsS3() bool { return strings.HasPrefix(c.Store, "s3://") }

// RootPath is the Path of problems with the document as a whole.
const RootPath = "(file)"

// ErrInvalid is the Kind of the *yamlstrict.Error that Load and Parse
// return whenever the file is not a valid config: errors.Is(err,
// ErrInvalid) tells it from the problems of other files (a rules file, a
// catalogue), and errors.As(err, new(*yamlstrict.Error)) gives the
// problems. A problem's Line is 1-based, or 0 when it has no place in the
// file (an unreadable document); its Path is the key's path
// ("sources[0].auth.password"), or RootPath for the document as a whole.
var ErrInvalid = errors.New("invalid config")

// Load reads and parses the config file at path; relative paths in it
// resolve against the file's folder, and types decodes its sources
// (registry.Default() for every collector of this build). A file that
// cannot be read gives a wrapped I/O error (errors.Is(err, fs.ErrNotExist) when it is missing);
// a file with any problem gives a *yamlstrict.Error of Kind ErrInvalid
// naming them all.
func Load(path string, types SourceTypes) (*Config, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("load config %s: %w", path, err)
	}
	f, err := os.Open(abs)
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err) // a *fs.PathError names the path
	}
	if len(data) > MaxFileSize {
		d := newDecoder(path, "", nil)
		d.Problemf(0, "", "larger than %d bytes; this is not a config file", MaxFileSize)
		return nil, d.Err()
	}
	c, err := Parse(path, data, filepath.Dir(abs), types)
	if err != nil {
		return nil, err
	}
	c.File = abs
	return c, nil
}

// Parse decodes and validates a config file's contents. name is used in
// problems (and as Config.File); relative paths resolve against dir (the
// working directory when dir is ""); each source's own keys are decoded
// by its type's decoder in types (with types nil, no type is supported).
// Any problem gives a *yamlstrict.Error of Kind ErrInvalid listing them
// all (the first maxProblems by line, and a count of the rest); a nil
// error means every check passed and defaults are applied.
func Parse(name string, data []byte, dir string, types SourceTypes) (*Config, error) {
	if dir == "" {
		dir = "."
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("parse config %s: resolve folder %s: %w", name, dir, err)
	}
	d := newDecoder(name, absDir, types)
	c := &Config{Dir: absDir, File: name}
	d.decodeFile(data, c)
	if err := d.Err(); err != nil {
		return nil, err
	}
	return c, nil
}
