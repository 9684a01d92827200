package prometheus

import (
	"os"
	"slices"
	"testing"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/ksb"
	"github.com/ksbfolio/ksbfolio/evidence/tagging"
)

// TestProposedRules compiles the proposed rules for Prometheus items
// against the built-in ST1398 catalogue and checks what they suggest for
// typical items.
func TestProposedRules(t *testing.T) {
	b, err := os.ReadFile("testdata/rules/builtin-proposed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rules, err := tagging.ParseRules("rules.yaml", b)
	if err != nil {
		t.Fatal(err)
	}
	cat := ksb.Builtin()[0]
	tagger, warns, err := tagging.Compile(rules, cat, tagging.CompileOptions{})
	if err != nil || len(warns) > 0 {
		t.Fatalf("compile: %v %v", err, warns)
	}
	item := func(kind evidence.Kind, title string, facts map[string]any) *evidence.Item {
		it := &evidence.Item{Schema: evidence.SchemaVersion, ID: evidence.NewID(SourceType, title), Apprentice: "jdoe",
			SourceType: SourceType, Kind: kind, Title: title, OccurredAt: fixedNow, Facts: facts}
		it.Normalize()
		return it
	}
	for _, tc := range []struct {
		it   *evidence.Item
		want []string
	}{
		{item(evidence.KindIncident, "Alert ModelLatencyHigh fired (page)", nil), []string{"S10"}},
		{item(evidence.KindMonitoringSetup, "Prometheus rules: 1 alerting, 1 recording", map[string]any{"alerting_rules": 1}), []string{"S10"}},
		{item(evidence.KindMonitoringSetup, "Prometheus rules: 0 alerting, 2 recording", map[string]any{"alerting_rules": 0}), nil},
		{item(evidence.KindMonitoringWindow, "feature_psi: 2026-11-02 00:00 to 2026-11-09 00:00", nil), []string{"S10", "S24"}},
		{item(evidence.KindMonitoringWindow, "p95_latency: 2026-11-02 00:00 to 2026-11-09 00:00", map[string]any{"seconds_beyond_threshold": 1800.0}), []string{"S10"}},
		{item(evidence.KindMonitoringWindow, "gpu_utilisation: 2026-11-02 00:00 to 2026-11-09 00:00", map[string]any{"seconds_beyond_threshold": 0.0}), []string{"S19"}},
		{item(evidence.KindMonitoringWindow, "up: 2019-07-28 10:00 to 2019-07-28 16:00 (saved)", nil), nil},
	} {
		tc.it.Tags = nil
		tagger.Tag(tc.it)
		var got []string
		for _, tag := range tc.it.Tags {
			if !slices.Contains(got, tag.KSB) {
				got = append(got, tag.KSB)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s %q: tags %v, want %v", tc.it.Kind, tc.it.Title, got, tc.want)
		}
	}
}
