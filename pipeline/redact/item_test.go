package redact

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/evidence"
)

type runInfo struct {
	Name   string            `json:"name"`
	Params map[string]string `json:"params"`
}

func sampleItem() evidence.Item {
	return evidence.Item{
		Schema:     evidence.SchemaVersion,
		ID:         evidence.NewID("git", sha),
		Apprentice: "jdoe",
		Source:     "model-repo",
		SourceType: "git",
		Kind:       evidence.KindCommit,
		Title:      "Use token=abc123def456 for the mirror",
		Summary:    "Pushed with GH_TOKEN=" + ghToken + "\nsee https://user:pw@host/x",
		OccurredAt: time.Date(2026, 3, 2, 10, 4, 0, 0, time.UTC),
		Origin:     evidence.Origin{URI: "https://jane:hunter22@git.corp.example/fraud.git", NativeID: sha},
		Facts: map[string]any{
			"files_changed": 3,
			"insertions":    int64(120),
			"ratio":         0.5,
			"merged":        true,
			"when":          time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC),
			"nothing":       nil,
			"message":       "password=hunter2",
			"paths":         []string{"src/train.py", "AWS_SECRET_ACCESS_KEY=" + awsSecret},
			"nested": map[string]any{
				"list": []any{"fine", 1.5, map[string]any{"deep": "Authorization: Bearer abc123def456ghi"}},
				// map keys are masked too; both of these collide once masked
				"password=aaa111": "x",
				"password=bbb222": "y",
			},
			"env":                           map[string]string{"DB_PASSWORD=zzz999": "1", "MODE": "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"},
			"run":                           runInfo{Name: "r1", Params: map[string]string{"db": "postgres://u:p4ss@db/x"}},
			"clean_struct":                  runInfo{Name: "r2", Params: map[string]string{"lr": "0.01"}},
			"trailer KSB":                   "S10",
			"password=" + m("url-password"): "already masked key",
		},
		Links:      []evidence.Link{{Rel: "trained_from", Item: "mlflow-0123456789abcdef0123456789abcdef"}, {Rel: "see token=qwe123rty", Item: "x"}},
		Tags:       []evidence.Tag{{KSB: "S10", By: "rule:live-monitoring", Confidence: 0.6, Reason: "mentions api_key: k9Xq2LmZ7"}},
		Redactions: []evidence.Redaction{{Rule: "url-password", Count: 2}, {Rule: "aws-key", Count: 1}, {Rule: "url-password", Count: 1}},
	}
}

func TestItem(t *testing.T) {
	r := mustNew(t, nil)
	it := sampleItem()
	c := r.Item(&it)

	if want := "Use token=" + m("password-assignment") + " for the mirror"; it.Title != want {
		t.Errorf("Title = %q, want %q", it.Title, want)
	}
	if want := "Pushed with GH_TOKEN=" + m("github-token") + "\nsee https://user:" + m("url-password") + "@host/x"; it.Summary != want {
		t.Errorf("Summary = %q, want %q", it.Summary, want)
	}
	if want := "https://jane:" + m("url-password") + "@git.corp.example/fraud.git"; it.Origin.URI != want {
		t.Errorf("Origin.URI = %q", it.Origin.URI)
	}
	if it.Origin.NativeID != sha {
		t.Errorf("NativeID changed: %q", it.Origin.NativeID)
	}
	f := it.Facts
	for k, v := range map[string]any{"files_changed": 3, "insertions": int64(120), "ratio": 0.5, "merged": true,
		"when": time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), "nothing": nil, "trailer KSB": "S10",
		"clean_struct":                  runInfo{Name: "r2", Params: map[string]string{"lr": "0.01"}},
		"message":                       "password=" + m("password-assignment"),
		"password=" + m("url-password"): "already masked key",
	} {
		if got, ok := f[k]; !ok || !reflect.DeepEqual(got, v) {
			t.Errorf("Facts[%q] = %#v, want %#v", k, got, v)
		}
	}
	if got := f["paths"].([]string); got[0] != "src/train.py" || got[1] != "AWS_SECRET_ACCESS_KEY="+m("aws-secret-key") {
		t.Errorf("Facts[paths] = %q", got)
	}
	nested := f["nested"].(map[string]any)
	list := nested["list"].([]any)
	if list[0] != "fine" || list[1] != 1.5 || list[2].(map[string]any)["deep"] != "Authorization: Bearer "+m("authorization-header") {
		t.Errorf("Facts[nested][list] = %#v", list)
	}
	k := "password=" + m("password-assignment")
	if nested[k] != "x" || nested[k+" #2"] != "y" || len(nested) != 3 {
		t.Errorf("colliding masked keys: %#v", nested)
	}
	env := f["env"].(map[string]string)
	if env["DB_PASSWORD="+m("password-assignment")] != "1" || env["MODE"] != m("slack-token") || len(env) != 2 {
		t.Errorf("Facts[env] = %#v", env)
	}
	run, ok := f["run"].(map[string]any)
	if !ok || run["name"] != "r1" || run["params"].(map[string]any)["db"] != "postgres://u:"+m("url-password")+"@db/x" {
		t.Errorf("Facts[run] (struct, via JSON) = %#v", f["run"])
	}
	if it.Links[0].Item != "mlflow-0123456789abcdef0123456789abcdef" || it.Links[1].Rel != "see token="+m("password-assignment") {
		t.Errorf("Links = %#v", it.Links)
	}
	if it.Tags[0].Reason != "mentions api_key: "+m("password-assignment") || it.Tags[0].KSB != "S10" {
		t.Errorf("Tags = %#v", it.Tags)
	}

	wantCounts := Counts{"password-assignment": 7, "github-token": 1, "url-password": 3, "aws-secret-key": 1,
		"authorization-header": 1, "slack-token": 1}
	if !reflect.DeepEqual(c, wantCounts) {
		t.Errorf("counts = %v, want %v", c, wantCounts)
	}
	// Merged with what was there: one record per rule, sorted, counts added.
	wantRed := []evidence.Redaction{{Rule: "authorization-header", Count: 1}, {Rule: "aws-key", Count: 1},
		{Rule: "aws-secret-key", Count: 1}, {Rule: "github-token", Count: 1}, {Rule: "password-assignment", Count: 7},
		{Rule: "slack-token", Count: 1}, {Rule: "url-password", Count: 6}}
	if !reflect.DeepEqual(it.Redactions, wantRed) {
		t.Errorf("Redactions = %v, want %v", it.Redactions, wantRed)
	}

	// Nothing secret anywhere in the stored form.
	for _, s := range []string{"abc123def456", ghToken, "hunter2", "hunter22", awsSecret, "aaa111", "bbb222", "zzz999",
		"p4ss", "qwe123rty", "k9Xq2LmZ7", "xoxb-"} {
		if strings.Contains(dump(it), s) {
			t.Errorf("secret %q survived in the item", s)
		}
	}

	// Again: nothing more masked, nothing more counted.
	before := dump(it)
	if c2 := r.Item(&it); len(c2) != 0 {
		t.Errorf("second Item counted %v", c2)
	}
	if dump(it) != before {
		t.Errorf("second Item changed the item")
	}
	if !reflect.DeepEqual(it.Redactions, wantRed) {
		t.Errorf("second Item changed Redactions: %v", it.Redactions)
	}
}

func TestItemClean(t *testing.T) {
	r := mustNew(t, nil)
	it := evidence.Item{Title: "Add drift alert", Facts: map[string]any{"psi": 0.2}}
	if c := r.Item(&it); len(c) != 0 || it.Redactions != nil || it.Title != "Add drift alert" {
		t.Errorf("clean item: counts %v, redactions %v", c, it.Redactions)
	}
	var empty evidence.Item
	r.Item(&empty) // nil facts, no links, no tags: no panic
	if empty.Facts != nil {
		t.Errorf("nil Facts became %#v", empty.Facts)
	}
}

func dump(it evidence.Item) string {
	b, err := json.Marshal(it)
	if err != nil {
		return err.Error()
	}
	return string(b)
}
