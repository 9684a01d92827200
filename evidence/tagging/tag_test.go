package tagging_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/ksb"
	"github.com/ksbfolio/ksbfolio/evidence/tagging"
)

// testCatalogue builds a small catalogue by hand.
func testCatalogue(id string, ids ...string) *ksb.Catalogue {
	c := &ksb.Catalogue{ID: id, Title: "Test standard"}
	for _, k := range ids {
		kind := map[byte]string{'K': ksb.Knowledge, 'S': ksb.Skill, 'B': ksb.Behaviour}[k[0]]
		c.KSBs = append(c.KSBs, ksb.KSB{ID: k, Kind: kind, Statement: "Statement of " + k + "."})
	}
	return c
}

func rule(id string, ksbs []string, m tagging.Match) tagging.Rule {
	return tagging.Rule{ID: id, KSBs: ksbs, Reason: "reason " + id, Confidence: 0.5, Match: m}
}

func mustCompile(t *testing.T, rules []tagging.Rule, cat *ksb.Catalogue) *tagging.Tagger {
	t.Helper()
	tg, warns, err := tagging.Compile(rules, cat, tagging.CompileOptions{})
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	if len(warns) > 0 {
		t.Fatalf("Compile warnings: %v", warns)
	}
	return tg
}

// ruleIDs lists the rule IDs among an item's tags, in tag order, once each.
func ruleIDs(tags []evidence.Tag) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, tg := range tags {
		if tg.IsRule() && !seen[tg.By] {
			seen[tg.By] = true
			out = append(out, strings.TrimPrefix(tg.By, evidence.ByRule))
		}
	}
	return out
}

func commit(title, summary string, files ...string) evidence.Item {
	fs := make([]any, len(files))
	for i, f := range files {
		fs[i] = map[string]any{"path": f, "added": 1}
	}
	return evidence.Item{Kind: evidence.KindCommit, SourceType: "git", Title: title, Summary: summary,
		Facts: map[string]any{"files": fs}}
}

func TestMatchConditions(t *testing.T) {
	cat := testCatalogue("c", "K1", "S1")
	tests := []struct {
		name  string
		match tagging.Match
		item  evidence.Item
		want  bool
	}{
		{"kind in list", tagging.Match{Kinds: []evidence.Kind{"merge", "commit"}}, commit("t", ""), true},
		{"kind not in list", tagging.Match{Kinds: []evidence.Kind{"training_run"}}, commit("t", ""), false},
		{"source type", tagging.Match{SourceTypes: []string{"mlflow", "git"}}, commit("t", ""), true},
		{"source type other", tagging.Match{SourceTypes: []string{"mlflow"}}, commit("t", ""), false},
		{"path glob", tagging.Match{Paths: []string{"monitoring/**"}}, commit("t", "", "src/a.py", "monitoring/alerts/x.yaml"), true},
		{"path glob any of", tagging.Match{Paths: []string{"nope/**", "**/*alert*.y*ml"}}, commit("t", "", "deploy/prom/high-alerts.yml"), true},
		{"path glob no file matches", tagging.Match{Paths: []string{"monitoring/**"}}, commit("t", "", "src/monitoring.py"), false},
		{"path glob no files fact", tagging.Match{Paths: []string{"**"}}, evidence.Item{Kind: "commit"}, false},
		{"path leading ./ removed", tagging.Match{Paths: []string{"k8s/*.yaml"}}, commit("t", "", "./k8s/hpa.yaml"), true},
		{"path files as []map[string]any", tagging.Match{Paths: []string{"Dockerfile"}},
			evidence.Item{Facts: map[string]any{"files": []map[string]any{{"path": "README"}, {"path": "Dockerfile"}}}}, true},
		{"path files as []string", tagging.Match{Paths: []string{"Dockerfile"}},
			evidence.Item{Facts: map[string]any{"files": []string{"Dockerfile"}}}, true},
		{"path files malformed", tagging.Match{Paths: []string{"**"}},
			evidence.Item{Facts: map[string]any{"files": []any{42, map[string]any{"path": 7}, nil}}}, false},
		{"path files not a list", tagging.Match{Paths: []string{"**"}},
			evidence.Item{Facts: map[string]any{"files": "Dockerfile"}}, false},
		{"text in title", tagging.Match{Text: `(?i)\bdrift\b`}, commit("Add Drift check", ""), true},
		{"text in summary", tagging.Match{Text: `(?i)\bdrift\b`}, commit("x", "adds a drift check"), true},
		{"text spans title and summary only via newline", tagging.Match{Text: `title\nbody`}, commit("title", "body"), true},
		{"text no match", tagging.Match{Text: `(?i)\bdrift\b`}, commit("adrift", ""), false},
		{"fact string", tagging.Match{Facts: map[string]string{"status": "^FINISHED$"}},
			evidence.Item{Facts: map[string]any{"status": "FINISHED"}}, true},
		{"fact string no match", tagging.Match{Facts: map[string]string{"status": "^FINISHED$"}},
			evidence.Item{Facts: map[string]any{"status": "FAILED"}}, false},
		{"fact missing key", tagging.Match{Facts: map[string]string{"status": ".*"}},
			evidence.Item{Facts: map[string]any{}}, false},
		{"fact nil facts", tagging.Match{Facts: map[string]string{"status": ".*"}}, evidence.Item{}, false},
		{"fact nested", tagging.Match{Facts: map[string]string{"metrics.auc": `^0\.9`}},
			evidence.Item{Facts: map[string]any{"metrics": map[string]any{"auc": 0.93}}}, true},
		{"fact nested typed map", tagging.Match{Facts: map[string]string{"metrics.auc": `^0\.9`}},
			evidence.Item{Facts: map[string]any{"metrics": map[string]float64{"auc": 0.93}}}, true},
		{"fact key with dots", tagging.Match{Facts: map[string]string{"metrics.val.loss": `^0\.1$`}},
			evidence.Item{Facts: map[string]any{"metrics": map[string]any{"val.loss": 0.1}}}, true},
		{"fact list index", tagging.Match{Facts: map[string]string{"files.1.path": `^b$`}},
			evidence.Item{Facts: map[string]any{"files": []any{map[string]any{"path": "a"}, map[string]any{"path": "b"}}}}, true},
		{"fact int renders like json float", tagging.Match{Facts: map[string]string{"epochs": `^1000000$`}},
			evidence.Item{Facts: map[string]any{"epochs": 1000000}}, true},
		{"fact float64 integral", tagging.Match{Facts: map[string]string{"epochs": `^1000000$`}},
			evidence.Item{Facts: map[string]any{"epochs": float64(1000000)}}, true},
		{"fact bool", tagging.Match{Facts: map[string]string{"merged": `^true$`}},
			evidence.Item{Facts: map[string]any{"merged": true}}, true},
		{"fact null exists", tagging.Match{Facts: map[string]string{"x": `^null$`}},
			evidence.Item{Facts: map[string]any{"x": nil}}, true},
		{"fact object as json", tagging.Match{Facts: map[string]string{"params": `"lr":"0.1"`}},
			evidence.Item{Facts: map[string]any{"params": map[string]string{"lr": "0.1"}}}, true},
		{"fact literal in a list", tagging.Match{Facts: map[string]string{"classes": `"training"`}},
			evidence.Item{Facts: map[string]any{"classes": []string{"ml_code", "training"}}}, true},
		{"fact literal only inside another", tagging.Match{Facts: map[string]string{"classes": `"training"`}},
			evidence.Item{Facts: map[string]any{"classes": []string{"pretraining"}}}, false},
		{"facts all must hold", tagging.Match{Facts: map[string]string{"a": "1", "b": "2"}},
			evidence.Item{Facts: map[string]any{"a": 1, "b": 3}}, false},
		{"conditions AND: all hold", tagging.Match{Kinds: []evidence.Kind{"commit"}, SourceTypes: []string{"git"},
			Paths: []string{"k8s/**"}, Text: "scale"}, commit("scale out", "", "k8s/hpa.yaml"), true},
		{"conditions AND: one fails", tagging.Match{Kinds: []evidence.Kind{"commit"}, Paths: []string{"k8s/**"}, Text: "scale"},
			commit("fix typo", "", "k8s/hpa.yaml"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tg := mustCompile(t, []tagging.Rule{rule("r", []string{"S1"}, tc.match)}, cat)
			it := tc.item
			tg.Tag(&it)
			got := len(ruleIDs(it.Tags)) == 1
			if got != tc.want {
				t.Errorf("matched = %v, want %v (tags %+v)", got, tc.want, it.Tags)
			}
		})
	}
}

// TestMatchAfterJSONRoundTrip checks that facts read back from the ledger
// (files as []any of map[string]any, numbers as float64) match as before.
func TestMatchAfterJSONRoundTrip(t *testing.T) {
	cat := testCatalogue("c", "S1", "S2")
	tg := mustCompile(t, []tagging.Rule{
		rule("paths", []string{"S1"}, tagging.Match{Paths: []string{"k8s/**"}}),
		rule("facts", []string{"S2"}, tagging.Match{Facts: map[string]string{"stats.files": "^2$"}}),
	}, cat)
	before := evidence.Item{Kind: evidence.KindCommit, Facts: map[string]any{
		"files": []map[string]any{{"path": "k8s/a.yaml"}, {"path": "b"}},
		"stats": map[string]int{"files": 2},
	}}
	b, err := json.Marshal(before)
	if err != nil {
		t.Fatal(err)
	}
	var after evidence.Item
	if err := json.Unmarshal(b, &after); err != nil {
		t.Fatal(err)
	}
	tg.Tag(&before)
	tg.Tag(&after)
	if !reflect.DeepEqual(before.Tags, after.Tags) || len(before.Tags) != 2 {
		t.Errorf("tags differ across a JSON round trip:\nbefore %+v\n after %+v", before.Tags, after.Tags)
	}
}

func TestTag(t *testing.T) {
	cat := testCatalogue("st-test", "K2", "K10", "S1", "S10", "B1")
	tg := mustCompile(t, []tagging.Rule{
		{ID: "mon", KSBs: []string{"S10", "K10"}, Reason: "monitoring", Confidence: 0.6,
			Match: tagging.Match{Text: "(?i)monitor"}},
		{ID: "any-commit", KSBs: []string{"B1"}, Reason: "commits", Match: tagging.Match{Kinds: []evidence.Kind{"commit"}}},
		{ID: "never", KSBs: []string{"S1"}, Reason: "never", Match: tagging.Match{Kinds: []evidence.Kind{"incident"}}},
	}, cat)
	it := commit("Monitor latency", "")
	it.Tags = []evidence.Tag{
		{KSB: "s10 ", By: "declared:trailer", Confidence: 1, Reason: "KSB trailer"},
		{KSB: "S10", By: "declared:trailer", Confidence: 1, Reason: "duplicate trailer"},
		{KSB: "k99", By: "declared:trailer", Confidence: 1, Reason: "KSB trailer"},
		{KSB: "K99", By: "declared:run-tag", Confidence: 1, Reason: "run tag"},
		{KSB: "S1", By: "rule:never", Confidence: 0.5, Reason: "stale rule tag", Catalogue: "old"},
		{KSB: "K2", By: "rule:removed-rule", Confidence: 0.5, Reason: "stale rule tag", Catalogue: "old"},
		{KSB: "K2", By: "declared:trailer", Confidence: 1, Reason: "KSB trailer", Catalogue: "old"},
	}
	warns := tg.Tag(&it)
	rev := cat.Revision()
	want := []evidence.Tag{
		{KSB: "K2", By: "declared:trailer", Confidence: 1, Reason: "KSB trailer", Catalogue: "st-test", Revision: rev},
		{KSB: "K10", By: "rule:mon", Confidence: 0.6, Reason: "monitoring", Catalogue: "st-test", Revision: rev},
		{KSB: "K99", By: "declared:run-tag", Confidence: 1, Reason: "run tag", Catalogue: "st-test", Revision: rev},
		{KSB: "K99", By: "declared:trailer", Confidence: 1, Reason: "KSB trailer", Catalogue: "st-test", Revision: rev},
		{KSB: "S10", By: "declared:trailer", Confidence: 1, Reason: "KSB trailer", Catalogue: "st-test", Revision: rev},
		{KSB: "S10", By: "rule:mon", Confidence: 0.6, Reason: "monitoring", Catalogue: "st-test", Revision: rev},
		{KSB: "B1", By: "rule:any-commit", Confidence: 0.5, Reason: "commits", Catalogue: "st-test", Revision: rev},
	}
	if !reflect.DeepEqual(it.Tags, want) {
		t.Errorf("tags:\n got %+v\nwant %+v", it.Tags, want)
	}
	wantWarns := []string{"declared KSB K99 is not in catalogue st-test (kept)"}
	if !reflect.DeepEqual(warns, wantWarns) {
		t.Errorf("warnings = %q, want %q", warns, wantWarns)
	}

	// Tagging again gives the same tags: rule tags are replaced, not added.
	again := it
	again.Tags = append([]evidence.Tag(nil), it.Tags...)
	tg.Tag(&again)
	if !reflect.DeepEqual(again.Tags, want) {
		t.Errorf("re-tagging changed tags:\n got %+v\nwant %+v", again.Tags, want)
	}
}

func TestTagNoMatchGivesEmptyTags(t *testing.T) {
	tg := mustCompile(t, nil, testCatalogue("c", "S1"))
	it := evidence.Item{Tags: []evidence.Tag{{KSB: "S1", By: "rule:gone"}}}
	if w := tg.Tag(&it); len(w) != 0 {
		t.Errorf("warnings %v", w)
	}
	if it.Tags == nil || len(it.Tags) != 0 {
		t.Errorf("Tags = %#v, want empty non-nil", it.Tags)
	}
	if w := tg.Tag(nil); w != nil {
		t.Errorf("Tag(nil) = %v", w)
	}
}

func TestTagDeclaredOddIDKept(t *testing.T) {
	tg := mustCompile(t, nil, testCatalogue("c", "S1"))
	it := evidence.Item{Tags: []evidence.Tag{{KSB: "monitoring", By: "declared:add"}}}
	warns := tg.Tag(&it)
	if len(it.Tags) != 1 || it.Tags[0].KSB != "MONITORING" {
		t.Errorf("declared tag not kept: %+v", it.Tags)
	}
	if want := []string{`declared KSB "MONITORING" is not in catalogue c (kept)`}; !reflect.DeepEqual(warns, want) {
		t.Errorf("warnings = %q, want %q", warns, want)
	}
}

// TestTagDeterministic tags the same item from many goroutines and with the
// rules in the file's order, and expects one answer.
func TestTagDeterministic(t *testing.T) {
	cat := testCatalogue("c", "K1", "K2", "S1", "S2", "B1")
	rules := []tagging.Rule{
		rule("b", []string{"S2", "K1"}, tagging.Match{Text: "x"}),
		rule("a", []string{"K1", "B1"}, tagging.Match{Text: "x"}),
		rule("c", []string{"S1", "K2"}, tagging.Match{Kinds: []evidence.Kind{"commit"}}),
	}
	tg := mustCompile(t, rules, cat)
	base := commit("x", "")
	base.Tags = []evidence.Tag{{KSB: "B1", By: "declared:trailer"}, {KSB: "K1", By: "declared:trailer"}}
	first := base
	first.Tags = append([]evidence.Tag(nil), base.Tags...)
	tg.Tag(&first)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				it := base
				it.Tags = append([]evidence.Tag(nil), base.Tags...)
				tg.Tag(&it)
				if !reflect.DeepEqual(it.Tags, first.Tags) {
					t.Errorf("nondeterministic tags: %+v vs %+v", it.Tags, first.Tags)
					return
				}
			}
		}()
	}
	wg.Wait()
	var order []string
	for _, tg := range first.Tags {
		order = append(order, tg.KSB+" "+tg.By)
	}
	want := []string{"K1 declared:trailer", "K1 rule:a", "K1 rule:b", "K2 rule:c", "S1 rule:c", "S2 rule:b",
		"B1 declared:trailer", "B1 rule:a"}
	if !reflect.DeepEqual(order, want) {
		t.Errorf("order:\n got %q\nwant %q", order, want)
	}
}

func TestCompareKSB(t *testing.T) {
	ids := []string{"B2", "S10", "K10", "X1", "S2", "K2", "B10", "K1", "", "S1"}
	got := append([]string(nil), ids...)
	for i := 1; i < len(got); i++ { // insertion sort with CompareKSB
		for j := i; j > 0 && tagging.CompareKSB(got[j-1], got[j]) > 0; j-- {
			got[j-1], got[j] = got[j], got[j-1]
		}
	}
	want := []string{"K1", "K2", "K10", "S1", "S2", "S10", "B2", "B10", "", "X1"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("order = %q, want %q", got, want)
	}
}

func TestMerge(t *testing.T) {
	b := func(id string) tagging.Rule {
		r := rule(id, []string{"S1"}, tagging.Match{Text: id})
		r.Builtin = true
		return r
	}
	u := func(id, text string) tagging.Rule { return rule(id, []string{"K1"}, tagging.Match{Text: text}) }
	off := func(id string) tagging.Rule { return tagging.Rule{ID: id, Disable: true} }

	tests := []struct {
		name          string
		builtin, user []tagging.Rule
		want          []string // id/text of each rule, B marks built-in
	}{
		{"no user rules", []tagging.Rule{b("a"), b("b")}, nil, []string{"a/a B", "b/b B"}},
		{"user adds", []tagging.Rule{b("a")}, []tagging.Rule{u("x", "x")}, []string{"a/a B", "x/x"}},
		{"user replaces in place", []tagging.Rule{b("a"), b("b"), b("c")}, []tagging.Rule{u("b", "mine")},
			[]string{"a/a B", "b/mine", "c/c B"}},
		{"user disables", []tagging.Rule{b("a"), b("b")}, []tagging.Rule{off("a")}, []string{"b/b B"}},
		{"disable unknown id is harmless", []tagging.Rule{b("a")}, []tagging.Rule{off("zzz")}, []string{"a/a B"}},
		{"last user rule wins", []tagging.Rule{b("a")}, []tagging.Rule{u("a", "one"), u("x", "x1"), u("a", "two"), u("x", "x2")},
			[]string{"a/two", "x/x2"}},
		{"disable after define removes user rule", nil, []tagging.Rule{u("x", "x"), off("x")}, nil},
		{"define after disable keeps it", []tagging.Rule{b("a")}, []tagging.Rule{off("a"), u("a", "back")}, []string{"a/back"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bcopy := append([]tagging.Rule(nil), tc.builtin...)
			got := tagging.Merge(tc.builtin, tc.user)
			var ids []string
			for _, r := range got {
				s := r.ID + "/" + r.Match.Text
				if r.Builtin {
					s += " B"
				}
				ids = append(ids, s)
			}
			if !reflect.DeepEqual(ids, tc.want) {
				t.Errorf("Merge = %q, want %q", ids, tc.want)
			}
			if !reflect.DeepEqual(bcopy, tc.builtin) {
				t.Error("Merge changed its input")
			}
		})
	}
	// The result does not share slices with the input.
	in := []tagging.Rule{b("a")}
	out := tagging.Merge(in, nil)
	out[0].KSBs[0] = "B9"
	if in[0].KSBs[0] != "S1" {
		t.Error("Merge result aliases its input")
	}
}

func TestCompileUnknownKSB(t *testing.T) {
	cat := testCatalogue("st1398-v1.0", "S10", "K12")
	user := tagging.Rule{ID: "mine", KSBs: []string{"S10", "K99"}, Reason: "r", Origin: "rules.yaml:4",
		Match: tagging.Match{Text: "x"}}
	builtinPartial := tagging.Rule{ID: "bp", KSBs: []string{"S10", "S99"}, Reason: "r", Builtin: true,
		Origin: "builtin.yaml:9", Match: tagging.Match{Text: "x"}}
	builtinNone := tagging.Rule{ID: "bn", KSBs: []string{"S98", "B9"}, Reason: "r", Builtin: true,
		Origin: "builtin.yaml:20", Match: tagging.Match{Text: "x"}}

	t.Run("user rule is an error", func(t *testing.T) {
		tg, _, err := tagging.Compile([]tagging.Rule{user}, cat, tagging.CompileOptions{})
		if err == nil || tg != nil {
			t.Fatalf("want error, got tagger %v", tg)
		}
		msg := err.Error()
		for _, s := range []string{`rule "mine"`, "rules.yaml:4", "K99", "st1398-v1.0"} {
			if !strings.Contains(msg, s) {
				t.Errorf("error %q does not mention %q", msg, s)
			}
		}
	})
	t.Run("built-in rule loses the KSB with a warning", func(t *testing.T) {
		tg, warns, err := tagging.Compile([]tagging.Rule{builtinPartial, builtinNone}, cat, tagging.CompileOptions{})
		if err != nil {
			t.Fatalf("Compile: %v", err)
		}
		want := []string{
			`built-in rule "bp" (builtin.yaml:9): KSB S99 dropped from the rule, catalogue st1398-v1.0 does not have it`,
			`built-in rule "bn" (builtin.yaml:20) dropped: catalogue st1398-v1.0 has none of its KSBs (S98, B9)`,
		}
		if !reflect.DeepEqual(warns, want) {
			t.Errorf("warnings:\n got %q\nwant %q", warns, want)
		}
		if ids := tg.RuleIDs(); !reflect.DeepEqual(ids, []string{"bp"}) {
			t.Errorf("RuleIDs = %v, want [bp]", ids)
		}
		it := commit("x", "")
		tg.Tag(&it)
		if len(it.Tags) != 1 || it.Tags[0].KSB != "S10" {
			t.Errorf("tags = %+v, want only S10", it.Tags)
		}
	})
	t.Run("strict built-in", func(t *testing.T) {
		_, _, err := tagging.Compile([]tagging.Rule{builtinPartial}, cat, tagging.CompileOptions{StrictBuiltin: true})
		if err == nil || !strings.Contains(err.Error(), "S99") {
			t.Fatalf("want error naming S99, got %v", err)
		}
	})
	t.Run("all errors at once", func(t *testing.T) {
		other := user
		other.ID = "other"
		other.KSBs = []string{"B7"}
		_, _, err := tagging.Compile([]tagging.Rule{user, builtinPartial, other}, cat, tagging.CompileOptions{})
		if err == nil || !strings.Contains(err.Error(), "K99") || !strings.Contains(err.Error(), "B7") {
			t.Fatalf("want both errors, got %v", err)
		}
	})
}

func TestCompileInvalid(t *testing.T) {
	cat := testCatalogue("c", "S1")
	tests := []struct {
		name string
		r    tagging.Rule
		want string
	}{
		{"bad id", rule("Bad", []string{"S1"}, tagging.Match{Text: "x"}), `rule "Bad": id:`},
		{"no ksbs", rule("a", nil, tagging.Match{Text: "x"}), "ksbs: at least one KSB required"},
		{"bad ksb", rule("a", []string{"Q1"}, tagging.Match{Text: "x"}), `ksbs[0]: "Q1": not a KSB ID`},
		{"empty match", rule("a", []string{"S1"}, tagging.Match{}), "match: at least one condition required"},
		{"bad kind", rule("a", []string{"S1"}, tagging.Match{Kinds: []evidence.Kind{"nope"}}), "unknown kind"},
		{"bad regexp", rule("a", []string{"S1"}, tagging.Match{Text: "("}), "match.text: invalid RE2"},
		{"bad glob", rule("a", []string{"S1"}, tagging.Match{Paths: []string{"[x"}}), "invalid glob"},
		{"bad fact key", rule("a", []string{"S1"}, tagging.Match{Facts: map[string]string{".x": "y"}}), "empty segment"},
		{"bad confidence", tagging.Rule{ID: "a", KSBs: []string{"S1"}, Reason: "r", Confidence: 2,
			Match: tagging.Match{Text: "x"}}, "confidence: 2"},
		{"multi-line reason", tagging.Rule{ID: "a", KSBs: []string{"S1"}, Reason: "a\nb",
			Match: tagging.Match{Text: "x"}}, "reason: must be one line"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := tagging.Compile([]tagging.Rule{tc.r}, cat, tagging.CompileOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	t.Run("duplicate id", func(t *testing.T) {
		r := rule("a", []string{"S1"}, tagging.Match{Text: "x"})
		_, _, err := tagging.Compile([]tagging.Rule{r, r}, cat, tagging.CompileOptions{})
		if err == nil || !strings.Contains(err.Error(), "duplicate rule id") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("nil catalogue", func(t *testing.T) {
		if _, _, err := tagging.Compile(nil, nil, tagging.CompileOptions{}); err == nil {
			t.Error("want error")
		}
	})
	t.Run("disabled and default confidence", func(t *testing.T) {
		r := tagging.Rule{ID: "a", KSBs: []string{"s1"}, Reason: "r", Match: tagging.Match{Text: "x"}}
		tg := mustCompile(t, []tagging.Rule{r, {ID: "off", Disable: true}}, cat)
		it := commit("x", "")
		tg.Tag(&it)
		if len(it.Tags) != 1 || it.Tags[0].Confidence != tagging.DefaultConfidence || it.Tags[0].KSB != "S1" {
			t.Errorf("tags = %+v", it.Tags)
		}
		if tg.Catalogue() != "c" {
			t.Errorf("Catalogue() = %q", tg.Catalogue())
		}
	})
}

func BenchmarkTagBuiltin(b *testing.B) {
	tg, _, err := tagging.Compile(tagging.Builtin(), official(b), tagging.CompileOptions{})
	if err != nil {
		b.Fatal(err)
	}
	files := make([]string, 200)
	for i := range files {
		files[i] = "src/pkg" + strings.Repeat("x", i%7) + "/module_" + string(rune('a'+i%26)) + ".py"
	}
	files[199] = "k8s/hpa.yaml"
	it := commit("Refactor feature pipeline and bump numpy", "Moves feature code into its own module.\n\nKSB: S9", files...)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		x := it
		x.Tags = nil
		tg.Tag(&x)
	}
}

func BenchmarkTagSmallCommit(b *testing.B) {
	tg, _, err := tagging.Compile(tagging.Builtin(), official(b), tagging.CompileOptions{})
	if err != nil {
		b.Fatal(err)
	}
	it := commit("Add PSI drift alert for the fraud model", "Pages on-call when PSI > 0.2.\n\nKSB: S10",
		"monitoring/psi.py", "deploy/prometheus/fraud-alerts.yaml", "tests/test_psi.py", "README.md", "CHANGELOG.md")
	b.ReportAllocs()
	for b.Loop() {
		x := it
		x.Tags = nil
		tg.Tag(&x)
	}
}
