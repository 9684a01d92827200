package yamlstrict_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/ksbfolio/ksbfolio/internal/yamlstrict"
)

type common struct {
	Name string `yaml:"name"`
	Kind string `yaml:"kind"`
}

type extra struct {
	Count int      `yaml:"count"`
	Tags  []string `yaml:"tags"`
	Level level    `yaml:"level"`
	Inner *struct {
		On bool `yaml:"on"`
	} `yaml:"inner"`
}

// level is a caller's own type, decoded by a Custom hook.
type level int

func decoder(file string) *yamlstrict.Decoder {
	d := yamlstrict.New(file)
	d.Custom = map[reflect.Type]yamlstrict.Custom{
		reflect.TypeFor[level](): {Want: "low or high", Decode: func(n *yaml.Node, path string, line int) (any, error) {
			switch {
			case n.Kind != yaml.ScalarNode:
				return nil, yamlstrict.ErrWrongType
			case n.Value == "low":
				return level(1), nil
			case n.Value == "high":
				return level(2), nil
			}
			return nil, errors.New("want low or high")
		}},
	}
	return d
}

func messages(d *yamlstrict.Decoder) string {
	ps := d.Problems()
	yamlstrict.SortProblems(ps)
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.String() + "\n")
	}
	return b.String()
}

func TestStruct(t *testing.T) {
	tests := []struct {
		name, yaml, want string
		check            func(t *testing.T, c common, e extra)
	}{
		{"two targets", "name: a\nkind: k\ncount: 3\ntags: [x, y]\nlevel: high\ninner: {on: true}\n", "",
			func(t *testing.T, c common, e extra) {
				if c.Name != "a" || c.Kind != "k" || e.Count != 3 || len(e.Tags) != 2 || e.Level != 2 || e.Inner == nil || !e.Inner.On {
					t.Errorf("decoded %+v %+v", c, e)
				}
			}},
		{"typo with a hint", "name: a\ncuont: 3\n", "f.yaml:2: x.cuont: unknown key (did you mean \"count\"?)\n", nil},
		{"unknown key names the mapping", "name: a\nzzz: 3\n",
			"f.yaml:2: x.zzz: not a key of things (keys: name, kind, count, tags, level, inner)\n", nil},
		{"wrong types", "count: ten\ntags: x\nlevel: [1]\ninner: 3\n",
			"f.yaml:1: x.count: want an integer, got a string\n" +
				"f.yaml:2: x.tags: want a list of strings, got a string\n" +
				"f.yaml:3: x.level: want low or high, got a list\n" +
				"f.yaml:4: x.inner: want a mapping, got a number\n", nil},
		{"custom message", "level: medium\n", "f.yaml:1: x.level: want low or high\n", nil},
		{"duplicates and merge keys", "name: a\nname: b\n<<: {kind: k}\n",
			"f.yaml:2: x.name: duplicate key (first at line 1)\n" +
				"f.yaml:3: x.\"<<\": merge keys (<<) are not supported; write the keys out\n", nil},
		{"aliases followed", "tags: &t [a]\nname: *t\n", "f.yaml:2: x.name: want a string, got a list\n", nil},
		{"value never repeated", "name: {hunter2: x}\ncount: hunter2\n",
			"f.yaml:1: x.name: want a string, got a mapping\nf.yaml:2: x.count: want an integer, got a string\n", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := decoder("f.yaml")
			root := d.Read([]byte(tc.yaml))
			if root == nil {
				t.Fatalf("no document: %s", messages(d))
			}
			var c common
			var e extra
			d.Struct(root, "x", root.Line, "things", &c, &e)
			if got := messages(d); got != tc.want {
				t.Errorf("problems:\n%s\nwant:\n%s", got, tc.want)
			}
			if tc.check != nil {
				tc.check(t, c, e)
			}
		})
	}
}

func TestRead(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"empty", "  \n", ""},
		{"comments", "# nothing\n", ""},
		{"syntax", "a: [b\n", "f.yaml:1: (file): not valid YAML: did not find expected ',' or ']'\n"},
		{"two documents", "a: 1\n---\nb: 2\n", "f.yaml:2: (file): a second YAML document (after ---); the file must be one document\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := decoder("f.yaml")
			d.Root = "(file)"
			if root := d.Read([]byte(tc.yaml)); root != nil {
				t.Errorf("Read returned a root for %q", tc.yaml)
			}
			if got := messages(d); got != tc.want {
				t.Errorf("problems:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

func TestKeysAndCheck(t *testing.T) {
	d := decoder("f.yaml")
	root := d.Read([]byte("a: 1\nb:\n  c: [x, {y: 1}]\nbad: [\n  1]\n"))
	var names []string
	for _, e := range d.Keys(root, "", nil, "") {
		names = append(names, e.Key+"@"+e.Path)
	}
	if strings.Join(names, " ") != "a@a b@b bad@bad" {
		t.Errorf("entries %v", names)
	}
	var v struct {
		C []string `yaml:"c"`
	}
	d.Struct(root.Content[3], "b", 2, "", &v)
	if !d.Present("b.c") || d.Present("b.d") || d.LineOf("b.c[1]") != 3 || d.LineOf("b.d") != 2 {
		t.Errorf("Present/LineOf wrong: %v %v %d %d", d.Present("b.c"), d.Present("b.d"), d.LineOf("b.c[1]"), d.LineOf("b.d"))
	}
	// A check on a path the walk already reported adds nothing; others are
	// placed on the nearest written line.
	d.Check("b.c[1]", "second problem")
	d.Check("b.d", "missing")
	want := "f.yaml:2: b.d: missing\nf.yaml:3: b.c[1]: want a string, got a mapping\n"
	if got := messages(d); got != want {
		t.Errorf("problems:\n%s\nwant:\n%s", got, want)
	}
}

func TestBudget(t *testing.T) {
	var b strings.Builder
	b.WriteString("a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n")
	d := decoder("f.yaml")
	d.MaxNodes = 500
	root := d.Read([]byte(b.String()))
	var v struct {
		A []string     `yaml:"a"`
		B [][]string   `yaml:"b"`
		C [][][]string `yaml:"c"`
	}
	d.Struct(root, "", 1, "", &v)
	if got := messages(d); strings.Count(got, "\n") != 1 || !strings.Contains(got, "too many values (more than 500") {
		t.Errorf("problems:\n%s", got)
	}
}

func TestSuggest(t *testing.T) {
	for _, tc := range []struct{ key, want string }{
		{"pth", "path"}, {"Path", "path"}, {"emials", "emails"}, {"colour", ""}, {strings.Repeat("x", 100), ""},
	} {
		if got := yamlstrict.Suggest(tc.key, []string{"path", "emails", "name"}); got != tc.want {
			t.Errorf("Suggest(%q) = %q, want %q", tc.key, got, tc.want)
		}
	}
}

// Err is nil without problems, and otherwise every problem, sorted by
// line, one a line.
func TestErr(t *testing.T) {
	d := decoder("f.yaml")
	if err := d.Err(); err != nil {
		t.Fatalf("Err with no problems = %v", err)
	}
	var c common
	var e extra
	if root := d.Read([]byte("name: x\ncount: many\nnmae: y\n")); root != nil {
		d.Struct(root, "", root.Line, "", &c, &e)
	}
	d.Problemf(1, "name", "checked later")
	err := d.Err()
	var se *yamlstrict.Error
	if !errors.As(err, &se) || len(se.Problems) != 3 {
		t.Fatalf("Err = %#v, want a *yamlstrict.Error of 3 problems", err)
	}
	want := "f.yaml:1: name: checked later\nf.yaml:2: count: want an integer, got a string\n" +
		`f.yaml:3: nmae: unknown key (did you mean "name"?)`
	if err.Error() != want {
		t.Errorf("Err:\n%s\nwant:\n%s", err, want)
	}
}

// Kind classifies an Error for errors.Is, through any wrapping, without
// showing in its text; an Error without a Kind is no kind.
func TestErrKind(t *testing.T) {
	invalidConfig, badCatalogue := errors.New("invalid config"), errors.New("bad catalogue")
	d := decoder("f.yaml")
	d.Kind = invalidConfig
	d.Problemf(2, "name", "required")
	err := fmt.Errorf("load: %w", d.Err())
	if !errors.Is(err, invalidConfig) || errors.Is(err, badCatalogue) {
		t.Errorf("Is(invalidConfig), Is(badCatalogue) = %t, %t; want true, false",
			errors.Is(err, invalidConfig), errors.Is(err, badCatalogue))
	}
	if want := "load: f.yaml:2: name: required"; err.Error() != want {
		t.Errorf("Error() = %q, want %q", err, want)
	}
	plain := decoder("g.yaml")
	plain.Problemf(1, "", "empty")
	if err := plain.Err(); errors.Is(err, invalidConfig) || errors.Is(err, nil) {
		t.Errorf("an Error without a Kind is %v", err)
	}
}

// MaxProblems keeps the first problems by line and counts the rest, in a
// problem of the document as a whole at the first line left out.
func TestErrMaxProblems(t *testing.T) {
	for _, tc := range []struct {
		max  int
		want string
	}{
		{0, "f.yaml:1: (file): p1\nf.yaml:2: (file): p2\nf.yaml:3: (file): p3\nf.yaml:4: (file): p4"},
		{4, "f.yaml:1: (file): p1\nf.yaml:2: (file): p2\nf.yaml:3: (file): p3\nf.yaml:4: (file): p4"},
		{2, "f.yaml:1: (file): p1\nf.yaml:2: (file): p2\nf.yaml:3: (file): 2 more problems not shown"},
	} {
		d := decoder("f.yaml")
		d.Root, d.MaxProblems = "(file)", tc.max
		for _, line := range []int{4, 2, 3, 1} {
			d.Problemf(line, "", "p%d", line)
		}
		if err := d.Err(); err.Error() != tc.want {
			t.Errorf("MaxProblems %d:\n%s\nwant:\n%s", tc.max, err, tc.want)
		}
	}
}
