package redact

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/evidence"
)

// commitItems builds n items shaped as collectors/gitlog emits them (see
// itemFromCommit there): a title and a commit message body, and facts of
// strings, ints, a list of parents, a list of file maps, classes and, for
// some, co-authors and a mapped author. The texts are those of the
// benchmark repository (pipeline/demo/demorepo); about one item in five
// names a colleague's address, one in forty holds a secret. The same seed
// gives the same items.
func commitItems(seed uint64, n int) []evidence.Item {
	rng := rand.New(rand.NewPCG(seed, 0))
	pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }
	hex := func(n int) string {
		const digits = "0123456789abcdef"
		b := make([]byte, n)
		for i := range b {
			b[i] = digits[rng.IntN(16)]
		}
		return string(b)
	}
	titles := []string{"Add early stopping to training loop", "Seed all random generators for reproducibility",
		"Switch to stratified k-fold cross-validation", "Tune XGBoost hyperparameters", "Log training metrics to MLflow",
		"Save model signature with the artefact", "Add PSI drift check on incoming features",
		"Fix leakage in the target encoding", "Bump scikit-learn to 1.5", "Document the model card limitations",
		"Merge branch 'feature/drift-alerts'", "Add Grafana panel for p95 latency"}
	lines := []string{"Validation AUC improved from 0.91 to 0.93 on the holdout set.",
		"Measured on the last 30 days of production traffic.", "The previous threshold fired on every deploy.",
		"No behaviour change for existing callers.", "Reviewed with the data owner before merging.",
		"KSBs: s16; k18", "KSBs: k11; s6"}
	paths := []string{"README.md", "requirements.txt", "Dockerfile", "src/train.py", "src/features.py", "src/data.py",
		"src/evaluate.py", "src/serve.py", "src/drift.py", "tests/test_model.py", "tests/test_features.py",
		"monitoring/alerts.yaml", "monitoring/dashboards/model.json", ".github/workflows/ci.yml",
		".github/workflows/deploy.yml", "notebooks/eda.ipynb", "deploy/k8s/deployment.yaml", "docs/model_card.md",
		"configs/train.yaml", "params.yaml", "dvc.yaml", "models/baseline.onnx"}
	classes := []string{"training", "tests", "monitoring", "ci_cd", "docs", "deployment", "data"}
	people := []string{"Jane Doe <jane@corp.example>", "Bob Smith <bob.smith@example.org>",
		"Priya Patel <priya.patel@corp.example>", "CI Bot <ci-bot@corp.example>"}
	secrets := []string{"Temporarily hard-code GH_TOKEN=" + ghToken + " for the mirror job",
		"aws_secret_access_key=" + awsSecret, "curl -u ci:hunter22 https://registry.corp.example/v2/_catalog"}
	start := time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)

	items := make([]evidence.Item, n)
	for i := range items {
		sha := hex(40)
		var body []string
		for range rng.IntN(4) {
			body = append(body, pick(lines))
		}
		if rng.IntN(40) == 0 {
			body = append(body, pick(secrets))
		}
		author, email := "Jane Doe", "jane@corp.example"
		if rng.IntN(5) == 0 {
			p := pick(people)
			author, email, _ = strings.Cut(strings.TrimSuffix(p, ">"), " <")
		}
		when := start.Add(time.Duration(i) * 37 * time.Minute)
		facts := map[string]any{
			"author_name":  author,
			"author_email": email,
			"committed_at": when.Format(time.RFC3339),
			"repo":         "/tmp/ksbfolio-bench-git/repo-50000",
			"parents":      []any{hex(40)},
		}
		if rng.IntN(5) == 0 {
			facts["author_mapped"] = true
			facts["original_author_name"] = author
			facts["original_author_email"] = "jane.doe@old-corp.example"
		}
		if rng.IntN(20) == 0 {
			co := pick(people)
			body = append(body, "", "Co-authored-by: "+co)
			facts["co_authors"] = []any{co}
		}
		var files []any
		ins, del := 0, 0
		for range 1 + rng.IntN(3) {
			a, d := rng.IntN(40), rng.IntN(20)
			ins, del = ins+a, del+d
			files = append(files, map[string]any{"path": pick(paths), "insertions": a, "deletions": d})
		}
		facts["files"] = files
		facts["files_changed"] = len(files)
		facts["insertions"] = ins
		facts["deletions"] = del
		facts["classes"] = []any{pick(classes)}
		if rng.IntN(20) == 0 {
			facts["doc_words"] = 120 + rng.IntN(400)
		}
		items[i] = evidence.Item{
			Schema:     evidence.SchemaVersion,
			ID:         evidence.NewID("git", sha),
			SourceType: "git",
			Kind:       evidence.KindCommit,
			Title:      pick(titles),
			Summary:    strings.Join(body, "\n"),
			OccurredAt: when,
			Origin:     evidence.Origin{URI: "file:///tmp/ksbfolio-bench-git/repo-50000", NativeID: sha},
			Facts:      facts,
		}
	}
	return items
}

// cloneFacts copies v deep enough that redacting the copy leaves v as it
// was: maps and lists are new, strings and numbers shared.
func cloneFacts(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = cloneFacts(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = cloneFacts(e)
		}
		return out
	}
	return v
}

func cloneItem(it evidence.Item) evidence.Item {
	if it.Facts != nil {
		it.Facts = cloneFacts(it.Facts).(map[string]any)
	}
	return it
}

// BenchmarkItemCommit redacts git-commit items as the pipeline does, one
// per op. Each op works on a fresh copy of its item; BenchmarkItemClone
// is what the copying alone costs.
func BenchmarkItemCommit(b *testing.B) {
	r := mustNew(b, nil)
	items := commitItems(1, 1000)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		it := cloneItem(items[i%len(items)])
		i++
		r.Item(&it)
	}
}

// BenchmarkItemClone is the copying part of BenchmarkItemCommit.
func BenchmarkItemClone(b *testing.B) {
	items := commitItems(1, 1000)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		it := cloneItem(items[i%len(items)])
		i++
		if it.Facts == nil {
			b.Fatal("no facts")
		}
	}
}

// TestCommitItemsRealistic keeps the benchmark's items honest: they hold
// secrets and addresses that get masked, and most are clean.
func TestCommitItemsRealistic(t *testing.T) {
	r := mustNew(t, nil)
	items := commitItems(1, 1000)
	masked := Counts{}
	dirty := 0
	for i := range items {
		it := cloneItem(items[i])
		c := r.Item(&it)
		masked.Add(c)
		if len(c) > 0 {
			dirty++
		}
	}
	if masked[EmailRule] == 0 || masked["github-token"] == 0 || dirty > len(items)/2 {
		t.Errorf("masked %v in %d of %d items", masked, dirty, len(items))
	}
	t.Log(fmt.Sprint(masked), dirty)
}
