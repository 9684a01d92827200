// Package config reads ksbfolio.yaml, the one configuration file of
// ksbfolio (DESIGN.md, "Configuration").
//
// # Strict decoding
//
// The file is decoded strictly: an unknown key, a value of the wrong type,
// a duplicate key, a missing required field or a value that fails
// validation is a Problem naming the file, the line and the path of the
// key ("sources[1].refs"). Every problem is collected before Parse returns,
// so the user sees them all at once in an *Error, sorted by line.
//
// # Paths
//
// Parse and Load resolve relative paths against Config.Dir, the folder of
// the config file: after loading, Source.Path, Auth.SSHKey, Rules, a local
// Store and a Standard that names a file are absolute and cleaned, and
// Secret file references hold absolute paths. Nothing is read or checked
// for existence here; the code that uses a path reports a missing one.
//
// # Secrets
//
// Credentials are written only as references, ${env:NAME} or
// ${file:PATH}, and only into fields of type Secret; a Secret holds the
// reference and resolves it when asked (Secret.Resolve). ${…} anywhere
// else is ordinary text and is never expanded.
package config

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
)

// Defaults applied when the key is absent.
const (
	DefaultStandard = "st1398-v1.0"
	DefaultStore    = "./.ksbfolio"
)

// MaxFileSize is the largest config file Load reads.
const MaxFileSize = 16 << 20

// Source types. Types lists every type of the design; Supported the ones
// this build can collect.
const (
	TypeGit         = "git"
	TypeMLflow      = "mlflow"
	TypeTensorBoard = "tensorboard"
	TypeWandB       = "wandb"
	TypeSageMaker   = "sagemaker"
	TypeLogs        = "logs"
	TypePrometheus  = "prometheus"
)

// Types lists every source type of the design, in a fixed order.
func Types() []string {
	return []string{TypeGit, TypeMLflow, TypeTensorBoard, TypeWandB, TypeSageMaker, TypeLogs, TypePrometheus}
}

// Supported lists the source types this build can collect.
func Supported() []string { return []string{TypeGit} }

// SourceKeys returns the keys a source of type typ may have, in the order
// the documentation lists them, or nil for an unknown type.
func SourceKeys(typ string) []string {
	var extra []string
	switch typ {
	case TypeGit:
		extra = []string{"path", "url", "auth", "refs"}
	case TypeMLflow:
		extra = []string{"uri", "experiments"}
	case TypeTensorBoard, TypeWandB:
		extra = []string{"path"}
	case TypeSageMaker:
		extra = []string{"region", "endpoint"}
	case TypeLogs:
		extra = []string{"paths", "format", "cloudwatch", "s3"}
	case TypePrometheus:
		extra = []string{"url", "files", "queries", "window"}
	default:
		return nil
	}
	return append([]string{"name", "type"}, extra...)
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
}

// Apprentice is the person a portfolio is for.
type Apprentice struct {
	ID       string   `yaml:"id" json:"id"`         // slug; names the ledger prefix apprentices/<id>/
	Name     string   `yaml:"name" json:"name"`     // optional; shown on the pack
	Emails   []string `yaml:"emails" json:"emails"` // at least one; lower-cased and deduplicated
	Employer string   `yaml:"employer,omitempty" json:"employer,omitempty"`
	Start    Date     `yaml:"start,omitempty" json:"start,omitzero"`
	Gateway  Date     `yaml:"gateway,omitempty" json:"gateway,omitzero"` // after Start when both are set
}

// Date is a calendar day, written YYYY-MM-DD, at midnight UTC.
type Date struct{ time.Time }

// DateLayout is how a Date is written.
const DateLayout = "2006-01-02"

// ParseDate reads a YYYY-MM-DD day.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		return Date{}, fmt.Errorf("parse date %q: want YYYY-MM-DD", s)
	}
	return Date{t}, nil
}

// String gives YYYY-MM-DD, or "" for the zero Date.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return d.Format(DateLayout)
}

// MarshalText gives YYYY-MM-DD, or nothing for the zero Date.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// MarshalJSON gives "YYYY-MM-DD" (the embedded time.Time would give a
// full timestamp).
func (d Date) MarshalJSON() ([]byte, error) { return []byte(`"` + d.String() + `"`), nil }

// MarshalYAML gives YYYY-MM-DD.
func (d Date) MarshalYAML() (any, error) { return d.String(), nil }

// UnmarshalText reads YYYY-MM-DD, or nothing for the zero Date.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// UnmarshalJSON reads "YYYY-MM-DD" (or "" or null for the zero Date).
func (d *Date) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*d = Date{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("parse date: %w", err)
	}
	return d.UnmarshalText([]byte(s))
}

// Source is one configured place evidence is collected from. Which keys a
// source may have depends on its Type (SourceKeys).
type Source struct {
	Name string `yaml:"name" json:"name"` // slug, unique in the file
	Type string `yaml:"type" json:"type"` // one of Types

	// git
	Path string   `yaml:"path,omitempty" json:"path,omitempty"` // absolute after loading (also tensorboard, wandb)
	URL  string   `yaml:"url,omitempty" json:"url,omitempty"`   // also prometheus
	Auth *Auth    `yaml:"auth,omitempty" json:"auth,omitempty"`
	Refs []string `yaml:"refs,omitempty" json:"refs,omitempty"`

	// mlflow, tensorboard, wandb, sagemaker, logs, prometheus (later versions)
	URI         string      `yaml:"uri,omitempty" json:"uri,omitempty"`
	Experiments []string    `yaml:"experiments,omitempty" json:"experiments,omitempty"`
	Region      string      `yaml:"region,omitempty" json:"region,omitempty"`
	Endpoint    string      `yaml:"endpoint,omitempty" json:"endpoint,omitempty"`
	Paths       []string    `yaml:"paths,omitempty" json:"paths,omitempty"`
	Format      string      `yaml:"format,omitempty" json:"format,omitempty"`
	CloudWatch  *CloudWatch `yaml:"cloudwatch,omitempty" json:"cloudwatch,omitempty"`
	S3          *S3Source   `yaml:"s3,omitempty" json:"s3,omitempty"`
	Files       []string    `yaml:"files,omitempty" json:"files,omitempty"`
	Queries     []Query     `yaml:"queries,omitempty" json:"queries,omitempty"`
	Window      string      `yaml:"window,omitempty" json:"window,omitempty"`
}

// Auth holds the credentials of a remote source. Secrets are references.
type Auth struct {
	Username string `yaml:"username,omitempty" json:"username,omitempty"`
	Password Secret `yaml:"password,omitempty" json:"password,omitzero"`
	Token    Secret `yaml:"token,omitempty" json:"token,omitzero"`
	SSHKey   string `yaml:"ssh_key,omitempty" json:"ssh_key,omitempty"` // path of a private key file; absolute after loading
}

// CloudWatch names a CloudWatch Logs group (logs sources).
type CloudWatch struct {
	Group  string `yaml:"group" json:"group"`
	Region string `yaml:"region,omitempty" json:"region,omitempty"`
}

// S3Source names logs kept in S3 (logs sources).
type S3Source struct {
	URL string `yaml:"url" json:"url"`
}

// Query is one PromQL query of a prometheus source.
type Query struct {
	Name      string   `yaml:"name" json:"name"`
	Expr      string   `yaml:"expr" json:"expr"`
	Step      string   `yaml:"step,omitempty" json:"step,omitempty"`
	Threshold *float64 `yaml:"threshold,omitempty" json:"threshold,omitempty"`
}

// Redact adds detectors to the built-in ones and says what happens to
// e-mail addresses.
type Redact struct {
	Patterns []Pattern `yaml:"patterns,omitempty" json:"patterns,omitempty"`
	// Emails is "mask" (the default when empty: addresses other than the
	// apprentice's are masked in stored text) or "keep".
	Emails string `yaml:"emails,omitempty" json:"emails,omitempty"`
}

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

// Problem is one thing wrong with a config file. Line is 1-based, or 0
// when the problem has no place in the file (an unreadable document).
// Path is the key's path ("sources[0].auth.password"), or "(file)" for
// the document as a whole.
type Problem struct {
	File string
	Line int
	Path string
	Msg  string
}

// RootPath is the Path of problems with the document as a whole.
const RootPath = "(file)"

// String gives "file:line: path: msg".
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	b.WriteString(": ")
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Error is every problem found in a config file. Load and Parse return it
// (as error; use errors.As) whenever the file is not a valid config.
type Error struct {
	Problems []Problem // sorted by line
}

// Error lists the problems, one per line, sorted by line.
func (e *Error) Error() string {
	ps := slices.Clone(e.Problems)
	sortProblems(ps)
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

func sortProblems(ps []Problem) {
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Line < ps[j].Line })
}

// Load reads and parses the config file at path; relative paths in it
// resolve against the file's folder. A file that cannot be read gives a
// wrapped I/O error (errors.Is(err, fs.ErrNotExist) when it is missing);
// a file with any problem gives an *Error naming them all.
func Load(path string) (*Config, error) {
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
		return nil, fmt.Errorf("load config %s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return nil, &Error{Problems: []Problem{{File: path, Path: RootPath,
			Msg: fmt.Sprintf("larger than %d bytes; this is not a config file", MaxFileSize)}}}
	}
	c, err := Parse(path, data, filepath.Dir(abs))
	if err != nil {
		return nil, err
	}
	c.File = abs
	return c, nil
}

// Parse decodes and validates a config file's contents. name is used in
// problems (and as Config.File); relative paths resolve against dir (the
// working directory when dir is ""). Any problem gives an *Error listing
// them all; a nil error means every check passed and defaults are
// applied.
func Parse(name string, data []byte, dir string) (*Config, error) {
	if dir == "" {
		dir = "."
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("parse config %s: resolve folder %s: %w", name, dir, err)
	}
	d := newDecoder(name, absDir)
	c := &Config{Dir: absDir, File: name}
	d.decodeFile(data, c)
	if len(d.problems) > 0 {
		ps := d.problems
		sortProblems(ps)
		if len(ps) > maxProblems {
			more := Problem{File: name, Line: ps[maxProblems].Line, Path: RootPath,
				Msg: fmt.Sprintf("%d more problems not shown", len(ps)-maxProblems)}
			ps = append(ps[:maxProblems:maxProblems], more)
		}
		return nil, &Error{Problems: ps}
	}
	return c, nil
}
