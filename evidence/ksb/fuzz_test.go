package ksb_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ksbfolio/ksbfolio/evidence/ksb"
)

// checkParsed asserts what holds for every catalogue Parse returns: it
// validates, every KSB has a statement, and it survives a Marshal round
// trip with the same revision.
func checkParsed(t *testing.T, c *ksb.Catalogue) {
	t.Helper()
	if err := c.Validate(); err != nil {
		t.Fatalf("Parse returned a catalogue that does not validate: %v", err)
	}
	for _, k := range c.KSBs {
		if strings.TrimSpace(k.Statement) == "" {
			t.Fatalf("%s: no statement", k.ID)
		}
	}
	b, err := ksb.Marshal(c)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	back, err := ksb.Parse("again.yaml", b, ksb.ImportOptions{})
	if err != nil {
		t.Fatalf("Parse(Marshal(c)): %v\n%s", err, b)
	}
	if !reflect.DeepEqual(back, c) {
		t.Fatalf("round trip changed the catalogue\n got %#v\nwant %#v", back, c)
	}
	if back.Revision() != c.Revision() {
		t.Fatalf("round trip changed the revision")
	}
}

func FuzzParseText(f *testing.F) {
	for _, s := range []string{
		"K1: One.\nS1 Two.\nB1 - Three.\n",
		"\uFEFFKnowledge\r\n- K1. Wrapped\r\n  statement.\r\n\r\nSkills\r\n* S1 – Skill.\r\n",
		"Duties\nDuty 1 Do it.\nK1 K2\nKnowledge\n1. **K1:** Bold.\nK1: dup\n",
		"K1:\n", "K0: zero", "S9999: big", "Back to Duty", "B2B\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		c, err := ksb.ParseFormat(ksb.FormatText, "fuzz.txt", []byte(in), ksb.ImportOptions{ID: "fuzz"})
		if err != nil {
			return
		}
		checkParsed(t, c)
		for _, k := range c.KSBs {
			if k.Statement == "" || k.Confidence != "imported" {
				t.Fatalf("%s: statement %q confidence %q", k.ID, k.Statement, k.Confidence)
			}
		}
	})
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"skills-england-standard.json", "skills-england-list.json", "courses-api-ksbs.json", "courses-api-ksbs-nokey.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	ref, err := os.ReadFile(filepath.Join("builtin", "st1398-v1.0.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(ref)
	f.Add([]byte(smallReference))
	f.Add([]byte(ownYAML))
	f.Add([]byte(`{"id": "x", "ksbs": [{"id": "K1", "kind": "knowledge", "statement": "s"}]}`))
	f.Add([]byte("K1: One.\nS1: Two.\n"))
	f.Add([]byte("id: x\nksbs:\n  - {id: K1, kind: knowledge, statement: s, x: &a [*a]}\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := ksb.Parse("fuzz", in, ksb.ImportOptions{ID: "fuzz"})
		if err != nil {
			return
		}
		if c.ID != "fuzz" {
			t.Fatalf("ID = %q, want the option's", c.ID)
		}
		checkParsed(t, c)
	})
}
