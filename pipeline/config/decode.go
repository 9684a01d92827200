package config

import (
	"fmt"
	"reflect"

	"go.yaml.in/yaml/v3"

	"github.com/ksbfolio/ksbfolio/internal/sourceconfig"
	"github.com/ksbfolio/ksbfolio/internal/yamlstrict"
)

// maxProblems bounds the problems reported; the rest are counted.
const maxProblems = 100

// decoder walks a YAML node tree against the Config struct with the
// strict walker (internal/yamlstrict), assigning what fits and recording a
// problem for everything else, then validates the result. It never stops
// at the first problem.
type decoder struct {
	*yamlstrict.Decoder
	dir   string
	types SourceTypes
}

func newDecoder(file, dir string, types SourceTypes) *decoder {
	d := &decoder{Decoder: yamlstrict.New(file), dir: dir, types: types}
	d.Root = RootPath
	d.Kind = ErrInvalid
	d.MaxProblems = maxProblems
	d.Custom = map[reflect.Type]yamlstrict.Custom{
		reflect.TypeFor[sourceconfig.Date]():   {Want: "a date (YYYY-MM-DD)", Decode: d.date},
		reflect.TypeFor[sourceconfig.Secret](): {Want: "a secret reference like ${env:NAME} or ${file:PATH}", Decode: d.secret},
		reflect.TypeFor[Covers]():              {Want: "an assessment method, all, or a list of KSB IDs", Decode: d.covers},
		reflect.TypeFor[Source]():              {Want: "a mapping", Decode: d.source},
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
	t, err := sourceconfig.ParseDate(n.Value)
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
	return sourceconfig.ParseSecret(n.Value, d.dir)
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
	var dec sourceconfig.SourceDecoder
	typ := peekScalar(n, "type")
	if typ != "" && d.types != nil {
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
	k := sourceconfig.NewSourceKeys(sourceconfig.Source{Decoder: d.Decoder, Node: n, Path: path, Line: line, Type: typ,
		Common: &s, Name: func() string { return s.Name }, ResolvePath: d.resolvePath})
	s.Config = dec.DecodeSource(k)
	if !k.Decoded() {
		k.Decode(&struct{}{})
	}
	return s, nil
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
