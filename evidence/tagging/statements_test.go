package tagging_test

import (
	"bytes"
	"flag"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/ksbfolio/ksbfolio/evidence/ksb"
	"github.com/ksbfolio/ksbfolio/evidence/tagging"
	"github.com/ksbfolio/ksbfolio/internal/golden"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// fits says, for every built-in rule and every KSB it names, the words of
// the KSB's official statement that the rule's evidence speaks to. A
// reviewer reads each pair with the statement beside it in
// testdata/rules-vs-statements.golden.md. Adding a KSB to a rule, or a
// rule, means adding its words here.
var fits = map[string]map[string]string{
	"live-monitoring":     {"S10": "monitoring models in the live environment"},
	"monitoring-text":     {"S10": "monitoring models in the live environment"},
	"monitoring-items":    {"S10": "monitoring models in the live environment"},
	"drift-files":         {"S24": "Monitor model data drift", "S10": "monitoring models in the live environment"},
	"drift-text":          {"S24": "Monitor model data drift", "S10": "monitoring models in the live environment"},
	"deploy-config":       {"S16": "Transition prototypes into the live environment", "K12": "Deployment approaches"},
	"deployment-items":    {"S16": "Transition prototypes into the live environment", "K12": "Deployment approaches"},
	"ci-cd":               {"K31": "continuous integration and continuous delivery"},
	"tests":               {"K31": "software testing"},
	"merges":              {"K14": "recording and logging change using appropriate tools", "K31": "version control"},
	"pull-requests":       {"K14": "recording and logging change"},
	"changelog":           {"K14": "recording and logging change"},
	"model-evaluation":    {"S7": "output model testing", "S14": "Analyse test data, interpret results"},
	"tuning":              {"S7": "testing and tuning to assess accuracy, fit, validity"},
	"model-refinement":    {"S9": "Refine or re-engineer the model to improve solution performance"},
	"metric-choice":       {"K7": "select the performance metrics"},
	"experiment-tracking": {"K5": "tools for experiment tracking"},
	"training-runs":       {"K5": "tools for experiment tracking"},
	"feature-engineering": {"K9": "feature engineering, selection and pre-processing"},
	"data-quality":        {"S21": "data curation and data quality controls"},
	"data-lineage":        {"K13": "data lineage, data retention and metadata management"},
	"data-privacy":        {"S11": "regulatory, legal, ethical and governance issues", "K24": "data privacy"},
	"security-review":     {"S1": "Assess vulnerabilities of the proposed design", "S8": "Assess system vulnerabilities"},
	"security-text":       {"S8": "mitigate the threats or risks to assets, data and cyber security", "K3": "confidentiality, authentication"},
	"dependency-updates":  {"S8": "Assess system vulnerabilities", "S18": "digital and physical supply chains"},
	"fairness":            {"S20": "minimise algorithmic bias", "K20": "algorithmic bias"},
	"explainability":      {"K20": "Explainable AI (XAI)"},
	"technical-docs":      {"S28": "technical documentation"},
	"model-cards":         {"S6": "Document the creation, operation and lifecycle management of assets", "S28": "technical documentation"},
	"stakeholder-reports": {"S29": "reports, presentations and other documentation that details the model development"},
	"stakeholder-text":    {"S29": "confirm stakeholder approval for handover"},
	"scaling-text":        {"S19": "model capacity is scaled in proportion to the operating requirements"},
	"scaling-items":       {"S19": "model capacity is scaled in proportion to the operating requirements"},
	"hardware":            {"S22": "platform architecture and specific hardware"},
	"third-party-ai":      {"S33": "third-party vendors", "K30": "third-party vendors"},
	"sustainability":      {"K17": "environmentally sustainable ML solutions", "S15": "environmental and operational sustainable outcome"},
	"compute-cost":        {"S15": "operational sustainable outcome", "K15": "cost of local, remote or distributed solutions such as cloud"},
	"decommission":        {"S25": "decommission assets"},
	// the git collector's classes (facts.classes)
	"class-training":              {"S5": "Create and deploy models", "K16": "modern machine learning libraries"},
	"class-ml-code":               {"K16": "modern machine learning libraries"},
	"class-hyperparameter-search": {"S7": "testing and tuning to assess accuracy", "S9": "improve solution performance"},
	"class-experiment-tracking":   {"K5": "tools for experiment tracking"},
	"class-notebook":              {"S3": "engineer data sets, algorithms and modelling techniques"},
	"class-data-pipeline":         {"K12": "Deployment approaches for new data pipelines"},
	"class-features":              {"K9": "feature engineering"},
	"class-evaluation":            {"S7": "output model testing", "S14": "Analyse test data, interpret results"},
	"class-tests":                 {"K31": "software testing"},
	"class-serving":               {"S16": "Transition prototypes into the live environment", "S5": "Create and deploy models"},
	"class-containers":            {"S16": "Transition prototypes into the live environment", "K12": "Deployment approaches"},
	"class-infrastructure":        {"S22": "platform architecture", "K12": "Deployment approaches"},
	"class-ci-cd":                 {"K31": "continuous integration and continuous delivery"},
	"class-monitoring":            {"S10": "monitoring models in the live environment"},
	"class-decision-record":       {"K14": "recording and logging change"},
	"class-dependencies":          {"S18": "digital and physical supply chains"},
	"class-security":              {"S8": "Assess system vulnerabilities"},
	// training runs (collectors/trainrun facts) and registered model versions
	"run-held-out-metrics": {"S7": "output model testing and tuning to assess accuracy"},
	"run-parent-runs":      {"S7": "output model testing and tuning"},
	"run-hardware":         {"S22": "platform architecture and specific hardware"},
	"run-dataset-lineage":  {"K13": "data lineage, data retention and metadata management"},
	"run-code-version":     {"K31": "version control"},
	"run-refines-earlier":  {"S9": "Refine or re-engineer the model to improve solution performance"},
	"run-reruns-failed":    {"B5": "settings of technical complexity and uncertainty"},
	"model-registered":     {"S5": "Create and deploy models", "K5": "tools for experiment tracking, orchestration, versioning"},
	// logs (collectors/logs)
	"log-pipeline-runs":  {"K12": "Deployment approaches for new data pipelines and automated processes", "K5": "tools for experiment tracking, orchestration"},
	"log-ci-jobs":        {"K31": "continuous integration and continuous delivery"},
	"log-model-versions": {"K14": "recording and logging change"},
	"log-rollbacks":      {"K14": "Change management processes for ML solutions; recording and logging change"},
	"log-incidents":      {"S10": "monitoring models"},
	// Prometheus (collectors/prometheus)
	"prometheus-alert-incidents":  {"S10": "monitoring models in the live environment to check they remain fit for purpose"},
	"prometheus-drift-windows":    {"S24": "Monitor model data drift", "S10": "monitoring models in the live environment"},
	"prometheus-capacity-windows": {"S19": "model capacity is scaled in proportion to the operating requirements"},
}

// TestRulesFitStatements checks every built-in rule against the official
// statements: each KSB it names is in the catalogue, is listed in fits
// with words its statement contains, and the rule's reason shares a word
// with those words (so the reason speaks in the standard's terms).
func TestRulesFitStatements(t *testing.T) {
	cat := official(t)
	rules := tagging.Builtin()
	for _, r := range rules {
		want, ok := fits[r.ID]
		if !ok {
			t.Errorf("rule %s is not in fits: say which words of each statement it speaks to", r.ID)
			continue
		}
		var listed []string
		for id := range want {
			listed = append(listed, id)
		}
		slices.SortFunc(listed, ksb.CompareIDs)
		named := slices.Clone(r.KSBs)
		slices.SortFunc(named, ksb.CompareIDs)
		if !slices.Equal(named, listed) {
			t.Errorf("rule %s names %v, fits lists %v", r.ID, named, listed)
		}
		for _, id := range r.KSBs {
			k, ok := cat.Lookup(id)
			if !ok {
				t.Errorf("rule %s names %s, which the official list does not have", r.ID, id)
				continue
			}
			words := want[id]
			if words == "" {
				continue
			}
			if !strings.Contains(strings.ToLower(k.Statement), strings.ToLower(words)) {
				t.Errorf("rule %s, %s: the statement does not say %q:\n%s", r.ID, id, words, k.Statement)
			}
			if !sharesWord(r.Reason, words) {
				t.Errorf("rule %s, %s: the reason %q shares no word with %q", r.ID, id, r.Reason, words)
			}
		}
	}
	for id := range fits {
		if !slices.ContainsFunc(rules, func(r tagging.Rule) bool { return r.ID == id }) {
			t.Errorf("fits lists %s, which is not a built-in rule", id)
		}
	}
}

// sharesWord reports whether a and b have a word of five letters or more
// in common, ignoring case and a final "s" or "ing".
func sharesWord(a, b string) bool {
	stems := func(s string) map[string]bool {
		out := map[string]bool{}
		for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) }) {
			if len(w) < 5 {
				continue
			}
			w = strings.TrimSuffix(strings.TrimSuffix(w, "ing"), "s")
			out[w] = true
		}
		return out
	}
	sa := stems(a)
	for w := range stems(b) {
		if sa[w] {
			return true
		}
	}
	return false
}

// TestRulesBesideStatements writes every built-in rule beside the official
// statement of each KSB it names, for review. Regenerate with:
// go test ./evidence/tagging -run TestRulesBesideStatements -update
func TestRulesBesideStatements(t *testing.T) {
	cat := official(t)
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Built-in rules beside the statements they suggest\n\n")
	fmt.Fprintf(&b, "Generated by `go test ./evidence/tagging -run TestRulesBesideStatements -update` from builtin.yaml\n")
	fmt.Fprintf(&b, "and the built-in catalogue %s (revision %s). Each rule's tags are suggestions until reviewed.\n", cat.ID, cat.Revision())
	for _, r := range tagging.Builtin() {
		fmt.Fprintf(&b, "\n## %s (confidence %.1f)\n\n", r.ID, r.Confidence)
		fmt.Fprintf(&b, "Reason: %s  \nMatches: %s\n\n", r.Reason, describeMatch(r.Match))
		for _, id := range r.KSBs {
			k, ok := cat.Lookup(id)
			if !ok {
				fmt.Fprintf(&b, "- **%s**: NOT IN THE CATALOGUE\n", id)
				continue
			}
			fmt.Fprintf(&b, "- **%s** (%s; %s, %s): %s\n", k.ID, k.Kind, strings.Join(k.Methods, ", "), k.GradeTheme, k.Statement)
			if w := fits[r.ID][id]; w != "" {
				fmt.Fprintf(&b, "  - relies on: \"%s\"\n", w)
			}
		}
	}
	got := b.Bytes()
	golden.Check(t, filepath.Join("testdata", "rules-vs-statements.golden.md"), got, *update)
}

// describeMatch renders a rule's conditions on one line.
func describeMatch(m tagging.Match) string {
	var parts []string
	if len(m.Kinds) > 0 {
		var ks []string
		for _, k := range m.Kinds {
			ks = append(ks, string(k))
		}
		parts = append(parts, "kinds "+strings.Join(ks, ", "))
	}
	if len(m.SourceTypes) > 0 {
		parts = append(parts, "source types "+strings.Join(m.SourceTypes, ", "))
	}
	if len(m.Paths) > 0 {
		parts = append(parts, "paths `"+strings.Join(m.Paths, "` `")+"`")
	}
	if m.Text != "" {
		parts = append(parts, "text `"+m.Text+"`")
	}
	for k, v := range m.Facts {
		parts = append(parts, "fact "+k+" `"+v+"`")
	}
	slices.Sort(parts[len(parts)-len(m.Facts):])
	return strings.Join(parts, "; ")
}
