package coverage_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/coverage"
	"github.com/ksbfolio/ksbfolio/evidence/ksb"
	"github.com/ksbfolio/ksbfolio/internal/golden"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var now = time.Date(2026, 3, 2, 10, 4, 0, 0, time.UTC)

func catalogue(complete bool, ids ...string) *ksb.Catalogue {
	c := &ksb.Catalogue{ID: "st-test", Complete: complete}
	for _, id := range ids {
		c.KSBs = append(c.KSBs, ksb.KSB{ID: id, Kind: ksb.KindOf(id), Statement: "Statement of " + id})
	}
	return c
}

func item(id string, tags ...evidence.Tag) evidence.Item {
	return evidence.Item{ID: id, Kind: evidence.KindCommit, Tags: tags}
}

func declared(k string) evidence.Tag {
	return evidence.Tag{KSB: k, By: "declared:trailer", Confidence: 1, Reason: "trailer"}
}

func ruled(k string) evidence.Tag {
	return evidence.Tag{KSB: k, By: "rule:r", Confidence: 0.5, Reason: "guess"}
}

type dec struct {
	minute         int
	accept, reject []string
	exclude        *bool
}

func review(item string, ds ...dec) *evidence.Review {
	r := &evidence.Review{Schema: 1, Item: item}
	for _, d := range ds {
		r.Decisions = append(r.Decisions, evidence.Decision{
			At: now.Add(time.Duration(d.minute) * time.Minute), By: "Jane", Role: "apprentice",
			Accept: d.accept, Reject: d.reject, Exclude: d.exclude,
		})
	}
	return r
}

func ptr(b bool) *bool { return &b }

// coachKey is the key of the configured coach "Pat Coach".
var coachKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))

// reviewers trusts Pat Coach (coach) and nobody else.
func reviewers() *evidence.Verifier {
	return evidence.NewVerifier([]evidence.Reviewer{{Name: "Pat Coach", Role: "coach", Key: coachKey.Public().(ed25519.PublicKey)}})
}

// signed is a decision by name in role on it, signed with key.
func signed(it evidence.Item, name, role string, key ed25519.PrivateKey, minute int, accept, reject []string) evidence.Decision {
	d := evidence.Decision{ID: fmt.Sprintf("%032x", minute), At: now.Add(time.Duration(minute) * time.Minute), By: name, Role: role, Accept: accept, Reject: reject}
	return evidence.Sign(it.ID, evidence.ContentHash(it), d, key)
}

func TestStatus(t *testing.T) {
	type want struct {
		status              string
		evidenced, suggests []string
	}
	tests := []struct {
		name    string
		items   []evidence.Item
		reviews map[string]*evidence.Review
		ksb     string
		want    want
	}{
		{name: "nothing", ksb: "S1", want: want{coverage.Gap, nil, nil}},
		{name: "declared", ksb: "S1", items: []evidence.Item{item("a", declared("S1"))},
			want: want{coverage.Claimed, []string{"a"}, nil}},
		{name: "declared lower case", ksb: "S1", items: []evidence.Item{item("a", declared(" s1"))},
			want: want{coverage.Claimed, []string{"a"}, nil}},
		{name: "rule only", ksb: "S1", items: []evidence.Item{item("b", ruled("S1")), item("a", ruled("S1"))},
			want: want{coverage.Suggested, nil, []string{"a", "b"}}},
		{name: "rule then accepted", ksb: "S1", items: []evidence.Item{item("a", ruled("S1"))},
			reviews: map[string]*evidence.Review{"a": review("a", dec{minute: 1, accept: []string{"S1"}})},
			want:    want{coverage.Claimed, []string{"a"}, nil}},
		{name: "rule then accepted in lower case", ksb: "S1", items: []evidence.Item{item("a", ruled("S1"))},
			reviews: map[string]*evidence.Review{"a": review("a", dec{minute: 1, accept: []string{"s1"}})},
			want:    want{coverage.Claimed, []string{"a"}, nil}},
		{name: "rule then rejected", ksb: "S1", items: []evidence.Item{item("a", ruled("S1"))},
			reviews: map[string]*evidence.Review{"a": review("a", dec{minute: 1, reject: []string{"S1"}})},
			want:    want{coverage.Gap, nil, nil}},
		{name: "declared then rejected", ksb: "S1", items: []evidence.Item{item("a", declared("S1"))},
			reviews: map[string]*evidence.Review{"a": review("a", dec{minute: 1, reject: []string{"S1"}})},
			want:    want{coverage.Gap, nil, nil}},
		{name: "rejected then accepted later", ksb: "S1", items: []evidence.Item{item("a", ruled("S1"))},
			reviews: map[string]*evidence.Review{"a": review("a",
				dec{minute: 5, accept: []string{"S1"}}, dec{minute: 1, reject: []string{"S1"}})},
			want: want{coverage.Claimed, []string{"a"}, nil}},
		{name: "accepted then rejected later", ksb: "S1", items: []evidence.Item{item("a", ruled("S1"))},
			reviews: map[string]*evidence.Review{"a": review("a",
				dec{minute: 1, accept: []string{"S1"}}, dec{minute: 5, reject: []string{"S1"}})},
			want: want{coverage.Gap, nil, nil}},
		{name: "accepted without any tag", ksb: "B1", items: []evidence.Item{item("a")},
			reviews: map[string]*evidence.Review{"a": review("a", dec{minute: 1, accept: []string{"B1"}})},
			want:    want{coverage.Claimed, []string{"a"}, nil}},
		{name: "rejected on one item, declared on another", ksb: "S1",
			items:   []evidence.Item{item("a", declared("S1")), item("b", declared("S1"))},
			reviews: map[string]*evidence.Review{"a": review("a", dec{minute: 1, reject: []string{"S1"}})},
			want:    want{coverage.Claimed, []string{"b"}, nil}},
		{name: "excluded item does not count", ksb: "S1",
			items:   []evidence.Item{item("a", declared("S1")), item("b", ruled("S1"))},
			reviews: map[string]*evidence.Review{"a": review("a", dec{minute: 1, exclude: ptr(true)})},
			want:    want{coverage.Suggested, nil, []string{"b"}}},
		{name: "excluded item with accepted tag does not count", ksb: "S1",
			items: []evidence.Item{item("a", ruled("S1"))},
			reviews: map[string]*evidence.Review{"a": review("a",
				dec{minute: 1, accept: []string{"S1"}}, dec{minute: 2, exclude: ptr(true)})},
			want: want{coverage.Gap, nil, nil}},
		{name: "excluded then included again", ksb: "S1", items: []evidence.Item{item("a", declared("S1"))},
			reviews: map[string]*evidence.Review{"a": review("a",
				dec{minute: 1, exclude: ptr(true)}, dec{minute: 2, exclude: ptr(false)})},
			want: want{coverage.Claimed, []string{"a"}, nil}},
		{name: "declared and suggested elsewhere", ksb: "S1",
			items: []evidence.Item{item("a", declared("S1"), ruled("S1")), item("b", ruled("S1"))},
			want:  want{coverage.Claimed, []string{"a"}, []string{"b"}}},
		{name: "same item listed twice", ksb: "S1",
			items: []evidence.Item{item("a", declared("S1")), item("a", declared("S1"))},
			want:  want{coverage.Claimed, []string{"a"}, nil}},
		{name: "nil review in map", ksb: "S1", items: []evidence.Item{item("a", declared("S1"))},
			reviews: map[string]*evidence.Review{"a": nil},
			want:    want{coverage.Claimed, []string{"a"}, nil}},
		{name: "review tag stored on the item counts as accepted", ksb: "S1",
			items: []evidence.Item{item("a", evidence.Tag{KSB: "S1", By: "review:coach"})},
			want:  want{coverage.Claimed, []string{"a"}, nil}},
		{name: "declared, not in catalogue", ksb: "K99", items: []evidence.Item{item("a", declared("K99"))},
			want: want{coverage.NotInCatalogue, []string{"a"}, nil}},
		{name: "accepted, not in catalogue", ksb: "S42", items: []evidence.Item{item("a")},
			reviews: map[string]*evidence.Review{"a": review("a", dec{minute: 1, accept: []string{"S42"}})},
			want:    want{coverage.NotInCatalogue, []string{"a"}, nil}},
		{name: "rule only, not in catalogue: no row", ksb: "K98", items: []evidence.Item{item("a", ruled("K98"))},
			want: want{}},
		{name: "declared then rejected, not in catalogue: no row", ksb: "K99",
			items:   []evidence.Item{item("a", declared("K99"))},
			reviews: map[string]*evidence.Review{"a": review("a", dec{minute: 1, reject: []string{"K99"}})},
			want:    want{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := coverage.Compute(catalogue(true, "K1", "S1", "B1"), coverage.Target{}, "jdoe", tc.items, tc.reviews, now)
			var got *coverage.Row
			for i := range r.KSBs {
				if r.KSBs[i].KSB == tc.ksb {
					got = &r.KSBs[i]
				}
			}
			if tc.want.status == "" {
				if got != nil {
					t.Fatalf("want no row for %s, got %+v", tc.ksb, *got)
				}
				return
			}
			if got == nil {
				t.Fatalf("no row for %s in %+v", tc.ksb, r.KSBs)
			}
			if got.Status != tc.want.status {
				t.Errorf("status = %q, want %q", got.Status, tc.want.status)
			}
			wantEv, wantSu := tc.want.evidenced, tc.want.suggests
			if wantEv == nil {
				wantEv = []string{}
			}
			if wantSu == nil {
				wantSu = []string{}
			}
			if !reflect.DeepEqual(got.ClaimedBy, wantEv) || !reflect.DeepEqual(got.SuggestedBy, wantSu) {
				t.Errorf("claimed_by %q suggested_by %q, want %q %q", got.ClaimedBy, got.SuggestedBy, wantEv, wantSu)
			}
			s := r.Summary
			if s.Confirmed+s.Claimed+s.Suggested+s.Gap != s.Total || s.Evidenced != s.Confirmed+s.Claimed || s.Total != 3 {
				t.Errorf("summary does not add up: %+v", s)
			}
		})
	}
}

func TestRowsOrder(t *testing.T) {
	cat := catalogue(false, "K2", "K10", "S1", "B1")
	items := []evidence.Item{item("a", declared("B9"), declared("K99"), declared("s3"), declared("X1"), declared("K11"))}
	r := coverage.Compute(cat, coverage.Target{}, "jdoe", items, nil, now)
	var got []string
	for _, row := range r.KSBs {
		got = append(got, row.KSB+":"+row.Kind+":"+row.Status)
	}
	want := []string{"K2:knowledge:gap", "K10:knowledge:gap", "S1:skill:gap", "B1:behaviour:gap",
		"K11:knowledge:not_in_catalogue", "K99:knowledge:not_in_catalogue", "S3:skill:not_in_catalogue",
		"B9:behaviour:not_in_catalogue", "X1:unknown:not_in_catalogue"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rows:\n got %q\nwant %q", got, want)
	}
	if r.Summary.Total != 4 || r.Summary.Gap != 4 {
		t.Errorf("summary %+v counts rows outside the catalogue", r.Summary)
	}
}

func TestReadiness(t *testing.T) {
	all := []evidence.Item{item("a", declared("K1"), declared("S1"), declared("B1"))}
	many := strings.Fields("K1 K2 K3 K4 S1 S2 S3 B1")
	incomplete := catalogue(false, "K1", "S1", "B1")
	incomplete.ID = "st1398-v1.0"
	incomplete.TotalKSBs = 70
	unknownTotal := catalogue(false, "K1")
	tests := []struct {
		name   string
		cat    *ksb.Catalogue
		items  []evidence.Item
		ready  bool
		reason string
	}{
		{"complete and all claimed", catalogue(true, "K1", "S1", "B1"), all, false,
			"3 of 3 KSBs of catalogue st-test not yet confirmed; 3 claimed but not confirmed: K1, S1, B1"},
		{"incomplete, even if all evidenced", incomplete, all, false,
			"catalogue st1398-v1.0 is incomplete (3 of 70 KSBs known); readiness cannot be judged against it"},
		{"incomplete, total unknown", unknownTotal, all, false,
			"catalogue st-test is incomplete (1 KSBs known); readiness cannot be judged against it"},
		{"suggested is not evidenced", catalogue(true, "K1", "S1", "B1"),
			[]evidence.Item{item("a", declared("K1"), declared("B1"), ruled("S1"))}, false,
			"3 of 3 KSBs of catalogue st-test not yet confirmed; 2 claimed but not confirmed: K1, B1; 1 only suggested: S1"},
		{"many gaps", catalogue(true, many...), []evidence.Item{item("a", declared("K2"))}, false,
			"8 of 8 KSBs of catalogue st-test not yet confirmed; 1 claimed but not confirmed: K2; 7 with no evidence: K1, K3, K4, S1, S2 and 2 more"},
		{"empty complete catalogue", catalogue(true), nil, false,
			"catalogue st-test holds no KSBs; readiness cannot be judged against it"},
		{"nil catalogue", nil, all, false,
			"catalogue (unnamed) is incomplete (0 KSBs known); readiness cannot be judged against it"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := coverage.Compute(tc.cat, coverage.Target{}, "jdoe", tc.items, nil, now)
			if r.Ready != tc.ready || r.ReadyReason != tc.reason {
				t.Errorf("ready %v %q, want %v %q", r.Ready, r.ReadyReason, tc.ready, tc.reason)
			}
		})
	}
}

func TestComputeLeavesInputsAlone(t *testing.T) {
	items := []evidence.Item{item("a", declared(" s1"), ruled("k1"))}
	reviews := map[string]*evidence.Review{"a": review("a", dec{minute: 1, accept: []string{"k1"}})}
	itemsCopy, _ := json.Marshal(items)
	reviewsCopy, _ := json.Marshal(reviews)
	coverage.Compute(catalogue(true, "K1", "S1"), coverage.Target{}, "jdoe", items, reviews, now)
	a, _ := json.Marshal(items)
	b, _ := json.Marshal(reviews)
	if !bytes.Equal(a, itemsCopy) || !bytes.Equal(b, reviewsCopy) {
		t.Error("Compute changed its inputs")
	}
}

func TestJSONNeverNull(t *testing.T) {
	r := coverage.Compute(catalogue(true, "K1"), coverage.Target{}, "jdoe", nil, nil, now)
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("null")) {
		t.Errorf("JSON has null: %s", b)
	}
	r = coverage.Compute(&ksb.Catalogue{ID: "empty"}, coverage.Target{}, "jdoe", nil, nil, now)
	if b, _ = json.Marshal(r); !bytes.Contains(b, []byte(`"ksbs":[]`)) {
		t.Errorf("empty report: %s", b)
	}
}

// realistic builds a ledger against a catalogue shaped like the built-in
// ST1398 one: two assessment methods with grade themes, one of them what the
// portfolio covers.
func realistic() (*ksb.Catalogue, []evidence.Item, map[string]*evidence.Review) {
	pd, pr := []string{"professional_discussion"}, []string{"project"}
	cat := &ksb.Catalogue{
		ID: "st1398-v1.0", Title: "Machine learning engineer", Reference: "ST1398", Version: "1.0",
		Complete: true, TotalKSBs: 8,
		Methods: []ksb.Method{
			{ID: "project", Name: "project evaluation report, presentation and questioning", Themes: []string{"Experiment and tracking", "Model deployment", "Sustainability"}},
			{ID: "professional_discussion", Name: "professional discussion", Themes: []string{"Engineering principles", "Model management"}},
		},
		KSBs: []ksb.KSB{
			{ID: "K5", Kind: ksb.Knowledge, Statement: "Differences and applications of machine learning methods, and models such as: supervised learning.", Methods: pd, GradeTheme: "Engineering principles"},
			{ID: "K12", Kind: ksb.Knowledge, Statement: "Deployment approaches for new data pipelines and automated processes.", Methods: pr, GradeTheme: "Experiment and tracking"},
			{ID: "K14", Kind: ksb.Knowledge, Statement: "Change management processes for ML solutions; recording and logging change using appropriate tools and documentation.", Methods: pd, GradeTheme: "Model management"},
			{ID: "S10", Kind: ksb.Skill, Statement: "Apply techniques for monitoring models in the live environment to check they remain fit for purpose and stable.", Methods: pr, GradeTheme: "Model deployment"},
			{ID: "S16", Kind: ksb.Skill, Statement: "Transition prototypes into the live environment.", Methods: pr, GradeTheme: "Model deployment"},
			{ID: "S19", Kind: ksb.Skill, Statement: "Ensure the model capacity is scaled in proportion to the operating requirements.", Methods: pd, GradeTheme: "Model management"},
			{ID: "S24", Kind: ksb.Skill, Statement: "Monitor model data drift, using performance metrics to ensure systems are robust when moving outside of their domain of applicability.", Methods: pd, GradeTheme: "Model management"},
			{ID: "B2", Kind: ksb.Behaviour, Statement: "Takes personal responsibility and prioritises sustainable outcomes in how they carry out the duties of their role.", Methods: pr, GradeTheme: "Sustainability"},
		},
	}
	id := func(n string) string { return evidence.NewID("git", n) }
	rev := cat.Revision()
	tag := func(t evidence.Tag) evidence.Tag { t.Catalogue, t.Revision = cat.ID, rev; return t }
	items := []evidence.Item{
		item(id("c1"), tag(declared("S10")), tag(ruled("S10")), tag(ruled("S24"))),
		item(id("c2"), tag(ruled("S16")), tag(ruled("K12"))),
		item(id("c3"), tag(ruled("S19"))),
		item(id("c4"), tag(declared("K99")), tag(ruled("K14"))),
		item(id("c5"), tag(declared("S24"))),
		item(id("c6"), tag(declared("K14"))),
		item(evidence.NewID("mlflow", "run-1"), ruled("K5")), // tagged before revisions: stale
	}
	reviews := map[string]*evidence.Review{
		id("c2"): review(id("c2"), dec{minute: 1, accept: []string{"S16"}, reject: []string{"K12"}}),
		id("c5"): review(id("c5"), dec{minute: 1, exclude: ptr(true)}),
	}
	// The coach confirms K14 on c6, and rejects S19 on c3, which the
	// apprentice then accepts: a conflict, the rejection stands.
	rv := review(id("c3"), dec{minute: 9, accept: []string{"S19"}})
	rv.Decisions = append(rv.Decisions, signed(items[2], "Pat Coach", "coach", coachKey, 2, nil, []string{"S19"}))
	reviews[id("c3")] = rv
	reviews[id("c6")] = &evidence.Review{Item: id("c6"), Decisions: []evidence.Decision{signed(items[5], "Pat Coach", "coach", coachKey, 3, []string{"K14"}, nil)}}
	return cat, items, reviews
}

// realisticTarget is what the pipeline gives Compute for realistic(): the
// default covers set and the version that applies to a 2025 start.
func realisticTarget(t *testing.T, cat *ksb.Catalogue) coverage.Target {
	t.Helper()
	covers, err := coverage.NewCovers(cat, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	log := []ksb.VersionEntry{
		{Version: "1.0", Change: "Approved for delivery", EarliestStart: "2024-12-18", LatestStart: "2026-12-10"},
		{Version: "revised (number not shown)", Change: "Assessment plan revised", EarliestStart: "2026-12-11", LatestStart: "Not set"},
	}
	return coverage.Target{Covers: covers, Version: coverage.StandardVersion(cat, log, time.Date(2025, 8, 30, 0, 0, 0, 0, time.UTC)), Reviewers: reviewers()}
}

func TestGolden(t *testing.T) {
	cat, items, reviews := realistic()
	r := coverage.Compute(cat, realisticTarget(t, cat), "jdoe", items, reviews, now)
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	golden.Check(t, filepath.Join("testdata", "realistic.golden.json"), b, *update)

	var table bytes.Buffer
	if err := r.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "realistic.golden.txt"), table.Bytes(), *update)

	// The JSON names scripts rely on (docs/cli.md) are present.
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"apprentice", "catalogue", "catalogue_revision", "complete", "ready", "ready_reason", "covers", "methods", "summary", "others", "standard_version", "stale_items", "conflicts", "unverified_signatures", "ksbs"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	row := m["ksbs"].([]any)[0].(map[string]any)
	for _, k := range []string{"ksb", "kind", "status", "method", "grade_theme", "counted", "confirmed_by", "claimed_by", "suggested_by", "statement"} {
		if _, ok := row[k]; !ok {
			t.Errorf("row JSON lacks %q", k)
		}
	}
}

func TestWriteTableLongAndOddText(t *testing.T) {
	cat := &ksb.Catalogue{ID: "c", Complete: true, KSBs: []ksb.KSB{
		{ID: "K1", Kind: ksb.Knowledge, Statement: strings.Repeat("é", 100)},
		{ID: "K2", Kind: ksb.Knowledge, Statement: "tab\there\nnewline"},
		{ID: "S1", Kind: ksb.Skill, Statement: "short"},
	}}
	var b bytes.Buffer
	if err := coverage.Compute(cat, coverage.Target{}, "jdoe", nil, nil, now).WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, strings.Repeat("é", 59)+"…") || strings.Contains(out, strings.Repeat("é", 60)) {
		t.Errorf("long statement not cut to 60 runes:\n%s", out)
	}
	if !strings.Contains(out, "tab here newline") {
		t.Errorf("white space not folded:\n%s", out)
	}
	if !strings.Contains(out, "gateway ready: no — 3 of 3 KSBs of catalogue c not yet confirmed") {
		t.Errorf("readiness line missing:\n%s", out)
	}
}

type failWriter struct{ after int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.after <= 0 {
		return 0, errors.New("disk full")
	}
	f.after--
	return len(p), nil
}

func TestWriteTableError(t *testing.T) {
	cat, items, reviews := realistic()
	r := coverage.Compute(cat, realisticTarget(t, cat), "jdoe", items, reviews, now)
	for after := range 4 {
		err := r.WriteTable(&failWriter{after: after})
		if err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("after %d writes: err = %v, want disk full", after, err)
		}
	}
}

func builtinST1398(t testing.TB) *ksb.Catalogue {
	t.Helper()
	for _, c := range ksb.Builtin() {
		if c.ID == "st1398-v1.0" {
			return c
		}
	}
	t.Fatal("ksb.Builtin has no st1398-v1.0")
	return nil
}

// TestBuiltinReadiness: against the official ST1398 list, the portfolio
// covers the 39 KSBs of the professional discussion by default. A ledger
// that evidences all 39 is ready; with one missing it is not, and the
// reason names it. The 31 project KSBs do not count either way.
func TestBuiltinReadiness(t *testing.T) {
	cat := builtinST1398(t)
	covers, err := coverage.NewCovers(cat, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if covers.Set != "professional_discussion" || len(covers.KSBs) != 39 || covers.Name != "assessed by the professional discussion" {
		t.Fatalf("default covers = %+v", covers)
	}
	// confirmAll declares every covered KSB but except on item a, and the
	// coach confirms those but unconfirmed.
	confirmAll := func(except, unconfirmed string) ([]evidence.Item, map[string]*evidence.Review) {
		var tags []evidence.Tag
		var ok []string
		for _, id := range covers.KSBs {
			if id != except {
				tags = append(tags, declared(id))
				if id != unconfirmed {
					ok = append(ok, id)
				}
			}
		}
		a := item("a", tags...)
		rv := &evidence.Review{Item: "a", Decisions: []evidence.Decision{signed(a, "Pat Coach", "coach", coachKey, 1, ok, nil)}}
		return []evidence.Item{a, item("b", ruled("K2"))}, map[string]*evidence.Review{"a": rv}
	}
	target := coverage.Target{Covers: covers, Reviewers: reviewers()}
	items, reviews := confirmAll("", "")
	r := coverage.Compute(cat, target, "jdoe", items, reviews, now)
	if !r.Ready || r.ReadyReason != "all 39 KSBs assessed by the professional discussion are confirmed by a configured reviewer" {
		t.Errorf("all 39 confirmed: ready %v %q", r.Ready, r.ReadyReason)
	}
	if r.Summary != (coverage.Summary{Confirmed: 39, Evidenced: 39, Total: 39}) || r.Others != (coverage.Summary{Suggested: 1, Gap: 30, Total: 31}) {
		t.Errorf("summary %+v, others %+v", r.Summary, r.Others)
	}
	items, reviews = confirmAll("S24", "K1")
	r = coverage.Compute(cat, target, "jdoe", items, reviews, now)
	if r.Ready || r.ReadyReason != "2 of 39 KSBs assessed by the professional discussion not yet confirmed; 1 claimed but not confirmed: K1; 1 with no evidence: S24" {
		t.Errorf("S24 missing, K1 unconfirmed: ready %v %q", r.Ready, r.ReadyReason)
	}
	// Without the reviewer configured, nothing is confirmed.
	items, reviews = confirmAll("", "")
	r = coverage.Compute(cat, coverage.Target{Covers: covers}, "jdoe", items, reviews, now)
	if r.Ready || r.Summary != (coverage.Summary{Claimed: 39, Evidenced: 39, Total: 39}) || r.Unverified != 1 ||
		!strings.HasPrefix(r.ReadyReason, "39 of 39 KSBs assessed by the professional discussion not yet confirmed; 39 claimed but not confirmed: K1, K4, K5, K11, K14 and 34 more") {
		t.Errorf("no reviewers: ready %v %q, summary %+v", r.Ready, r.ReadyReason, r.Summary)
	}

	all := coverage.All(cat)
	items, reviews = confirmAll("", "")
	r = coverage.Compute(cat, coverage.Target{Covers: all, Reviewers: reviewers()}, "jdoe", items, reviews, now)
	if r.Ready || r.Summary.Total != 70 || r.Others.Total != 0 ||
		!strings.HasPrefix(r.ReadyReason, "31 of 70 KSBs of catalogue st1398-v1.0 not yet confirmed; 1 only suggested: K2; 30 with no evidence: K3,") {
		t.Errorf("covers all: ready %v %q, summary %+v", r.Ready, r.ReadyReason, r.Summary)
	}
	for _, row := range r.KSBs {
		k, _ := cat.Lookup(row.KSB)
		if row.Statement != k.Statement || row.Method != k.Methods[0] || row.GradeTheme != k.GradeTheme || !row.Counted {
			t.Errorf("%s row = %+v", row.KSB, row)
		}
	}
}

func TestNewCovers(t *testing.T) {
	cat := builtinST1398(t)
	tests := []struct {
		name string
		set  string
		ids  []string
		want string // Set:count, or an error's text
	}{
		{"default", "", nil, "professional_discussion:39"},
		{"method", "professional_discussion", nil, "professional_discussion:39"},
		{"project", "project", nil, "project:31"},
		{"all", "all", nil, "all:70"},
		{"listed", "", []string{"s24", "K1", "K1"}, "listed:2"},
		{"listed wins over set", "all", []string{"B5"}, "listed:1"},
		{"unknown method", "exam", nil, "portfolio.covers: exam: not an assessment method of catalogue st1398-v1.0 (project, professional_discussion, or all, or a list of KSBs)"},
		{"unknown KSB", "", []string{"K1", "S35", "K99"}, "portfolio.covers: catalogue st1398-v1.0 has no S35, K99"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := coverage.NewCovers(cat, tc.set, tc.ids)
			got := fmt.Sprintf("%s:%d", c.Set, len(c.KSBs))
			if err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Errorf("NewCovers(%q, %q) = %s, want %s", tc.set, tc.ids, got, tc.want)
			}
		})
	}
	// A catalogue that does not map its KSBs to methods: the default is
	// every KSB; naming a method is an error.
	plain := catalogue(true, "K1", "S1")
	if c, err := coverage.NewCovers(plain, "", nil); err != nil || c.Set != "all" || len(c.KSBs) != 2 {
		t.Errorf("default on a catalogue without methods = %+v, %v", c, err)
	}
	if _, err := coverage.NewCovers(plain, "professional_discussion", nil); err == nil || !strings.Contains(err.Error(), "does not say which assessment method") {
		t.Errorf("method on a catalogue without methods: %v", err)
	}
}

func TestStandardVersion(t *testing.T) {
	cat := builtinST1398(t)
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	tests := []struct {
		start   time.Time
		applies string
		current bool
		note    string
	}{
		{day("2025-08-30"), "1.0", true, "version 1.0 applies (start 2025-08-30; starts 2024-12-18 to 2026-12-10), and catalogue st1398-v1.0 is that version"},
		{day("2026-12-11"), "revised (number not shown)", false, "the apprentice started on 2026-12-11, so the revised (number not shown) version " +
			"(Assessment plan revised (2025/2026 assessment reforms), awaiting implementation) applies (starts from 2026-12-11); " +
			"its KSB list is not known to this catalogue, which is version 1.0: when it is published, import it " +
			"(ksbfolio standard import FILE --id st1398-v2.0) and select it with standard:"},
		{time.Time{}, "", false, "the apprentice's start date is not set (apprentice.start), so which version of the standard applies is not checked; " +
			"version 1.0 is for starts 2024-12-18 to 2026-12-10"},
		{day("2020-01-01"), "", false, "no version in the standard's version log is for a start on 2020-01-01"},
	}
	for _, tc := range tests {
		v := coverage.StandardVersion(cat, cat.VersionLog, tc.start)
		if v == nil || v.Applies != tc.applies || v.Current != tc.current || v.Note != tc.note {
			t.Errorf("StandardVersion(%s) = %+v\nwant applies %q current %v note\n%s", tc.start, v, tc.applies, tc.current, tc.note)
		}
	}
	// An imported v2.0 catalogue, with the standard's log: the revised
	// plan's entry has no number, so v2.0 is taken to be it.
	v2 := &ksb.Catalogue{ID: "st1398-v2.0", Reference: "ST1398", Version: "2.0"}
	if v := coverage.StandardVersion(v2, cat.VersionLog, day("2027-01-04")); v == nil || !v.Current {
		t.Errorf("v2.0 for a 2027 start = %+v, want current", v)
	}
	if v := coverage.StandardVersion(v2, cat.VersionLog, day("2025-01-04")); v == nil || v.Current || v.Applies != "1.0" {
		t.Errorf("v2.0 for a 2025 start = %+v, want version 1.0 applies", v)
	}
	if v := coverage.StandardVersion(cat, nil, day("2025-01-04")); v != nil {
		t.Errorf("no log: %+v, want nil", v)
	}
}

// TestStaleItems: items whose tags name another catalogue or revision are
// counted, so that run and coverage can say a retag is due.
func TestStaleItems(t *testing.T) {
	cat := catalogue(true, "K1", "S1")
	rev := cat.Revision()
	tag := func(k, catalogue, revision string) evidence.Tag {
		return evidence.Tag{KSB: k, By: "declared:trailer", Catalogue: catalogue, Revision: revision}
	}
	items := []evidence.Item{
		item("fresh", tag("K1", "st-test", rev)),
		item("no-revision", tag("K1", "st-test", "")),
		item("other-revision", tag("K1", "st-test", "0123456789abcdef"), tag("S1", "st-test", rev)),
		item("other-catalogue", tag("K1", "st9999-v1.0", rev)),
		item("untagged"),
	}
	r := coverage.Compute(cat, coverage.Target{}, "jdoe", items, nil, now)
	if r.StaleItems != 3 || r.Revision != rev {
		t.Errorf("stale items = %d, revision %q; want 3, %q", r.StaleItems, r.Revision, rev)
	}
	var b bytes.Buffer
	if err := r.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "3 items were tagged against another catalogue or an earlier revision of st-test: run `ksbfolio retag`") {
		t.Errorf("table does not say a retag is due:\n%s", b.String())
	}
}

func BenchmarkCompute(b *testing.B) {
	cat := builtinST1398(b)
	items := make([]evidence.Item, 5000)
	reviews := map[string]*evidence.Review{}
	for i := range items {
		k := cat.KSBs[i%len(cat.KSBs)].ID
		id := evidence.NewID("git", strings.Repeat("x", i%7)+string(rune('a'+i%26))+time.Duration(i).String())
		items[i] = item(id, ruled(k), declared(cat.KSBs[(i*7)%len(cat.KSBs)].ID))
		if i%10 == 0 {
			reviews[id] = review(id, dec{minute: 1, accept: []string{k}})
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		coverage.Compute(cat, coverage.Target{}, "jdoe", items, reviews, now)
	}
}
