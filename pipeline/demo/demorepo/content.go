package demorepo

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// fileKind says what a generated file's lines look like.
type fileKind int

const (
	kindPython fileKind = iota
	kindYAML
	kindMarkdown
	kindDocker
	kindNotebook
	kindText
	kindBinary
)

// skeleton is the project the first commit creates: path, kind, area (which
// picks commit messages) and starting size in lines.
var skeleton = []struct {
	path  string
	kind  fileKind
	area  string
	lines int
}{
	{"README.md", kindMarkdown, "docs", 18},
	{".gitignore", kindText, "build", 4},
	{"requirements.txt", kindText, "build", 7},
	{"pyproject.toml", kindText, "build", 12},
	{"Makefile", kindText, "build", 9},
	{"Dockerfile", kindDocker, "docker", 10},
	{"src/__init__.py", kindPython, "train", 2},
	{"src/train.py", kindPython, "train", 48},
	{"src/features.py", kindPython, "features", 42},
	{"src/data.py", kindPython, "data", 30},
	{"src/evaluate.py", kindPython, "evaluate", 27},
	{"src/serve.py", kindPython, "serve", 24},
	{"src/drift.py", kindPython, "monitoring", 21},
	{"tests/test_model.py", kindPython, "tests", 24},
	{"tests/test_features.py", kindPython, "tests", 21},
	{"tests/test_data.py", kindPython, "tests", 15},
	{"monitoring/alerts.yaml", kindYAML, "monitoring", 18},
	{"monitoring/dashboards/model.json", kindText, "monitoring", 24},
	{".github/workflows/ci.yml", kindYAML, "ci", 18},
	{".github/workflows/deploy.yml", kindYAML, "ci", 15},
	{"notebooks/eda.ipynb", kindNotebook, "notebook", 36},
	{"deploy/k8s/deployment.yaml", kindYAML, "deploy", 21},
	{"deploy/k8s/service.yaml", kindYAML, "deploy", 9},
	{"deploy/k8s/hpa.yaml", kindYAML, "deploy", 10},
	{"docs/model_card.md", kindMarkdown, "docs", 24},
	{"docs/architecture.md", kindMarkdown, "docs", 18},
	{"configs/train.yaml", kindYAML, "train", 12},
	{"params.yaml", kindYAML, "train", 9},
	{"dvc.yaml", kindYAML, "data", 9},
	{"models/baseline.onnx", kindBinary, "models", 2},
	{"data/sample.parquet", kindBinary, "data", 2},
}

var (
	words = []string{"amount", "merchant", "country", "hour", "velocity", "balance", "age",
		"device", "channel", "score", "label", "latency", "drift", "psi", "auc", "recall",
		"precision", "threshold", "window", "batch", "epoch", "lr", "depth", "estimators",
		"customer", "region", "segment", "churn", "fraud", "txn", "session", "payload"}
	pyTemplates = []string{
		"def %s_%d(df):",
		"    \"\"\"Compute %s for batch %d.\"\"\"",
		"    df[\"%s_%d\"] = df[\"amount\"].rolling(%d).mean()",
		"    return df",
		"    logger.info(\"%s step %d\")",
		"    mlflow.log_metric(\"%s\", %d)",
		"    params[\"%s\"] = %d",
		"    if df[\"%s\"].isna().sum() > %d:",
		"        raise ValueError(\"too many missing %s values: %d\")",
		"from .%s import load_%d",
		"assert model.%s(X_test).shape[0] == %d",
		"",
	}
	yamlTemplates = []string{
		"  - alert: %s_%d",
		"    expr: %s_seconds_bucket > %d",
		"    for: %dm",
		"      %s: \"%d\"",
		"  %s_%d: %d",
		"        - name: %s-%d",
		"          image: registry.example/%s:%d",
		"          resources: {limits: {cpu: \"%dm\"}}",
		"",
	}
	mdTemplates = []string{
		"## %s (%d)",
		"The %s metric was %d%% on the holdout set.",
		"- %s: measured over %d days of traffic",
		"See `%s_%d` for details.",
		"",
	}
	dockerTemplates = []string{
		"RUN pip install --no-cache-dir %s==%d.0",
		"COPY src/%s_%d.py /app/src/",
		"ENV %s_LIMIT=%d",
		"# %s layer %d",
	}
	nbTemplates = []string{
		"    \"df.groupby('%s')['amount'].describe()  # cell %d\\n\",",
		"    \"sns.histplot(df['%s'], bins=%d)\\n\",",
		"   \"execution_count\": %d,",
		"    \"# %s distribution, sample %d\\n\",",
	}
	textTemplates = []string{
		"%s==%d.1",
		"%s_%d: true",
		"# %s %d",
	}
)

// genFile is one file of the generated worktree.
type genFile struct {
	path  string
	kind  fileKind
	area  string
	lines []string
	bin   []byte
}

// content renders the file as written to the repository.
func (f *genFile) content() []byte {
	if f.kind == kindBinary {
		return f.bin
	}
	if len(f.lines) == 0 {
		return nil
	}
	return []byte(strings.Join(f.lines, "\n") + "\n")
}

// liner makes new lines for files; counter keeps most lines unique so that
// the diffs are unambiguous, like real code.
type liner struct {
	rng     *rand.Rand
	counter int
}

func (l *liner) line(kind fileKind) string {
	var ts []string
	switch kind {
	case kindPython:
		ts = pyTemplates
	case kindYAML:
		ts = yamlTemplates
	case kindMarkdown:
		ts = mdTemplates
	case kindDocker:
		ts = dockerTemplates
	case kindNotebook:
		ts = nbTemplates
	default:
		ts = textTemplates
	}
	t := ts[l.rng.IntN(len(ts))]
	l.counter++
	var args []any
	for i := 0; i < len(t)-1; i++ {
		if t[i] != '%' {
			continue
		}
		i++
		switch t[i] {
		case 's':
			args = append(args, words[l.rng.IntN(len(words))])
		case 'd':
			args = append(args, l.counter+len(args))
		}
	}
	return fmt.Sprintf(t, args...)
}

func (l *liner) lines(kind fileKind, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = l.line(kind)
	}
	return out
}

// binary makes a blob that git treats as binary (it holds NUL bytes).
func (l *liner) binary() []byte {
	b := make([]byte, 512+l.rng.IntN(4096))
	for i := range b {
		b[i] = byte(l.rng.IntN(256))
	}
	b[0] = 0
	return b
}

// edit changes f the way a person would: insert, delete or replace a block
// of lines, keeping the file between a few and a few hundred lines.
func (l *liner) edit(f *genFile) {
	if f.kind == kindBinary {
		f.bin = l.binary()
		return
	}
	n := len(f.lines)
	op := l.rng.IntN(10)
	switch {
	case n > 110:
		op = 9 // shrink
	case n < 6:
		op = 0 // grow
	}
	pos := l.rng.IntN(n + 1)
	switch {
	case op < 5: // insert
		k := 1 + l.rng.IntN(8)
		ins := l.lines(f.kind, k)
		f.lines = append(f.lines[:pos], append(ins, f.lines[pos:]...)...)
	case op < 8: // replace
		if pos == n {
			pos = n - 1
		}
		k := 1 + l.rng.IntN(min(6, n-pos))
		j := 1 + l.rng.IntN(8)
		rep := l.lines(f.kind, j)
		f.lines = append(f.lines[:pos], append(rep, f.lines[pos+k:]...)...)
	default: // delete
		if pos == n {
			pos = n - 1
		}
		k := 1 + l.rng.IntN(min(10, n-pos))
		f.lines = append(f.lines[:pos], f.lines[pos+k:]...)
	}
}

// messages per area: what a commit touching that area is about.
var messages = map[string][]string{
	"train": {"Tune XGBoost hyperparameters", "Add early stopping to training loop",
		"Log training metrics to MLflow", "Handle class imbalance with class weights",
		"Switch to stratified k-fold cross-validation", "Seed all random generators for reproducibility",
		"Increase max_depth after grid search", "Save model signature with the artefact"},
	"features": {"Add rolling-window features for transaction amount", "Fix target leakage in encoding",
		"Normalise numeric features", "Drop features with near-zero variance",
		"Add merchant category embeddings", "Impute missing balances with the median"},
	"data": {"Validate input schema before training", "Version training data with DVC",
		"Split data by time to avoid leakage", "Refresh sample dataset"},
	"evaluate": {"Report precision at fixed recall", "Add calibration curve to evaluation",
		"Compare candidate against production model", "Add fairness metrics by region"},
	"serve": {"Add batch prediction endpoint", "Return model version in responses",
		"Validate request payloads", "Warm up model on startup"},
	"monitoring": {"Add drift detection to monitoring", "Alert on p95 latency above 300ms",
		"Add PSI drift metric per feature", "Page on-call when error rate exceeds 2%",
		"Tune drift alert thresholds"},
	"tests": {"Add unit tests for feature pipeline", "Fix flaky model test",
		"Test training on an empty batch", "Add regression test for leakage bug"},
	"ci": {"Cache pip downloads in CI", "Run tests on Python 3.12",
		"Build and push image on tag", "Fail CI when coverage drops"},
	"deploy": {"Bump model server replicas to 3", "Add readiness probe to model server",
		"Set resource limits on model server", "Add horizontal pod autoscaler",
		"Roll back to previous model version"},
	"docs": {"Update model card with fairness metrics", "Document retraining procedure",
		"Describe monitoring dashboards", "Fix typos in README"},
	"notebook": {"Explore seasonality in EDA notebook", "Plot feature correlations",
		"Investigate outliers in transaction amount"},
	"docker": {"Pin base image to python:3.12-slim", "Use multi-stage Docker build",
		"Run container as non-root user"},
	"build":  {"Pin dependency versions", "Add make target for linting", "Ignore MLflow run folders"},
	"models": {"Retrain baseline model on latest data", "Export model to ONNX"},
}

var bodies = []string{
	"The previous threshold fired on every deploy.",
	"Measured on the last 30 days of production traffic.",
	"This keeps training and serving features consistent.",
	"Validation AUC improved from 0.91 to 0.93 on the holdout set.",
	"Requested in the model review with the risk team.",
	"No behaviour change for existing callers.",
	"See the incident write-up for the root cause.",
}

// ksbsByArea are plausible declared KSBs for trailers.
var ksbsByArea = map[string][]string{
	"train":      {"S1", "K5", "S5"},
	"features":   {"S5", "K7"},
	"data":       {"K11", "S6"},
	"evaluate":   {"S8", "K12"},
	"serve":      {"S9", "K14"},
	"monitoring": {"S10", "K12"},
	"tests":      {"S11", "K13"},
	"ci":         {"S14", "K15"},
	"deploy":     {"S16", "K18"},
	"docs":       {"S19", "B3"},
	"notebook":   {"S20", "K1"},
	"docker":     {"S22", "K19"},
	"build":      {"S26", "B1"},
	"models":     {"S28", "K28"},
}

// trailer writes a KSB trailer in one of the forms people use.
func (l *liner) trailer(area string) string {
	ids := ksbsByArea[area]
	if len(ids) == 0 {
		ids = []string{"S10", "K12"}
	}
	switch l.rng.IntN(4) {
	case 0:
		return "KSB: " + strings.Join(ids, ", ")
	case 1:
		return "KSBs: " + strings.ToLower(strings.Join(ids, "; "))
	case 2:
		return "ksb: " + strings.Join(ids, " ")
	default:
		return "KSB: " + ids[0]
	}
}
