// Package yamlstrict walks a YAML node tree strictly and reports every
// problem at once, each as "file:line: path: message". It is the one YAML
// walker of ksbfolio: the config file (pipeline/config, and through it
// every collector's own keys), the tagging rules (evidence/tagging) and
// the KSB catalogue importer (evidence/ksb) use it.
//
// A Decoder reads one document (Read), then either decodes nodes into Go
// values by reflection (Decode, Struct: strings, numbers, booleans,
// lists, pointers, structs with yaml tags, and the caller's own
// types) or hands a caller's hand-written walk the checked keys of a
// mapping (Keys). Either way it refuses what a typo or a hostile file
// produces: unknown keys (with a "did you mean" hint), duplicate keys,
// merge keys, keys that are not plain scalars, wrong types, aliases that
// name nothing, and more than MaxNodes values once aliases are expanded.
// It never stops at the first problem, and no input makes it panic.
//
// Messages never repeat a scalar's value (Describe names only its kind),
// so that a secret written in the wrong place is not echoed back.
package yamlstrict

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// DefaultMaxNodes is the budget of a Decoder made by New.
const DefaultMaxNodes = 1 << 18

// Problem is one thing wrong in a file. Line is 1-based, or 0 when the
// problem has no place in the file. Path names the key ("sources[0].refs");
// it is empty, or the Decoder's Root, for the document as a whole.
type Problem struct {
	File string
	Line int
	Path string
	Msg  string
}

// String gives "file:line: path: msg", leaving out a zero line and an
// empty path.
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

// SortProblems sorts problems by line, keeping the order of those on the
// same line.
func SortProblems(ps []Problem) {
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Line < ps[j].Line })
}

// Error is every problem found in one file, as Decoder.Err returns it:
// the one error type of the config file, the tagging rules and the
// catalogue importer. errors.As(err, new(*Error)) gives the problems.
type Error struct {
	// Kind, when not nil, says what kind of file had the problems:
	// errors.Is(err, Kind) holds, so that a caller can tell one kind of
	// file from another (an invalid config, config.ErrInvalid, from a bad
	// catalogue). It is not part of the message.
	Kind     error
	Problems []Problem // sorted by line
}

// Is reports whether target is the error's Kind.
func (e *Error) Is(target error) bool { return e.Kind != nil && target == e.Kind }

// Error lists the problems, one a line ("file:line: path: msg").
func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Custom teaches a Decoder a type of its caller's (a date, a secret
// reference, a part whose keys depend on another key): Want names what it
// expects, for "want …, got …"; Decode turns a resolved, non-null node,
// written at path and line, into a value of the type, or returns an error
// whose text is the problem's message. Returning ErrWrongType gives the
// usual "want Want, got …" message.
type Custom struct {
	Want   string
	Decode func(n *yaml.Node, path string, line int) (any, error)
}

// ErrWrongType, returned by a Custom Decode, reports the node as the
// wrong kind of value.
var ErrWrongType = errors.New("wrong type")

// Decoder decodes one file, collecting its problems. Set the exported
// fields before use; the zero Decoder is not usable (use New).
type Decoder struct {
	File string // names the file in problems
	// Root is the Path of problems with the document as a whole (the
	// config file uses "(file)"; empty leaves the path out).
	Root string
	// MaxNodes bounds the values visited, counting each use of an alias
	// again, so that nested aliases cannot expand a small file into a
	// huge one.
	MaxNodes int
	// Custom are the caller's own types, decoded by the caller.
	Custom map[reflect.Type]Custom
	// Kind is the Kind of the Error that Err returns.
	Kind error
	// MaxProblems, when above 0, bounds the problems Err lists: the
	// first MaxProblems by line, then one more saying how many were left
	// out ("N more problems not shown").
	MaxProblems int

	problems []Problem
	// lines maps the path of every key and list item seen to its line,
	// so that later checks (Check) can place their problems.
	lines map[string]int
	// bad holds paths already reported by the walk; Check does not pile a
	// second problem on them or on anything under them.
	bad    map[string]bool
	nodes  int
	tooBig bool
}

// New returns a Decoder for the file named file, with the default budget.
func New(file string) *Decoder {
	return &Decoder{File: file, MaxNodes: DefaultMaxNodes, lines: map[string]int{}, bad: map[string]bool{}}
}

// Problems returns the problems found so far, in the order found.
func (d *Decoder) Problems() []Problem { return d.problems }

// Err returns the problems found so far, sorted by line (at most
// MaxProblems of them and a count of the rest), as an *Error of d's
// Kind, or nil when there are none.
func (d *Decoder) Err() error {
	if len(d.problems) == 0 {
		return nil
	}
	ps := slices.Clone(d.problems)
	SortProblems(ps)
	if n := d.MaxProblems; n > 0 && len(ps) > n {
		more := Problem{File: d.File, Line: ps[n].Line, Path: d.Root,
			Msg: fmt.Sprintf("%d more problems not shown", len(ps)-n)}
		ps = append(ps[:n:n], more)
	}
	return &Error{Kind: d.Kind, Problems: ps}
}

// Problemf records a problem at an explicit line (the document as a whole
// when path is empty).
func (d *Decoder) Problemf(line int, path, format string, args ...any) {
	if line < 0 {
		line = 0
	}
	if path == "" {
		path = d.Root
	}
	d.problems = append(d.problems, Problem{File: d.File, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// Reject records a problem with the value at path and marks path bad, so
// that Check adds nothing more about it or anything under it.
func (d *Decoder) Reject(line int, path, format string, args ...any) {
	d.bad[path] = true
	d.Problemf(line, path, format, args...)
}

var yamlLineError = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// Read parses data as one YAML document and returns its root node (not
// the document node). It returns nil when data holds no document (empty,
// only comments) or is not valid YAML, in which case a problem is
// recorded; a second document is a problem too. The root may be a null
// node ("~").
func (d *Decoder) Read(data []byte) *yaml.Node {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := safeDecode(dec, &doc); err != nil {
		if !errors.Is(err, io.EOF) {
			d.syntax(err)
		}
		return nil
	}
	var next yaml.Node
	switch err := safeDecode(dec, &next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		d.syntax(err)
		return nil
	default:
		d.Problemf(next.Line, "", "a second YAML document (after ---); the file must be one document")
		return nil
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil
		}
		root = root.Content[0]
	}
	d.lines[""] = root.Line
	return root
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
func (d *Decoder) syntax(err error) {
	msg := err.Error()
	if m := yamlLineError.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		d.Problemf(line, "", "not valid YAML: %s", m[2])
		return
	}
	d.Problemf(0, "", "not valid YAML: %s", strings.TrimPrefix(msg, "yaml: "))
}

// Resolve follows aliases and counts the node against the budget. It
// returns false, having recorded why, for an alias that names nothing and
// once the budget is spent.
func (d *Decoder) Resolve(n *yaml.Node, path string, line int) (*yaml.Node, bool) {
	for hops := 0; n.Kind == yaml.AliasNode; hops++ {
		if n.Alias == nil || hops > 64 {
			d.Reject(line, path, "alias *%s names no anchor", n.Value)
			return nil, false
		}
		n = n.Alias
	}
	d.nodes++
	if d.nodes > d.MaxNodes {
		if !d.tooBig {
			d.tooBig = true
			d.Reject(line, path, "too many values (more than %d once aliases are expanded)", d.MaxNodes)
		}
		return nil, false
	}
	return n, true
}

// Entry is one key of a mapping and its value.
type Entry struct {
	Key   string
	Path  string // the key's path, KeyPath(parent, Key)
	Line  int    // where the key is written
	Value *yaml.Node
}

// Keys checks the keys of mapping n and returns its entries in order.
// Keys that are not plain scalars, merge keys (<<) and duplicates are
// reported and left out. When known is not nil, a key not in it is
// reported, with the closest known key as a hint, and left out; what,
// when not empty, names the mapping in that message ("not a key of what
// (keys: …)"). Values are returned as written (aliases unresolved).
func (d *Decoder) Keys(n *yaml.Node, path string, known []string, what string) []Entry {
	var out []Entry
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		for hops := 0; k.Kind == yaml.AliasNode && k.Alias != nil && hops < 64; hops++ {
			k = k.Alias
		}
		if k.Kind != yaml.ScalarNode {
			d.Reject(k.Line, path, "keys must be plain words, got %s as a key", Describe(k))
			continue
		}
		if k.ShortTag() == "!!merge" {
			d.Reject(k.Line, KeyPath(path, k.Value), "merge keys (<<) are not supported; write the keys out")
			continue
		}
		name := k.Value
		kp := KeyPath(path, name)
		if first, dup := seen[name]; dup {
			d.Reject(k.Line, kp, "duplicate key (first at line %d)", first)
			continue
		}
		seen[name] = k.Line
		d.lines[kp] = k.Line
		if known != nil && !contains(known, name) {
			switch s := Suggest(name, known); {
			case s != "":
				d.Reject(k.Line, kp, "unknown key (did you mean %q?)", s)
			case what != "":
				d.Reject(k.Line, kp, "not a key of %s (keys: %s)", what, strings.Join(known, ", "))
			default:
				d.Reject(k.Line, kp, "unknown key (keys: %s)", strings.Join(known, ", "))
			}
			continue
		}
		out = append(out, Entry{Key: name, Path: kp, Line: k.Line, Value: val})
	}
	return out
}

// Decode decodes n into v, which must be settable (reflect.ValueOf(&x).Elem()).
// path names v; line is where its key (or list item) is written. A null
// node leaves v as it is.
func (d *Decoder) Decode(n *yaml.Node, v reflect.Value, path string, line int) {
	n, ok := d.Resolve(n, path, line)
	if !ok || IsNull(n) {
		return
	}
	if c, ok := d.Custom[v.Type()]; ok {
		x, err := c.Decode(n, path, line)
		switch {
		case errors.Is(err, ErrWrongType):
			d.wrongType(n, v.Type(), path, line)
		case err != nil:
			d.Reject(line, path, "%s", err.Error())
		default:
			v.Set(reflect.ValueOf(x))
		}
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.Type().Elem().Kind() == reflect.Struct && n.Kind != yaml.MappingNode {
			d.wrongType(n, v.Type(), path, line)
			return
		}
		p := reflect.New(v.Type().Elem())
		d.Decode(n, p.Elem(), path, line)
		v.Set(p)
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			d.wrongType(n, v.Type(), path, line)
			return
		}
		d.structs(n, path, "", []reflect.Value{v})
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.wrongType(n, v.Type(), path, line)
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			ip := Index(path, i)
			d.lines[ip] = item.Line
			d.Decode(item, s.Index(i), ip, item.Line)
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
		// Only reachable if a field of an unhandled type is added to a
		// decoded struct.
		d.Reject(line, path, "this build cannot decode a %s", v.Type())
	}
}

// Struct decodes mapping n into several structs at once: each key goes
// to the first target (a pointer to a struct) with a field of that yaml
// name, and a key no target has is reported as unknown, with the keys of
// every target as the hint ("not a key of what (keys: …)" when what is
// not empty). A common part and a type-specific part of one mapping are
// decoded this way. path names n; line is where its key is written.
func (d *Decoder) Struct(n *yaml.Node, path string, line int, what string, targets ...any) {
	n, ok := d.Resolve(n, path, line)
	if !ok || IsNull(n) {
		return
	}
	vs := make([]reflect.Value, len(targets))
	for i, t := range targets {
		v := reflect.ValueOf(t)
		if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
			panic(fmt.Sprintf("yamlstrict: Struct target %T is not a pointer to a struct", t))
		}
		vs[i] = v.Elem()
	}
	if n.Kind != yaml.MappingNode {
		d.Reject(line, path, "want a mapping, got %s", Describe(n))
		return
	}
	d.structs(n, path, what, vs)
}

// structs decodes the mapping n into the struct values vs.
func (d *Decoder) structs(n *yaml.Node, path, what string, vs []reflect.Value) {
	type target struct{ v, field int }
	where := map[string]target{}
	var names []string
	for vi, v := range vs {
		for _, f := range fieldsOf(v.Type()) {
			if _, dup := where[f.name]; !dup {
				where[f.name] = target{vi, f.index}
				names = append(names, f.name)
			}
		}
	}
	for _, e := range d.Keys(n, path, names, what) {
		t := where[e.Key]
		d.Decode(e.Value, vs[t.v].Field(t.field), e.Path, e.Line)
	}
}

// Check records a problem found after decoding (a missing or invalid
// value) at the line of path, or of its nearest ancestor that was
// written, unless the walk already reported path or an ancestor of it.
func (d *Decoder) Check(path, format string, args ...any) {
	for p := path; ; p = Parent(p) {
		if d.bad[p] {
			return
		}
		if p == "" {
			break
		}
	}
	d.Problemf(d.LineOf(path), path, format, args...)
}

// Present reports whether path was written in the file.
func (d *Decoder) Present(path string) bool {
	_, ok := d.lines[path]
	return ok
}

// LineOf returns the line of path, or of its nearest written ancestor.
func (d *Decoder) LineOf(path string) int {
	for p := path; ; p = Parent(p) {
		if l, ok := d.lines[p]; ok {
			return l
		}
		if p == "" {
			return 0
		}
	}
}

// Parent strips the last key or index from a path.
func Parent(path string) string {
	if strings.HasSuffix(path, "]") {
		if i := strings.LastIndexByte(path, '['); i >= 0 {
			return path[:i]
		}
	}
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[:i]
	}
	return ""
}

var simpleKey = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// KeyPath appends a key to a path, quoting keys that are not plain words.
func KeyPath(parent, key string) string {
	seg := key
	if !simpleKey.MatchString(key) {
		seg = Quote(key)
	}
	if parent == "" {
		return seg
	}
	return parent + "." + seg
}

// Index appends a list index to a path.
func Index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// wrongType records "want X, got Y". It never repeats the value.
func (d *Decoder) wrongType(n *yaml.Node, t reflect.Type, path string, line int) {
	d.Reject(line, path, "want %s, got %s", d.want(t), Describe(n))
}

// IsNull reports whether n is an explicit or implicit null ("key:" with
// nothing after it), which leaves a decoded value as it was.
func IsNull(n *yaml.Node) bool {
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

// Describe names what a node is, for "got …"; never its value.
func Describe(n *yaml.Node) string {
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
		return "a value tagged " + Quote(tag)
	}
}

// want names what a Go type expects, for "want …".
func (d *Decoder) want(t reflect.Type) string {
	if c, ok := d.Custom[t]; ok {
		return c.Want
	}
	switch t.Kind() {
	case reflect.Pointer:
		return d.want(t.Elem())
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
		_, custom := d.Custom[t.Elem()]
		switch e := t.Elem(); {
		case e.Kind() == reflect.String && !custom:
			return "a list of strings"
		case e.Kind() == reflect.Struct && !custom:
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

// KeysOf lists the yaml keys of a struct type, in field order: what
// Struct accepts for it.
func KeysOf(t reflect.Type) []string {
	var out []string
	for _, f := range fieldsOf(t) {
		out = append(out, f.name)
	}
	return out
}

// Quote quotes s for a message, shortened to a readable length.
func Quote(s string) string {
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

// Suggest returns the candidate closest to key, if it is close enough to
// be a typo of it.
func Suggest(key string, candidates []string) string {
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

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
