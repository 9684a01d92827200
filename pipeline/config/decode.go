package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Limits that keep a hostile or mistaken file from costing much.
const (
	// maxNodes bounds the values visited, counting each use of an alias
	// again, so that nested aliases cannot expand a small file into a
	// huge one.
	maxNodes = 1 << 18
	// maxProblems bounds the problems reported; the rest are counted.
	maxProblems = 100
)

var (
	dateType   = reflect.TypeFor[Date]()
	secretType = reflect.TypeFor[Secret]()
	sourceType = reflect.TypeFor[Source]()

	yamlLineError = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	simpleKey     = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
)

// decoder walks a YAML node tree against the Config struct, assigning
// what fits and recording a Problem for everything else, then validates
// the result. It never stops at the first problem.
type decoder struct {
	file     string
	dir      string
	problems []Problem
	// lines maps the path of every key and list item seen to its line,
	// so that validation can place its problems.
	lines map[string]int
	// bad holds paths already reported by the walk; validation does not
	// pile a second problem on them or on anything under them.
	bad    map[string]bool
	nodes  int
	tooBig bool
}

func newDecoder(file, dir string) *decoder {
	return &decoder{file: file, dir: dir, lines: map[string]int{}, bad: map[string]bool{}}
}

// problem records a problem at an explicit line.
func (d *decoder) problem(line int, path, format string, args ...any) {
	if line < 0 {
		line = 0
	}
	if path == "" {
		path = RootPath
	}
	d.problems = append(d.problems, Problem{File: d.file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// walkProblem records a problem found while walking and marks path bad.
func (d *decoder) walkProblem(line int, path, format string, args ...any) {
	d.bad[path] = true
	d.problem(line, path, format, args...)
}

// decodeFile parses data as one YAML document and decodes it into c.
func (d *decoder) decodeFile(data []byte, c *Config) {
	const emptyMsg = "the file is empty; it needs at least apprentice: with an id and emails (ksbfolio init writes one)"
	if len(bytes.TrimSpace(data)) == 0 {
		d.problem(1, RootPath, emptyMsg)
		return
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := safeDecode(dec, &doc); err != nil {
		if errors.Is(err, io.EOF) {
			d.problem(1, RootPath, emptyMsg)
			return
		}
		d.syntax(err)
		return
	}
	var next yaml.Node
	switch err := safeDecode(dec, &next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		d.syntax(err)
		return
	default:
		d.problem(next.Line, RootPath, "a second YAML document (after ---); the config is one document")
		return
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			d.problem(1, RootPath, emptyMsg)
			return
		}
		root = root.Content[0]
	}
	if isNull(root) {
		d.problem(root.Line, RootPath, emptyMsg)
		return
	}
	if root.Kind != yaml.MappingNode {
		d.problem(root.Line, RootPath, "want a mapping of settings (apprentice:, sources:, …), got %s", describe(root))
		return
	}
	d.lines[""] = root.Line
	d.value(root, reflect.ValueOf(c).Elem(), "", root.Line)
	d.validate(c)
}

// safeDecode runs the YAML parser, turning a panic inside it into an
// error so that no input can crash the caller.
func safeDecode(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: the YAML parser could not read this file (%v)", r)
		}
	}()
	return dec.Decode(n)
}

// syntax records a YAML syntax error, with its line when it has one.
func (d *decoder) syntax(err error) {
	msg := err.Error()
	if m := yamlLineError.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		d.problem(line, RootPath, "not valid YAML: %s", m[2])
		return
	}
	d.problem(0, RootPath, "not valid YAML: %s", strings.TrimPrefix(msg, "yaml: "))
}

// value decodes n into v. path names v; line is where its key (or list
// item) is written.
func (d *decoder) value(n *yaml.Node, v reflect.Value, path string, line int) {
	n, ok := d.resolve(n, path, line)
	if !ok || isNull(n) {
		return
	}
	switch v.Type() {
	case dateType:
		d.date(n, v, path, line)
		return
	case secretType:
		d.secret(n, v, path, line)
		return
	case coversType:
		d.covers(n, v, path, line)
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.Type().Elem().Kind() == reflect.Struct && n.Kind != yaml.MappingNode {
			d.wrongType(n, v.Type(), path, line)
			return
		}
		p := reflect.New(v.Type().Elem())
		d.value(n, p.Elem(), path, line)
		v.Set(p)
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			d.wrongType(n, v.Type(), path, line)
			return
		}
		d.mapping(n, v, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.wrongType(n, v.Type(), path, line)
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			ip := fmt.Sprintf("%s[%d]", path, i)
			d.lines[ip] = item.Line
			d.value(item, s.Index(i), ip, item.Line)
		}
		v.Set(s)
	case reflect.String:
		if n.Kind != yaml.ScalarNode || !plainScalar(n) {
			d.wrongType(n, v.Type(), path, line)
			return
		}
		v.SetString(n.Value)
	case reflect.Int, reflect.Int64:
		var i int64
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&i) != nil {
			d.wrongType(n, v.Type(), path, line)
			return
		}
		v.SetInt(i)
	case reflect.Float64:
		var f float64
		if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!int" && n.ShortTag() != "!!float") || n.Decode(&f) != nil {
			d.wrongType(n, v.Type(), path, line)
			return
		}
		v.SetFloat(f)
	case reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
			d.wrongType(n, v.Type(), path, line)
			return
		}
		v.SetBool(b)
	default:
		// Only reachable if a field of an unhandled type is added to Config.
		d.walkProblem(line, path, "this build cannot decode a %s", v.Type())
	}
}

// resolve follows aliases and counts the node against the budget.
func (d *decoder) resolve(n *yaml.Node, path string, line int) (*yaml.Node, bool) {
	for hops := 0; n.Kind == yaml.AliasNode; hops++ {
		if n.Alias == nil || hops > 64 {
			d.walkProblem(line, path, "alias *%s names no anchor", n.Value)
			return nil, false
		}
		n = n.Alias
	}
	d.nodes++
	if d.nodes > maxNodes {
		if !d.tooBig {
			d.tooBig = true
			d.walkProblem(line, path, "too many values (more than %d once aliases are expanded)", maxNodes)
		}
		return nil, false
	}
	return n, true
}

// mapping decodes a mapping node into the struct v, key by key.
func (d *decoder) mapping(n *yaml.Node, v reflect.Value, path string) {
	t := v.Type()
	fields := fieldsOf(t)
	names := make([]string, 0, len(fields))
	for _, f := range fields {
		names = append(names, f.name)
	}
	// Sources take only the keys of their type (SourceKeys); the type is
	// read first so that every key can be checked against it.
	var allowed []string
	var typ string
	if t == sourceType {
		typ = peekScalar(n, "type")
		allowed = SourceKeys(typ)
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		for hops := 0; k.Kind == yaml.AliasNode && k.Alias != nil && hops < 64; hops++ {
			k = k.Alias
		}
		if k.Kind != yaml.ScalarNode {
			d.walkProblem(k.Line, path, "keys must be plain words, got %s as a key", describe(k))
			continue
		}
		if k.ShortTag() == "!!merge" {
			d.walkProblem(k.Line, keyPath(path, k.Value), "merge keys (<<) are not supported; write the keys out")
			continue
		}
		name := k.Value
		kp := keyPath(path, name)
		if first, dup := seen[name]; dup {
			d.walkProblem(k.Line, kp, "duplicate key (first at line %d)", first)
			continue
		}
		seen[name] = k.Line
		d.lines[kp] = k.Line
		idx := -1
		for _, f := range fields {
			if f.name == name {
				idx = f.index
			}
		}
		if idx < 0 {
			candidates := names
			if allowed != nil {
				candidates = allowed
			}
			if s := suggest(name, candidates); s != "" {
				d.walkProblem(k.Line, kp, "unknown key (did you mean %q?)", s)
			} else {
				d.walkProblem(k.Line, kp, "unknown key (keys: %s)", strings.Join(candidates, ", "))
			}
			continue
		}
		if allowed != nil && !slices.Contains(allowed, name) {
			d.walkProblem(k.Line, kp, "not a key of %s sources (keys: %s)", typ, strings.Join(allowed, ", "))
			continue
		}
		d.value(val, v.Field(idx), kp, k.Line)
	}
}

func (d *decoder) date(n *yaml.Node, v reflect.Value, path string, line int) {
	if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!str" && n.ShortTag() != "!!timestamp") {
		d.wrongType(n, v.Type(), path, line)
		return
	}
	t, err := ParseDate(n.Value)
	if err != nil {
		d.walkProblem(line, path, "%s is not a date (want YYYY-MM-DD)", quote(n.Value))
		return
	}
	v.Set(reflect.ValueOf(t))
}

// secret decodes a secret reference. The value written is never repeated
// in a problem: it may be the secret itself.
func (d *decoder) secret(n *yaml.Node, v reflect.Value, path string, line int) {
	if n.Kind != yaml.ScalarNode {
		d.wrongType(n, v.Type(), path, line)
		return
	}
	s, err := ParseSecret(n.Value, d.dir)
	if err != nil {
		d.walkProblem(line, path, "%s", err.Error())
		return
	}
	v.Set(reflect.ValueOf(s))
}

// wrongType records "want X, got Y". It never repeats the value.
func (d *decoder) wrongType(n *yaml.Node, t reflect.Type, path string, line int) {
	d.walkProblem(line, path, "want %s, got %s", want(t), describe(n))
}

// isNull reports whether n is an explicit or implicit null ("key:" with
// nothing after it), which leaves the field at its zero value.
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// plainScalar reports whether a scalar may be read as text: strings,
// numbers, booleans and timestamps may; binary and custom tags may not.
func plainScalar(n *yaml.Node) bool {
	switch n.ShortTag() {
	case "!!str", "!!int", "!!float", "!!bool", "!!timestamp":
		return true
	}
	return false
}

// describe names what a node is, for "got …"; never its value.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.DocumentNode:
		return "a document"
	}
	switch tag := n.ShortTag(); tag {
	case "!!str":
		return "a string"
	case "!!int", "!!float":
		return "a number"
	case "!!bool":
		return "a boolean"
	case "!!null":
		return "nothing"
	case "!!timestamp":
		return "a date"
	case "!!binary":
		return "binary data"
	default:
		return "a value tagged " + quote(tag)
	}
}

// want names what a Go type expects, for "want …".
func want(t reflect.Type) string {
	switch t {
	case dateType:
		return "a date (YYYY-MM-DD)"
	case secretType:
		return "a secret reference like ${env:NAME} or ${file:PATH}"
	}
	switch t.Kind() {
	case reflect.Pointer:
		return want(t.Elem())
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int64:
		return "an integer"
	case reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.Struct:
		return "a mapping"
	case reflect.Slice:
		switch e := t.Elem(); {
		case e.Kind() == reflect.String:
			return "a list of strings"
		case e.Kind() == reflect.Struct && e != dateType && e != secretType:
			return "a list of mappings"
		default:
			return "a list"
		}
	}
	return t.String()
}

type field struct {
	name  string
	index int
}

// fieldsOf lists the yaml-tagged fields of a struct type, in order.
func fieldsOf(t reflect.Type) []field {
	var fs []field
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fs = append(fs, field{name: name, index: i})
	}
	return fs
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
		if v.Kind == yaml.ScalarNode && !isNull(v) {
			return v.Value
		}
		return ""
	}
	return ""
}

// keyPath appends a key to a path, quoting keys that are not plain words.
func keyPath(parent, key string) string {
	seg := key
	if !simpleKey.MatchString(key) {
		seg = quote(key)
	}
	if parent == "" {
		return seg
	}
	return parent + "." + seg
}

// quote quotes s for a message, shortened to a readable length.
func quote(s string) string {
	const max = 60
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + fmt.Sprintf("… (%d bytes)", len(s))
	}
	return strconv.Quote(s)
}

// suggest returns the candidate closest to key, if it is close enough to
// be a typo of it.
func suggest(key string, candidates []string) string {
	if len(key) > 64 {
		return ""
	}
	best, bestDist := "", -1
	for _, c := range candidates {
		if strings.EqualFold(key, c) {
			return c
		}
		dist := editDistance(strings.ToLower(key), c)
		limit := max(1, min(len(c), len(key))/3)
		if dist <= limit && (bestDist < 0 || dist < bestDist) {
			best, bestDist = c, dist
		}
	}
	return best
}

// editDistance is the optimal string alignment distance between a and b:
// insertions, deletions, substitutions and swaps of neighbours each cost 1.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
