package ksb_test

import (
	"os"
	"path/filepath"
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
  - {id: K1, kind: knowledge, label: A label only, note: why}
`

func TestDetectFormat(t *testing.T) {
	known, err := os.ReadFile(filepath.Join("builtin", "st1398-v1.0-known.yaml"))
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
		{"known reference", string(known), ksb.FormatKnown},
		{"known labels only", "standard: {reference: ST1}\nlabels_only: []\n", ksb.FormatKnown},
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
	if got := statements(c); got != "K1=\nK2=Kind filled from the letter.\nS1=A skill.\nD1=A duty.\n" {
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
	if k1.Display() != ksb.LabelOnlyMarker+" A label only" {
		t.Errorf("K1.Display() = %q", k1.Display())
	}
}

func TestParseOwnYAMLErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"unknown top-level key", "id: x\nksbs:\n  - {id: K1, kind: knowledge, statement: s}\ncompleet: true\n",
			[]string{"cat.yaml", "line 4", "field compleet not found"}},
		{"unknown ksb key", "id: x\nksbs:\n  - id: K1\n    kind: knowledge\n    statment: typo\n",
			[]string{"line 5", "field statment not found"}},
		{"every unknown key", "id: x\nfoo: 1\nksbs:\n  - {id: K1, kind: knowledge, statement: s, bar: 2}\n",
			[]string{"line 2", "field foo", "line 4", "field bar"}},
		{"wrong type", "id: x\nlevel: six\nksbs:\n  - {id: K1, kind: knowledge, statement: s}\n",
			[]string{"line 2", "six"}},
		{"two documents", "id: x\nksbs:\n  - {id: K1, kind: knowledge, statement: s}\n---\nid: y\n",
			[]string{"more than one document"}},
		{"invalid catalogue", "id: x\nksbs:\n  - {id: K1, kind: skill, statement: s}\n  - {id: K1, kind: knowledge, statement: t}\n",
			[]string{"not valid", "does not match", "duplicate id"}},
		{"bad id", "id: Has Spaces\nksbs:\n  - {id: K1, kind: knowledge, statement: s}\n",
			[]string{`id "Has Spaces"`}},
		{"no ksbs", "id: x\nksbs: []\n", []string{"ksbs: none"}},
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
  "ksbs": [{"id": "S1", "kind": "skill", "statement": "A skill."}, {"id": "K1", "kind": "knowledge", "label": "L"}]}`
	c, err := ksb.Parse("cat.json", []byte(in), ksb.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := statements(c); got != "K1=\nS1=A skill.\n" {
		t.Errorf("KSBs:\n%s", got)
	}
	_, err = ksb.Parse("cat.json", []byte(`{"id": "x", "ksbs": [], "extra": 1}`), ksb.ImportOptions{})
	if err == nil || !strings.Contains(err.Error(), `unknown field "extra"`) {
		t.Errorf("unknown JSON field: error = %v", err)
	}
}

func TestParseKnownShape(t *testing.T) {
	in := `standard:
  title: Example
  reference: st9901
  version: "2.0"
  level: 4
  total_ksbs: 10
duties:
  - {id: D1, text: "Do things.", source: provider, confidence: provider-quoted}
ksbs:
  - {id: K3, kind: knowledge, text: "Quoted knowledge.", methods: [], source: provider, confidence: provider-quoted, note: "a note"}
labels_only:
  - {id: B1, kind: behaviour, label: "Initiative", source: provider, disputed: "someone says there is no B1"}
truncated:
  - {id: "S?", kind: skill, text_prefix: "Assess", source: somewhere}
related_standards:
  - {ref: ST1, title: x}
`
	c, err := ksb.Parse("known.yaml", []byte(in), ksb.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != "st9901-v2.0" || c.Reference != "ST9901" || c.Level != 4 || c.TotalKSBs != 10 || c.Complete {
		t.Errorf("metadata = %+v", c)
	}
	k3, _ := c.Lookup("K3")
	if k3.Statement != "Quoted knowledge." || k3.Methods != nil || k3.Note != "a note" || k3.Confidence != "provider-quoted" {
		t.Errorf("K3 = %+v", k3)
	}
	b1, _ := c.Lookup("B1")
	if b1.Statement != "" || b1.Label != "Initiative" || !strings.Contains(b1.Note, "someone says there is no B1") {
		t.Errorf("B1 = %+v", b1)
	}
	if len(c.KSBs) != 2 {
		t.Errorf("KSBs = %+v; the truncated entry must be left out", c.KSBs)
	}
	if !strings.Contains(strings.Join(c.Notes, "\n"), `"Assess"`) {
		t.Errorf("notes do not mention the truncated entry: %q", c.Notes)
	}

	_, err = ksb.Parse("known.yaml", []byte("standard: {reference: ST1, version: '1'}\nksbs:\n  - {id: K1, kind: knowledge}\nlabels_only:\n  - {id: K2, kind: knowledge}\n"), ksb.ImportOptions{})
	if err == nil || !strings.Contains(err.Error(), "ksbs[0] (K1): text is required") || !strings.Contains(err.Error(), "labels_only[0] (K2): label is required") {
		t.Errorf("missing text and label: error = %v", err)
	}
	_, err = ksb.Parse("known.yaml", []byte("standard: {title: x}\nksbs:\n  - {id: K1, kind: knowledge, text: t}\n"), ksb.ImportOptions{})
	if err == nil || !strings.Contains(err.Error(), "no catalogue ID") {
		t.Errorf("no reference or version: error = %v", err)
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
	// Asserting completeness of a catalogue with label-only KSBs fails validation.
	_, err = ksb.Parse("cat.yaml", []byte(ownYAML), ksb.ImportOptions{Complete: ptr(true)})
	if err == nil || !strings.Contains(err.Error(), "says it is complete") {
		t.Errorf("Complete override on a catalogue with labels: error = %v", err)
	}
}

func TestParseFormatUnknown(t *testing.T) {
	if _, err := ksb.ParseFormat("csv", "x.csv", []byte("K1,a"), ksb.ImportOptions{}); err == nil {
		t.Error("ParseFormat accepted an unknown format")
	}
}
