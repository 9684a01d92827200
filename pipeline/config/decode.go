package config

import (
	"fmt"
	"reflect"

	"go.yaml.in/yaml/v3"

	"github.com/ksbfolio/ksbfolio/internal/yamlstrict"
)

// maxProblems bounds the problems reported; the rest are counted.
const maxProblems = 100

// decoder walks a YAML node tree against the Config struct with the
// strict walker (internal/yamlstrict), assigning what fits and recording a
// Problem for everything else, then validates the result. It never stops
// at the first problem.
type decoder struct {
	*yamlstrict.Decoder
	dir   string
	types SourceTypes
}

func newDecoder(file, dir string, types SourceTypes) *decoder {
	d := &decoder{Decoder: yamlstrict.New(file), dir: dir, types: types}
	d.Root = RootPath
	d.Custom = map[reflect.Type]yamlstrict.Custom{
		reflect.TypeFor[Date]():   {Want: "a date (YYYY-MM-DD)", Decode: d.date},
		reflect.TypeFor[Secret](): {Want: "a secret reference like ${env:NAME} or ${file:PATH}", Decode: d.secret},
		reflect.TypeFor[Covers](): {Want: "an assessment method, all, or a list of KSB IDs", Decode: d.covers},
		reflect.TypeFor[Source](): {Want: "a mapping", Decode: d.source},
	}
	return d
}

// decodeFile parses data as one YAML document and decodes it into c.
func (d *decoder) decodeFile(data []byte, c *Config) {
	const emptyMsg = "the file is empty; it needs at least apprentice: with an id and emails (ksbfolio init writes one)"
	root := d.Read(data)
	switch {
	case root == nil:
		if len(d.Problems()) == 0 {
			d.Problemf(1, RootPath, emptyMsg)
		}
		return
	case yamlstrict.IsNull(root):
		d.Problemf(root.Line, RootPath, emptyMsg)
		return
	case root.Kind != yaml.MappingNode:
		d.Problemf(root.Line, RootPath, "want a mapping of settings (apprentice:, sources:, …), got %s", yamlstrict.Describe(root))
		return
	}
	d.Decode(root, reflect.ValueOf(c).Elem(), "", root.Line)
	d.validate(c)
}

func (d *decoder) date(n *yaml.Node, path string, line int) (any, error) {
	if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!str" && n.ShortTag() != "!!timestamp") {
		return nil, yamlstrict.ErrWrongType
	}
	t, err := ParseDate(n.Value)
	if err != nil {
		return nil, fmt.Errorf("%s is not a date (want YYYY-MM-DD)", yamlstrict.Quote(n.Value))
	}
	return t, nil
}

// secret decodes a secret reference. The value written is never repeated
// in a problem: it may be the secret itself.
func (d *decoder) secret(n *yaml.Node, path string, line int) (any, error) {
	if n.Kind != yaml.ScalarNode {
		return nil, yamlstrict.ErrWrongType
	}
	return ParseSecret(n.Value, d.dir)
}

// source decodes one entry of sources: the common keys (name, type) and,
// through the decoder of its type, the rest. A source whose type this
// build cannot collect has only its common keys decoded: its other keys
// cannot be checked without the type, and validate reports the type.
func (d *decoder) source(n *yaml.Node, path string, line int) (any, error) {
	if n.Kind != yaml.MappingNode {
		return nil, yamlstrict.ErrWrongType
	}
	var s Source
	var dec SourceDecoder
	if typ := peekScalar(n, "type"); typ != "" && d.types != nil {
		dec, _ = d.types.SourceDecoder(typ)
	}
	if dec == nil {
		for _, e := range d.Keys(n, path, nil, "") {
			switch e.Key {
			case "name":
				d.Decode(e.Value, reflect.ValueOf(&s.Name).Elem(), e.Path, e.Line)
			case "type":
				d.Decode(e.Value, reflect.ValueOf(&s.Type).Elem(), e.Path, e.Line)
			}
		}
		return s, nil
	}
	k := &SourceKeys{d: d, node: n, path: path, line: line, common: &s}
	s.Config = dec.DecodeSource(k)
	if !k.decoded {
		k.Decode(&struct{}{})
	}
	return s, nil
}

// SourceKeys is one source as its type's decoder sees it: the keys
// besides name and type, decoded strictly into the type's own struct
// (Decode), and the means to report what is wrong with them in the same
// "file:line: path: message" form as the rest of the file. Keys are named
// relative to the source: "path", "refs[0]", "auth.username".
type SourceKeys struct {
	d       *decoder
	node    *yaml.Node
	path    string // "sources[1]"
	line    int
	common  *Source
	decoded bool
}

// Decode decodes the source's keys into v, a pointer to a struct whose
// yaml tags name the type's keys, strictly: a key that is neither name,
// type nor a field of v is a problem with a "did you mean" hint, and so is
// a value of the wrong type. Call it once, before checking the values.
func (k *SourceKeys) Decode(v any) {
	k.decoded = true
	typ := peekScalar(k.node, "type")
	k.d.Struct(k.node, k.path, k.line, typ+" sources", k.common, v)
}

// Name returns the source's name as written (valid after Decode).
func (k *SourceKeys) Name() string { return k.common.Name }

// Has reports whether key was written.
func (k *SourceKeys) Has(key string) bool { return k.d.Present(k.path + "." + key) }

// Problem reports that the value of key is missing or wrong. It is placed
// on the line of key, or of the nearest key above it that was written,
// and dropped when decoding already reported that key or one above it.
func (k *SourceKeys) Problem(key, format string, args ...any) {
	k.d.Check(k.path+"."+key, format, args...)
}

// Path resolves p, the value of key, against the config file's folder,
// and cleans it. A leading ~ or a NUL byte is a problem (p is returned as
// it is).
func (k *SourceKeys) Path(key, p string) string {
	return k.d.resolvePath(k.path+"."+key, p)
}

// peekScalar returns the text of the first key named key in mapping n,
// if it is a scalar.
func peekScalar(n *yaml.Node, key string) string {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Value != key {
			continue
		}
		for hops := 0; v.Kind == yaml.AliasNode && v.Alias != nil && hops < 64; hops++ {
			v = v.Alias
		}
		if v.Kind == yaml.ScalarNode && !yamlstrict.IsNull(v) {
			return v.Value
		}
		return ""
	}
	return ""
}
