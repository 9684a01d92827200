package ksb_test

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ksbfolio/ksbfolio/evidence/ksb"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const ownYAML = `# a catalogue in our schema
id: example-v1.0
title: Example
reference: ST9901
version: "1.0"
level: 6
complete: false
total_ksbs: 4
provenance: written by hand
notes: [one note]
duties:
  - {id: D1, text: A duty.}
ksbs:
  - id: S1
    kind: skill
    statement: A skill.
    methods: [project, professional_discussion]
  - id: k2
    statement: Kind filled from the letter.
  - {id: K1, kind: knowledge, statement: A knowledge., note: why}
`

// smallReference is a reference list in the shape of
// builtin/st1398-v1.0.yaml, for a made-up standard.
const smallReference = `# Example standard, version 2.0.
#
# Made up for the tests; licence: none.
standard:
  title: Example
  reference: st9901
  version: "2.0"
  level: 4
  status: Approved for delivery
  approved_for_delivery: 2026-12-11
  total_ksbs: 3
  complete: true
  licence: OGL-UK-3.0
duties:
  - {id: D1, text: "Do things.", ksbs: [K1, S1]}
ksbs:
  - {id: K1, kind: knowledge, text: "Know things.", methods: [project], grade_theme: Scoping}
  - {id: S1, kind: skill, text: "Do things.", methods: [discussion], grade_theme: Practice}
  - {id: B1, kind: behaviour, text: "Be kind.", methods: [discussion], grade_theme: Practice}
epa:
  source: made up
  methods:
  - id: project
    name: project report
    ksbs: 1
    grade_themes:
      Scoping: [K1]
  - id: discussion
    name: discussion
    ksbs: 2
    portfolio: optional
    grade_themes:
      Practice: [S1, B1]
    distinction_descriptors: [Does it well. S1]
version_log:
- {version: '2.0', change: Approved, earliest_start: 2026-12-11, latest_start: Not set}
`

func TestDetectFormat(t *testing.T) {
	ref, err := os.ReadFile(filepath.Join("builtin", "st1398-v1.0.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   string
		want ksb.Format
	}{
		{"own yaml", ownYAML, ksb.FormatYAML},
		{"own yaml with BOM", "\uFEFF" + ownYAML, ksb.FormatYAML},
		{"reference list", string(ref), ksb.FormatReference},
		{"small reference list", smallReference, ksb.FormatReference},
		{"api object", `{"referenceNumber": "ST1", "knowledges": []}`, ksb.FormatAPIJSON},
		{"api array", ` [ {"referenceNumber": "ST1"} ]`, ksb.FormatAPIJSON},
		{"own json", `{"id": "x", "ksbs": [{"id": "K1", "kind": "knowledge", "statement": "s"}]}`, ksb.FormatJSON},
		{"text with colons", "K1: How machine learning methods are applied.\nS1: Monitor models.\n", ksb.FormatText},
		{"text bullets", "- K1: One.\n- S1: Two.\n", ksb.FormatText},
		{"text not yaml", "Knowledge\nK1: a: b: c\n  bad indent\n", ksb.FormatText},
		{"yaml without ksbs", "id: x\ntitle: y\n", ksb.FormatText},
		{"empty", "", ksb.FormatText},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ksb.DetectFormat([]byte(tc.in)); got != tc.want {
				t.Errorf("DetectFormat = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseOwnYAML(t *testing.T) {
	c, err := ksb.Parse("cat.yaml", []byte(ownYAML), ksb.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != "example-v1.0" || c.Reference != "ST9901" || c.Version != "1.0" || c.Level != 6 || c.TotalKSBs != 4 {
		t.Errorf("metadata = %+v", c)
	}
	if got := statements(c); got != "K1=A knowledge.\nK2=Kind filled from the letter.\nS1=A skill.\nD1=A duty.\n" {
		t.Errorf("KSBs:\n%s", got)
	}
	k2, _ := c.Lookup("K2")
	if k2.Kind != ksb.Knowledge {
		t.Errorf("K2 kind = %q, want knowledge (from its letter)", k2.Kind)
	}
	s1, _ := c.Lookup("S1")
	if len(s1.Methods) != 2 || s1.Methods[1] != "professional_discussion" {
		t.Errorf("S1 methods = %q", s1.Methods)
	}
	k1, _ := c.Lookup("K1")
	if k1.Note != "why" {
		t.Errorf("K1 = %+v", k1)
	}
}

func TestParseOwnYAMLErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"unknown top-level key", "id: x\nksbs:\n  - {id: K1, kind: knowledge, statement: s}\ncompleet: true\n",
			[]string{`cat.yaml:4: compleet: unknown key (did you mean "complete"?)`}},
		{"unknown ksb key", "id: x\nksbs:\n  - id: K1\n    kind: knowledge\n    statment: typo\n",
			[]string{`cat.yaml:5: ksbs[0].statment: unknown key (did you mean "statement"?)`}},
		{"every unknown key", "id: x\nfoo: 1\nksbs:\n  - {id: K1, kind: knowledge, statement: s, bar: 2}\n",
			[]string{"cat.yaml:2: foo: unknown key (keys: id, title,", "\ncat.yaml:4: ksbs[0].bar: unknown key (keys: id, kind, statement,"}},
		{"wrong type", "id: x\nlevel: six\nksbs:\n  - {id: K1, kind: knowledge, statement: s}\n",
			[]string{"cat.yaml:2: level: want an integer, got a string"}},
		{"two documents", "id: x\nksbs:\n  - {id: K1, kind: knowledge, statement: s}\n---\nid: y\n",
			[]string{"cat.yaml:4: a second YAML document"}},
		{"invalid catalogue", "id: x\nksbs:\n  - {id: K1, kind: skill, statement: s}\n  - {id: K1, kind: knowledge, statement: t}\n",
			[]string{"not valid", "does not match", "duplicate id"}},
		{"bad id", "id: Has Spaces\nksbs:\n  - {id: K1, kind: knowledge, statement: s}\n",
			[]string{`id "Has Spaces"`}},
		{"no ksbs", "id: x\nksbs: []\n", []string{"ksbs: none"}},
		{"label instead of a statement", "id: x\nksbs:\n  - {id: K1, kind: knowledge, label: short}\n",
			[]string{"cat.yaml:3: ksbs[0].label: unknown key (keys: id, kind, statement,"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ksb.Parse("cat.yaml", []byte(tc.in), ksb.ImportOptions{})
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nwant it to contain %q", err, w)
				}
			}
		})
	}
}

func TestParseBrokenYAMLMentionsYAML(t *testing.T) {
	in := "id: x\nksbs:\n  - {id: K1, kind: knowledge, statement: s\n"
	_, err := ksb.Parse("cat.yaml", []byte(in), ksb.ImportOptions{})
	if err == nil || !strings.Contains(err.Error(), "read as YAML it fails") {
		t.Errorf("error = %v, want the YAML syntax error mentioned", err)
	}
}

func TestParseOwnJSON(t *testing.T) {
	in := `{"id": "example-v1.0", "title": "Example", "complete": false,
  "ksbs": [{"id": "S1", "kind": "skill", "statement": "A skill."}, {"id": "K1", "kind": "knowledge", "statement": "K."}]}`
	c, err := ksb.Parse("cat.json", []byte(in), ksb.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := statements(c); got != "K1=K.\nS1=A skill.\n" {
		t.Errorf("KSBs:\n%s", got)
	}
	_, err = ksb.Parse("cat.json", []byte(`{"id": "x", "ksbs": [], "extra": 1}`), ksb.ImportOptions{})
	if err == nil || !strings.Contains(err.Error(), `unknown field "extra"`) {
		t.Errorf("unknown JSON field: error = %v", err)
	}
}

func TestParseReference(t *testing.T) {
	c, err := ksb.Parse("st9901-v2.0.yaml", []byte(smallReference), ksb.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != "st9901-v2.0" || c.Reference != "ST9901" || c.Version != "2.0" || c.Level != 4 || c.TotalKSBs != 3 || !c.Complete || c.Licence != "OGL-UK-3.0" {
		t.Errorf("metadata = %+v", c)
	}
	if c.Provenance != "Example standard, version 2.0.\nMade up for the tests; licence: none." {
		t.Errorf("provenance = %q, want the header comment", c.Provenance)
	}
	want := []ksb.Fact{{Name: "status", Value: "Approved for delivery"}, {Name: "approved_for_delivery", Value: "2026-12-11"}}
	if !reflect.DeepEqual(c.Facts, want) {
		t.Errorf("facts = %+v, want %+v", c.Facts, want)
	}
	s1, _ := c.Lookup("S1")
	if s1.Statement != "Do things." || !slices.Equal(s1.Methods, []string{"discussion"}) || s1.GradeTheme != "Practice" {
		t.Errorf("S1 = %+v", s1)
	}
	if len(c.Methods) != 2 || c.Methods[1].Name != "discussion" || !slices.Equal(c.Methods[1].Themes, []string{"Practice"}) ||
		len(c.Methods[1].Distinction) != 1 {
		t.Errorf("methods = %+v", c.Methods)
	}
	if !slices.Equal(c.Duties[0].KSBs, []string{"K1", "S1"}) {
		t.Errorf("duties = %+v", c.Duties)
	}
	if len(c.VersionLog) != 1 || c.VersionLog[0].LatestStart != "Not set" {
		t.Errorf("version log = %+v", c.VersionLog)
	}
	if !strings.Contains(strings.Join(c.Notes, "\n"), "Portfolio (discussion): optional") {
		t.Errorf("notes = %q", c.Notes)
	}
}

func TestParseReferenceErrors(t *testing.T) {
	tests := []struct {
		name     string
		old, new string // replace old with new in smallReference
		want     []string
	}{
		{"unknown key", "  source: made up\n", "  sorce: made up\n", []string{`ref.yaml:21: epa.sorce: unknown key (did you mean "source"?)`}},
		{"unknown ksb key", "grade_theme: Scoping}", "grade_them: Scoping}", []string{`ref.yaml:17: ksbs[0].grade_them: unknown key (did you mean "grade_theme"?)`}},
		{"theme disagrees", "Practice: [S1, B1]", "Practice: [S1]\n      Other: [B1]",
			[]string{`B1 has grade theme "Practice" but the plan lists it under "Other"`}},
		{"ksb under the wrong method", "Scoping: [K1]", "Scoping: [K1, S1]",
			[]string{`S1 is listed under "Scoping" but its methods are [discussion]`}},
		{"count disagrees", "    ksbs: 2\n", "    ksbs: 3\n", []string{"ref.yaml:28: epa.methods[1] (discussion): says it assesses 3 KSBs, but 2 name it"}},
		{"theme not in the plan", "grade_theme: Scoping}", "grade_theme: Scope}", []string{`K1 has grade theme "Scope" but the plan lists it under "Scoping"`}},
		{"duty names a missing KSB", "ksbs: [K1, S1]}", "ksbs: [K1, S9]}", []string{"duties[0] (D1): KSB S9 is not in the catalogue"}},
		{"not complete enough", "total_ksbs: 3", "total_ksbs: 4", []string{"complete: the catalogue lists 3 KSBs but total_ksbs is 4"}},
		{"bad level", "level: 4", "level: four", []string{`ref.yaml:8: standard.level: "four": want a whole number`}},
		{"standard key twice", "level: 4", "level: 4\n  level: 5", []string{"ref.yaml:9: standard.level: duplicate key (first at line 8)"}},
		{"standard value not plain", "level: 4", "level: [4]", []string{"ref.yaml:8: standard.level: want a plain value, got a list"}},
		{"themes not a list", "Practice: [S1, B1]", "Practice: S1", []string{"ref.yaml:33: epa.methods[1].grade_themes.Practice: want a list of strings, got a string"}},
		{"themes not a mapping", "Practice: [S1, B1]", "[S1, B1]", []string{"ref.yaml:32: epa.methods[1].grade_themes: want a mapping of grade themes to lists of KSB IDs, got a list"}},
		{"empty statement", `text: "Be kind."`, `text: ""`, []string{"ksbs[2] (B1): no statement"}},
		{"no reference", "  reference: st9901\n", "", []string{"no catalogue ID"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := strings.Replace(smallReference, tc.old, tc.new, 1)
			if in == smallReference {
				t.Fatalf("%q not in smallReference", tc.old)
			}
			_, err := ksb.Parse("ref.yaml", []byte(in), ksb.ImportOptions{})
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nwant it to contain %q", err, w)
				}
			}
		})
	}
}

// TestParseReferenceReportsEverything: the walker does not stop at the
// first problem; every one is reported, in line order, as
// "file:line: path: message".
func TestParseReferenceReportsEverything(t *testing.T) {
	in := smallReference
	for _, r := range [][2]string{{"level: 4", "level: four"}, {"grade_theme: Scoping}", "grade_them: Scoping}"},
		{"  source: made up\n", "  sorce: made up\n  overall_grade: [pass]\n"}, {"    ksbs: 2\n", "    ksbs: two\n"}} {
		in = strings.Replace(in, r[0], r[1], 1)
	}
	_, err := ksb.Parse("ref.yaml", []byte(in), ksb.ImportOptions{})
	want := `read as a reference list: ref.yaml:8: standard.level: "four": want a whole number
ref.yaml:17: ksbs[0].grade_them: unknown key (did you mean "grade_theme"?)
ref.yaml:21: epa.sorce: unknown key (did you mean "source"?)
ref.yaml:22: epa.overall_grade: want a mapping of plain values, got a list
ref.yaml:31: epa.methods[1].ksbs: want an integer, got a string`
	if err == nil || err.Error() != want {
		t.Errorf("error:\n%v\nwant:\n%s", err, want)
	}
	start, end := strings.Index(smallReference, "standard:\n"), strings.Index(smallReference, "duties:\n")
	_, err = ksb.ParseFormat(ksb.FormatReference, "ref.yaml", []byte(smallReference[:start]+smallReference[end:]), ksb.ImportOptions{})
	if want := "read as a reference list: ref.yaml:4: standard: missing"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("no standard block: error = %v, want %q", err, want)
	}
}

// TestParseSupersededShape: the earlier partial list, whose labels_only
// entries were paraphrases, is refused with a message saying why.
func TestParseSupersededShape(t *testing.T) {
	in := "standard: {reference: ST1398, version: '1.0'}\nksbs:\n  - {id: K11, kind: knowledge, text: t}\nlabels_only:\n  - {id: K5, kind: knowledge, label: ML methods}\n"
	_, err := ksb.Parse("st1398-v1.0-known.yaml", []byte(in), ksb.ImportOptions{})
	if err == nil || !strings.Contains(err.Error(), "superseded partial list") || !strings.Contains(err.Error(), "st1398-v1.0-known.yaml") {
		t.Errorf("error = %v, want the superseded shape refused, naming the file", err)
	}
}

func TestImportOptionsOverride(t *testing.T) {
	c, err := ksb.Parse("cat.yaml", []byte(ownYAML), ksb.ImportOptions{ID: "other-v9", Title: "T", Reference: "st0001", Version: "9.0"})
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != "other-v9" || c.Title != "T" || c.Reference != "ST0001" || c.Version != "9.0" {
		t.Errorf("metadata = %q %q %q %q", c.ID, c.Title, c.Reference, c.Version)
	}
	// Asserting completeness of a catalogue that lists fewer KSBs than
	// total_ksbs fails validation.
	_, err = ksb.Parse("cat.yaml", []byte(ownYAML), ksb.ImportOptions{Complete: ptr(true)})
	if err == nil || !strings.Contains(err.Error(), "lists 3 KSBs but total_ksbs is 4") {
		t.Errorf("Complete override on a short catalogue: error = %v", err)
	}
}

func TestParseFormatUnknown(t *testing.T) {
	if _, err := ksb.ParseFormat("csv", "x.csv", []byte("K1,a"), ksb.ImportOptions{}); err == nil {
		t.Error("ParseFormat accepted an unknown format")
	}
}
