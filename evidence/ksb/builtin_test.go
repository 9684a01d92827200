package ksb_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ksbfolio/ksbfolio/evidence/ksb"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func builtinST1398(t *testing.T) *ksb.Catalogue {
	t.Helper()
	for _, c := range ksb.Builtin() {
		if c.ID == "st1398-v1.0" {
			return c
		}
	}
	t.Fatal("no built-in catalogue st1398-v1.0")
	return nil
}

func TestBuiltinIDsMatchBuiltin(t *testing.T) {
	var got []string
	for _, c := range ksb.Builtin() {
		got = append(got, c.ID)
	}
	if want := ksb.BuiltinIDs(); !slices.Equal(got, want) || len(want) == 0 {
		t.Errorf("Builtin() IDs = %q, BuiltinIDs() = %q; want equal and non-empty", got, want)
	}
}

func TestBuiltinST1398(t *testing.T) {
	c := builtinST1398(t)
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate() = %v", err)
	}
	if c.Reference != "ST1398" || c.Version != "1.0" || c.Level != 6 || c.Title != "Machine learning engineer" {
		t.Errorf("metadata = %q %q level %d %q", c.Reference, c.Version, c.Level, c.Title)
	}
	if c.Complete {
		t.Error("Complete = true; the built-in catalogue is incomplete")
	}
	if c.TotalKSBs != 70 {
		t.Errorf("TotalKSBs = %d, want 70", c.TotalKSBs)
	}
	statements, labels := 0, 0
	for _, k := range c.KSBs {
		if k.HasStatement() {
			statements++
			if k.Label != "" {
				t.Errorf("%s has both a statement and a label", k.ID)
			}
		} else {
			labels++
			if !strings.HasPrefix(k.Display(), ksb.LabelOnlyMarker+" ") {
				t.Errorf("%s.Display() = %q: a label without the marker", k.ID, k.Display())
			}
			if k.Confidence != "label-only" {
				t.Errorf("%s.Confidence = %q, want label-only", k.ID, k.Confidence)
			}
		}
	}
	if statements != 14 || labels != 17 {
		t.Errorf("%d statements and %d label-only KSBs, want 14 and 17", statements, labels)
	}
	k, s, b := c.Counts()
	if k+s+b != 31 || k != 11 || s != 15 || b != 5 {
		t.Errorf("Counts() = %d, %d, %d; want 11, 15, 5", k, s, b)
	}

	k11, ok := c.Lookup("k11")
	if !ok {
		t.Fatal("K11 missing")
	}
	if want := "How machine learning methods are applied to maximise the impact to the organisation."; k11.Statement != want || k11.Display() != want {
		t.Errorf("K11 statement %q, Display %q; want %q", k11.Statement, k11.Display(), want)
	}
	if k11.Confidence != "provider-quoted" || k11.Source != "Corndel/AI6-5W coach/ksb_mapping.md" || k11.Kind != ksb.Knowledge || k11.Methods != nil {
		t.Errorf("K11 = %+v", k11)
	}
	k5, ok := c.Lookup("K5")
	if !ok {
		t.Fatal("K5 missing")
	}
	if k5.Statement != "" || k5.Label != "ML methods and experiment tracking tools" {
		t.Errorf("K5 = %+v, want a label and no statement", k5)
	}
	if want := "[label only — official statement not known] ML methods and experiment tracking tools"; k5.Display() != want {
		t.Errorf("K5.Display() = %q, want %q", k5.Display(), want)
	}
	b5, _ := c.Lookup("B5")
	if !strings.Contains(b5.Note, "there is no B5 in ST1398 v1.0") {
		t.Errorf("B5 note %q does not carry the dispute", b5.Note)
	}
	s10, _ := c.Lookup("S10")
	if s10.Confidence != "conflicting" || !strings.Contains(s10.Note, "Validate appropriateness") {
		t.Errorf("S10 = %+v, want the conflict kept", s10)
	}

	var ids []string
	for _, k := range c.KSBs {
		ids = append(ids, k.ID)
	}
	want := []string{"K5", "K7", "K11", "K12", "K13", "K14", "K15", "K18", "K19", "K28", "K29",
		"S5", "S6", "S8", "S9", "S10", "S11", "S14", "S16", "S19", "S20", "S22", "S26", "S28", "S29", "S31",
		"B1", "B2", "B3", "B4", "B5"}
	if !slices.Equal(ids, want) {
		t.Errorf("order = %q\nwant %q", ids, want)
	}
	if len(c.Duties) != 3 || c.Duties[0].ID != "D4" {
		t.Errorf("duties = %+v", c.Duties)
	}

	notes := strings.Join(c.Notes, "\n")
	for _, w := range []string{"2026", "never the official statement", "Assess vulnerabilities of the prop", "not none"} {
		if !strings.Contains(notes, w) {
			t.Errorf("notes do not mention %q:\n%s", w, notes)
		}
	}
	for _, w := range []string{"incomplete", "31 of the standard's 70", "14 with a quoted statement", "17 known only by a short label", "unverified"} {
		if !strings.Contains(c.Provenance, w) {
			t.Errorf("provenance does not say %q: %s", w, c.Provenance)
		}
	}
	for _, k := range c.KSBs {
		if strings.HasPrefix(k.ID, "S?") || strings.Contains(k.Statement, "Assess vulnerabilities of the prop") {
			t.Errorf("the truncated entry leaked into KSBs: %+v", k)
		}
	}
}

func TestBuiltinFreshCopies(t *testing.T) {
	a := builtinST1398(t)
	a.KSBs[0].Statement = "changed"
	a.Notes = nil
	b := builtinST1398(t)
	if b.KSBs[0].Statement == "changed" || len(b.Notes) == 0 {
		t.Error("changing one Builtin() result changed the next")
	}
}

func TestBuiltinEmbeddedIsVerbatimCopy(t *testing.T) {
	// shared/ sits beside the repository (in CI too).
	ref := filepath.Join("..", "..", "..", "shared", "reference", "st1398-v1.0-known.yaml")
	want, err := os.ReadFile(ref)
	if err != nil {
		t.Skipf("reference file not available here: %v", err)
	}
	got, err := os.ReadFile(filepath.Join("builtin", "st1398-v1.0-known.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	first, rest, _ := bytes.Cut(got, []byte("\n"))
	if !bytes.HasPrefix(first, []byte("# Copied verbatim")) || !bytes.Equal(rest, want) {
		t.Error("builtin/st1398-v1.0-known.yaml is not the header line plus a verbatim copy of " + ref)
	}
}

// TestBuiltinGolden pins the built-in catalogue as Marshal writes it, so a
// change to the reference data or the conversion shows up in review.
// Regenerate with: go test ./evidence/ksb -run TestBuiltinGolden -update
func TestBuiltinGolden(t *testing.T) {
	got, err := ksb.Marshal(builtinST1398(t))
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "st1398-v1.0.golden.yaml")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Marshal(built-in) differs from %s; run with -update if the change is intended\ngot:\n%s", golden, got)
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	cats := ksb.Builtin()
	imported, err := ksb.Parse("list.txt", []byte("K1: One.\nS2: Two.\nB3: Three.\nD1: A duty.\n"),
		ksb.ImportOptions{ID: "x-v1", Title: "X", Reference: "ST0001", Version: "1.0", Complete: ptr(true)})
	if err != nil {
		t.Fatal(err)
	}
	cats = append(cats, imported)
	for _, c := range cats {
		t.Run(c.ID, func(t *testing.T) {
			b, err := ksb.Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			if f := ksb.DetectFormat(b); f != ksb.FormatYAML {
				t.Errorf("DetectFormat(Marshal(c)) = %q, want yaml", f)
			}
			back, err := ksb.Parse(c.ID+".yaml", b, ksb.ImportOptions{})
			if err != nil {
				t.Fatalf("Parse(Marshal(c)) = %v\n%s", err, b)
			}
			if !reflect.DeepEqual(back, c) {
				t.Errorf("round trip changed the catalogue\n got %+v\nwant %+v", back, c)
			}
		})
	}
}

func TestMarshalRefusesInvalid(t *testing.T) {
	if _, err := ksb.Marshal(&ksb.Catalogue{ID: "Bad ID"}); err == nil {
		t.Error("Marshal accepted an invalid catalogue")
	}
}

func ptr[T any](v T) *T { return &v }

func BenchmarkBuiltin(b *testing.B) {
	for b.Loop() {
		if len(ksb.Builtin()) == 0 {
			b.Fatal("no built-in catalogues")
		}
	}
}

func BenchmarkParseText70(b *testing.B) {
	var in strings.Builder
	for _, p := range []struct {
		letter string
		n      int
	}{{"K", 30}, {"S", 32}, {"B", 8}} {
		for i := 1; i <= p.n; i++ {
			fmt.Fprintf(&in, "%s%d: A statement long enough to wrap\n  onto a second line like the official page does.\n", p.letter, i)
		}
	}
	data := []byte(in.String())
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ksb.Parse("list.txt", data, ksb.ImportOptions{ID: "bench"}); err != nil {
			b.Fatal(err)
		}
	}
}
