// Package sourceconfig is what a source type's own config is made of and
// decoded through, shared by the config file's package (pipeline/config)
// and the collectors, which do not import it: the seam through which a
// type decodes its keys (SourceDecoder, SourceKeys), credentials held by
// reference (Secret, Auth) and calendar days (Date).
package sourceconfig

import (
	"encoding/json"
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/ksbfolio/ksbfolio/internal/yamlstrict"
)

// SourceDecoder decodes the keys of one source type beyond name and type.
type SourceDecoder interface {
	// DecodeSource decodes the source's own keys with k.Decode into the
	// type's config struct, checks them, reporting every problem with
	// k.Problem, resolves its paths with k.Path, and returns the struct,
	// which becomes the config Source's Config. It reads nothing but k: no file, no
	// network.
	DecodeSource(k *SourceKeys) any
}

// SourceKeys is one source as its type's decoder sees it: the keys
// besides name and type, decoded strictly into the type's own struct
// (Decode), and the means to report what is wrong with them in the same
// "file:line: path: message" form as the rest of the file. Keys are named
// relative to the source: "path", "refs[0]", "auth.username".
type SourceKeys struct {
	s       Source
	decoded bool
}

// Source is where a SourceKeys is in the config file; the config file's
// decoder fills it (NewSourceKeys).
type Source struct {
	// Decoder is the file's strict walker; Node the source's mapping,
	// written at Path ("sources[1]") and Line, of type Type.
	Decoder *yamlstrict.Decoder
	Node    *yaml.Node
	Path    string
	Line    int
	Type    string
	// Common is a pointer to the struct of the keys every source has
	// (name, type), decoded with the type's own; Name gives the name
	// once decoded.
	Common any
	Name   func() string
	// ResolvePath resolves p, the value at keyPath, against the config
	// file's folder, reporting a bad path at keyPath.
	ResolvePath func(keyPath, p string) string
}

// NewSourceKeys returns the keys of the source s describes.
func NewSourceKeys(s Source) *SourceKeys { return &SourceKeys{s: s} }

// Decode decodes the source's keys into v, a pointer to a struct whose
// yaml tags name the type's keys, strictly: a key that is neither name,
// type nor a field of v is a problem with a "did you mean" hint, and so is
// a value of the wrong type. Call it once, before checking the values.
func (k *SourceKeys) Decode(v any) {
	k.decoded = true
	k.s.Decoder.Struct(k.s.Node, k.s.Path, k.s.Line, k.s.Type+" sources", k.s.Common, v)
}

// Decoded reports whether Decode was called.
func (k *SourceKeys) Decoded() bool { return k.decoded }

// Name returns the source's name as written (valid after Decode).
func (k *SourceKeys) Name() string { return k.s.Name() }

// Has reports whether key was written.
func (k *SourceKeys) Has(key string) bool { return k.s.Decoder.Present(k.s.Path + "." + key) }

// Problem reports that the value of key is missing or wrong. It is placed
// on the line of key, or of the nearest key above it that was written,
// and dropped when decoding already reported that key or one above it.
func (k *SourceKeys) Problem(key, format string, args ...any) {
	k.s.Decoder.Check(k.s.Path+"."+key, format, args...)
}

// Path resolves p, the value of key, against the config file's folder,
// and cleans it. A leading ~ or a NUL byte is a problem (p is returned as
// it is).
func (k *SourceKeys) Path(key, p string) string {
	return k.s.ResolvePath(k.s.Path+"."+key, p)
}

// Auth holds the credentials of a remote source. Secrets are references.
type Auth struct {
	Username string `yaml:"username,omitempty" json:"username,omitempty"`
	Password Secret `yaml:"password,omitempty" json:"password,omitzero"`
	Token    Secret `yaml:"token,omitempty" json:"token,omitzero"`
	SSHKey   string `yaml:"ssh_key,omitempty" json:"ssh_key,omitempty"` // path of a private key file; absolute after loading
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
