package tagging_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/ksb"
	"github.com/ksbfolio/ksbfolio/evidence/tagging"
	"github.com/ksbfolio/ksbfolio/internal/yamlstrict"
)

func TestParseRulesValid(t *testing.T) {
	src := `# user rules
rules:
  - id: live-monitoring
    ksbs: [s10, " K12", S10]
    reason: "Changes monitoring or alerting of a live model"
    confidence: 0.6
    match:
      kinds: [commit, merge]
      source_types: [git]
      paths: ["monitoring/**", "**/*alert*.y*ml"]
      text: '(?i)\b(drift|alert|monitor)'
      facts: {status: "^FINISHED$", metrics.auc: "^0\\.9"}
  - id: tb
    ksbs: [K5]
    reason: logs to TensorBoard
    match: {source_types: [tensorboard]}
  - id: old-rule
    disable: true
`
	got, err := tagging.ParseRules("rules.yaml", []byte(src))
	if err != nil {
		t.Fatalf("ParseRules: %v", err)
	}
	want := []tagging.Rule{
		{
			ID: "live-monitoring", KSBs: []string{"S10", "K12"},
			Reason: "Changes monitoring or alerting of a live model", Confidence: 0.6,
			Match: tagging.Match{
				Kinds:       []evidence.Kind{evidence.KindCommit, evidence.KindMerge},
				SourceTypes: []string{"git"},
				Paths:       []string{"monitoring/**", "**/*alert*.y*ml"},
				Text:        `(?i)\b(drift|alert|monitor)`,
				Facts:       map[string]string{"status": "^FINISHED$", "metrics.auc": `^0\.9`},
			},
			Origin: "rules.yaml:3",
		},
		{
			ID: "tb", KSBs: []string{"K5"}, Reason: "logs to TensorBoard", Confidence: tagging.DefaultConfidence,
			Match:  tagging.Match{SourceTypes: []string{"tensorboard"}},
			Origin: "rules.yaml:13",
		},
		{ID: "old-rule", Disable: true, Confidence: tagging.DefaultConfidence, Origin: "rules.yaml:17"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseRules:\n got %+v\nwant %+v", got, want)
	}
}

func TestParseRulesEmpty(t *testing.T) {
	for _, src := range []string{"", "# nothing\n", "rules:\n", "rules: []\n", "---\n"} {
		got, err := tagging.ParseRules("r.yaml", []byte(src))
		if err != nil || len(got) != 0 {
			t.Errorf("ParseRules(%q) = %v, %v; want no rules, no error", src, got, err)
		}
	}
}

func TestParseRulesAliases(t *testing.T) {
	src := `
paths: &deploy ["k8s/**", "helm/**"]
`
	// An unknown top-level key is an error even when it only holds an anchor.
	if _, err := tagging.ParseRules("r.yaml", []byte(src)); err == nil {
		t.Fatal("want error for unknown top-level key")
	}
	src = `
rules:
  - id: a
    ksbs: [S16]
    reason: deploy
    match: {paths: &deploy ["k8s/**", "helm/**"]}
  - id: b
    ksbs: [K12]
    reason: deploy too
    match: {paths: *deploy}
`
	got, err := tagging.ParseRules("r.yaml", []byte(src))
	if err != nil {
		t.Fatalf("ParseRules: %v", err)
	}
	if len(got) != 2 || !reflect.DeepEqual(got[1].Match.Paths, []string{"k8s/**", "helm/**"}) {
		t.Errorf("alias not followed: %+v", got)
	}
}

// TestParseRulesAliasBomb checks that a small file whose aliases expand to
// a huge tree is refused quickly rather than walked.
func TestParseRulesAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("rules:\n  - &r\n    id: a\n    ksbs: &k [")
	for i := 0; i < 2000; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("S1")
	}
	b.WriteString("]\n    reason: x\n    match: {kinds: [commit]}\n")
	for i := 0; i < 2000; i++ {
		b.WriteString("  - *r\n")
	}
	_, err := tagging.ParseRules("bomb.yaml", []byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "too many values") {
		t.Fatalf("want a 'too many values' error, got %v", err)
	}
}

func TestParseRulesErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // every problem, in order
	}{
		{
			name: "unknown key in match",
			src: `rules:
  - id: a
    ksbs: [S10]
    reason: r
    match:
      pathz: ["x"]
      kinds: [commit]
`,
			want: []string{`rules.yaml:6: rules[0].match.pathz: unknown key (did you mean "paths"?)`},
		},
		{
			name: "several problems at once",
			src: `rules:
  - id: Bad_ID
    ksbs: S10
    reason: "two\nlines"
    confidence: 1.5
    match:
      kinds: [commit, comit]
      text: '(unclosed'
  - id: ok
    ksbs: [S10, X1]
    reason: fine
    colour: red
    match:
      paths: ["a/[b"]
      facts: {status: "(", "a..b": x}
`,
			want: []string{
				`rules.yaml:2: rules[0].id: "Bad_ID": want lower-case letters, digits and '-', starting with a letter or digit, at most 64 characters`,
				`rules.yaml:3: rules[0].ksbs: want a list, got string "S10"`,
				`rules.yaml:4: rules[0].reason: must be one line`,
				`rules.yaml:5: rules[0].confidence: 1.5: want a number in (0,1]`,
				`rules.yaml:7: rules[0].match.kinds[1]: "comit": unknown kind (want one of commit, merge, release, training_run, model_version, deployment, rollback, incident, scaling, monitoring_window, monitoring_setup, manual, pipeline_run, ci_job)`,
				"rules.yaml:8: rules[0].match.text: invalid RE2 expression: error parsing regexp: missing closing ): `(unclosed`",
				`rules.yaml:10: rules[1].ksbs[1]: "X1": not a KSB ID (want K, S or B and a number, e.g. S10)`,
				`rules.yaml:12: rules[1].colour: unknown key (keys: id, ksbs, reason, confidence, match, disable)`,
				`rules.yaml:14: rules[1].match.paths[0]: "a/[b": invalid glob`,
				"rules.yaml:15: rules[1].match.facts.status: invalid RE2 expression: error parsing regexp: missing closing ): `(`",
				`rules.yaml:15: rules[1].match.facts."a..b": "a..b": empty segment in dotted fact path`,
			},
		},
		{
			name: "missing fields",
			src: `rules:
  - {id: a}
  - ksbs: [S1]
    reason: r
    match: {kinds: [commit]}
`,
			want: []string{
				"rules.yaml:2: rules[0].ksbs: required (at least one KSB)",
				"rules.yaml:2: rules[0].reason: required",
				"rules.yaml:2: rules[0].match: required (at least one condition)",
				"rules.yaml:3: rules[1].id: required",
			},
		},
		{
			name: "empty lists and conditions",
			src: `rules:
  - id: a
    ksbs: []
    reason: r
    match: {}
  - id: b
    ksbs: [S1]
    reason: r
    match: {kinds: [], text: ""}
`,
			want: []string{
				"rules.yaml:2: rules[0].ksbs: at least one KSB required",
				"rules.yaml:2: rules[0].match: at least one condition required",
				"rules.yaml:9: rules[1].match.kinds: empty: give at least one, or leave the condition out",
				"rules.yaml:9: rules[1].match.text: empty expression",
			},
		},
		{
			name: "wrong types",
			src: `rules:
  - id: 7
    ksbs: [S1, 3]
    reason: [a]
    confidence: high
    disable: "yes"
    match: [commit]
`,
			want: []string{
				"rules.yaml:2: rules[0].id: want a string, got number 7",
				"rules.yaml:3: rules[0].ksbs[1]: want a string, got number 3",
				"rules.yaml:4: rules[0].reason: want a string, got a list",
				`rules.yaml:5: rules[0].confidence: want a number in (0,1], got string "high"`,
				`rules.yaml:6: rules[0].disable: want true or false, got string "yes"`,
				"rules.yaml:7: rules[0].match: want a mapping of conditions, got a list",
			},
		},
		{
			name: "duplicates",
			src: `rules:
  - id: a
    ksbs: [S1]
    reason: r
    reason: again
    match: {kinds: [commit]}
  - id: a
    ksbs: [S1]
    reason: r
    match: {kinds: [commit]}
`,
			want: []string{
				"rules.yaml:5: rules[0].reason: duplicate key (first at line 4)",
				`rules.yaml:7: rules[1].id: duplicate rule id "a" (first at line 2)`,
			},
		},
		{
			name: "top level",
			src:  "rule:\n  - id: a\n",
			want: []string{`rules.yaml:1: rule: unknown key (did you mean "rules"?)`},
		},
		{
			name: "top level not a mapping",
			src:  "- id: a\n",
			want: []string{"rules.yaml:1: want a mapping with a `rules:` list, got a list"},
		},
		{
			name: "rules not a list",
			src:  "rules: {id: a}\n",
			want: []string{"rules.yaml:1: rules: want a list of rules, got a mapping"},
		},
		{
			name: "rule not a mapping",
			src:  "rules: [a]\n",
			want: []string{`rules.yaml:1: rules[0]: want a rule (a mapping), got string "a"`},
		},
		{
			name: "syntax error",
			src:  "rules:\n  - id: a\n    ksbs: [S1\n    reason: r\n",
			want: []string{"rules.yaml:2: not valid YAML: did not find expected ',' or ']'"},
		},
		{
			name: "two documents",
			src:  "rules: []\n---\nrules: []\n",
			want: []string{"rules.yaml:2: a second YAML document (after ---); the file must be one document"},
		},
		{
			// Problems on one line come in the order they are written,
			// whether the walker or the rules' own checks found them.
			name: "one line, file order",
			src:  "rules:\n  - {id: 7, ksbs: [S1], reason: r, match: {kinds: [commit], colour: red}}\n",
			want: []string{
				"rules.yaml:2: rules[0].id: want a string, got number 7",
				`rules.yaml:2: rules[0].match.colour: unknown key (keys: kinds, source_types, paths, text, facts)`,
			},
		},
		{
			name: "confidence zero",
			src:  "rules:\n  - {id: a, ksbs: [S1], reason: r, confidence: 0, match: {kinds: [commit]}}\n",
			want: []string{"rules.yaml:2: rules[0].confidence: 0: want a number in (0,1]"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rules, err := tagging.ParseRules("rules.yaml", []byte(tc.src))
			if err == nil {
				t.Fatalf("want errors, got rules %+v", rules)
			}
			if rules != nil {
				t.Errorf("want no rules with an error, got %+v", rules)
			}
			var pe *yamlstrict.Error
			if !errors.As(err, &pe) {
				t.Fatalf("want *yamlstrict.Error, got %T: %v", err, err)
			}
			got := strings.Split(err.Error(), "\n")
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("problems:\n got %q\nwant %q", got, tc.want)
			}
			if len(pe.Problems) != len(tc.want) {
				t.Errorf("len(Problems) = %d, want %d", len(pe.Problems), len(tc.want))
			}
		})
	}
}

func FuzzParseRules(f *testing.F) {
	seeds := []string{
		"",
		"rules: []",
		"rules:\n  - id: a\n    ksbs: [S10]\n    reason: r\n    match: {kinds: [commit], paths: ['**/x'], text: 'a|b', facts: {a.b: '^1$'}}\n",
		"rules:\n  - {id: a, disable: true}\n",
		"rules:\n  - &a {id: a, ksbs: [S1], reason: r, match: {kinds: [commit]}}\n  - *a\n",
		"rules: [[[[",
		"rules:\n  - id: a\n    ksbs: *missing\n",
		"rules:\n  - {<<: {id: a}}\n",
		"rules: !!binary aGVsbG8=",
		"rules:\n  - {id: a, ksbs: [S1], reason: r, confidence: .nan, match: {kinds: [commit]}}\n",
		"---\n---\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	if b := tagging.BuiltinYAMLForTest(); len(b) > 0 {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rules, err := tagging.ParseRules("fuzz.yaml", data)
		if err != nil {
			var pe *yamlstrict.Error
			if !errors.As(err, &pe) || len(pe.Problems) == 0 {
				t.Fatalf("error is not a non-empty *yamlstrict.Error: %T %v", err, err)
			}
			for _, p := range pe.Problems {
				if p.File != "fuzz.yaml" || p.Msg == "" {
					t.Fatalf("problem without file or message: %+v", p)
				}
			}
			return
		}
		// Whatever parses must also compile against a catalogue holding
		// its KSBs.
		cat := &ksb.Catalogue{ID: "fuzz"}
		for _, r := range rules {
			for _, k := range r.KSBs {
				cat.KSBs = append(cat.KSBs, ksb.KSB{ID: k})
			}
		}
		if _, _, err := tagging.Compile(rules, cat, tagging.CompileOptions{}); err != nil {
			t.Fatalf("parsed rules do not compile: %v", err)
		}
		seen := map[string]bool{}
		for _, r := range rules {
			if seen[r.ID] {
				t.Fatalf("duplicate id %q accepted", r.ID)
			}
			seen[r.ID] = true
			if !r.Disable && (len(r.KSBs) == 0 || r.Reason == "") {
				t.Fatalf("incomplete rule accepted: %+v", r)
			}
			if r.Confidence <= 0 || r.Confidence > 1 {
				t.Fatalf("confidence %v accepted", r.Confidence)
			}
		}
	})
}
