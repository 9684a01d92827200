package coverage_test

import (
	"fmt"
	"os"
	"time"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/coverage"
	"github.com/ksbfolio/ksbfolio/evidence/ksb"
)

func ExampleCompute() {
	cat := &ksb.Catalogue{ID: "st-demo", Complete: true, KSBs: []ksb.KSB{
		{ID: "K12", Kind: ksb.Knowledge, Statement: "Deployment approaches for new data pipelines and automated processes."},
		{ID: "S10", Kind: ksb.Skill, Statement: "Apply techniques for monitoring models in the live environment."},
		{ID: "S19", Kind: ksb.Skill, Statement: "Ensure the model capacity is scaled in proportion to the operating requirements."},
	}}
	items := []evidence.Item{
		{ID: "git-1", Tags: []evidence.Tag{{KSB: "S10", By: "declared:trailer"}}},
		{ID: "git-2", Tags: []evidence.Tag{{KSB: "S19", By: "rule:scaling-text"}, {KSB: "K12", By: "rule:deploy-config"}}},
	}
	reviews := map[string]*evidence.Review{"git-2": {Decisions: []evidence.Decision{
		{By: "Jane", Role: "apprentice", Accept: []string{"K12"}},
	}}}
	r := coverage.Compute(cat, coverage.Target{}, "jdoe", items, reviews, time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC))
	if err := r.WriteTable(os.Stdout); err != nil {
		fmt.Println(err)
	}
	// Output:
	// The portfolio covers the 3 KSBs of catalogue st-demo:
	// KSB  KIND       STATUS     EVIDENCED  SUGGESTED  STATEMENT
	// K12  knowledge  evidenced  1          0          Deployment approaches for new data pipelines and automated…
	// S10  skill      evidenced  1          0          Apply techniques for monitoring models in the live environm…
	// S19  skill      suggested  0          1          Ensure the model capacity is scaled in proportion to the op…
	//
	// 2 evidenced, 1 suggested, 0 gap, of 3 KSBs of catalogue st-demo
	// 2 items were tagged against another catalogue or an earlier revision of st-demo: run `ksbfolio retag`
	// gateway ready: no — 1 of 3 KSBs of catalogue st-demo not yet evidenced (1 suggested, 0 gap): S19
}
