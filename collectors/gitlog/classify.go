package gitlog

import (
	"bytes"
	"regexp"
	"slices"
	"strings"
)

// The classes of work the classifier recognises in a commit's changed
// files; they become the item's "classes" fact, which the built-in
// tagging rules match.
const (
	ClassTraining       = "training"              // model training and fine-tuning code
	ClassMLCode         = "ml_code"               // code using an ML framework
	ClassHyperparams    = "hyperparameter_search" // Ray Tune, Optuna, Hyperopt, sweeps, grid search
	ClassTracking       = "experiment_tracking"   // MLflow, W&B… calls
	ClassNotebook       = "notebook"              // Jupyter notebooks
	ClassDataPipeline   = "data_pipeline"         // Airflow, dbt, Spark, DVC, ETL
	ClassFeatures       = "feature_engineering"   // feature code, feature stores
	ClassEvaluation     = "evaluation"            // model evaluation and metrics
	ClassTests          = "tests"                 // automated tests
	ClassServing        = "serving"               // inference and model servers
	ClassContainers     = "containers"            // Dockerfiles, compose
	ClassInfrastructure = "infrastructure"        // Kubernetes, Helm, Kustomize, Terraform, Ansible, Argo
	ClassCICD           = "ci_cd"                 // CI/CD pipelines
	ClassMonitoring     = "monitoring"            // Prometheus, Grafana, instrumentation, drift detection
	ClassDocumentation  = "documentation"         // substantive documentation (see minDocWords)
	ClassModelCard      = "model_card"            // model and data cards
	ClassReport         = "report"                // written reports
	ClassDecisionRecord = "decision_record"       // architecture decision records
	ClassDependencies   = "dependencies"          // dependency manifests
	ClassSecurity       = "security"              // security tooling and policy
)

// allClasses lists every class, for the test that each drives a rule.
var allClasses = []string{ClassTraining, ClassMLCode, ClassHyperparams, ClassTracking, ClassNotebook,
	ClassDataPipeline, ClassFeatures, ClassEvaluation, ClassTests, ClassServing, ClassContainers,
	ClassInfrastructure, ClassCICD, ClassMonitoring, ClassDocumentation, ClassModelCard, ClassReport,
	ClassDecisionRecord, ClassDependencies, ClassSecurity}

// minDocWords is how many words a commit must add to documentation, with
// white space, line breaks and Markdown formatting not counted, for its
// documentation classes: a typo fix or a reflowed paragraph is not
// documentation work.
const minDocWords = 20

// classHeadBytes is how much of a changed text file the content patterns
// look at (imports and the start of the code).
const classHeadBytes = 8 << 10

// pathRule gives classes to a path: re matches the path lower-cased.
type pathRule struct {
	re      prefiltered
	classes []string
}

func pr(expr string, classes ...string) pathRule {
	return pathRule{newPrefiltered(expr), classes}
}

// docPath matches documentation files; their classes need minDocWords.
var docPath = regexp.MustCompile(`(^|/)(readme|changelog|contributing|history)(\.[a-z]+)?$|\.(md|markdown|rst|adoc|asciidoc)$|(^|/)docs?/.*\.(md|rst|txt|adoc|html)$`)

var pathRules = []pathRule{
	// training and models
	pr(`(^|/)(train|training|trainer|fine_?tun\w*|finetun\w*)[\w-]*\.py$`, ClassTraining),
	pr(`(^|/)(training|train|fine_?tuning|finetuning)/.*\.(py|ya?ml|json|toml)$`, ClassTraining),
	pr(`(^|/)(models?|modeling|modelling)/.*\.py$|(^|/)(model|models|\w+_model)\.py$`, ClassTraining),
	pr(`(^|/)(sweeps?|hpo|hyperopt|tuning)/|(^|/)[\w-]*(sweep|hpo|optuna|hyperparam)[\w-]*\.(py|ya?ml|json)$`, ClassHyperparams),
	pr(`(^|/)mlproject$|(^|/)mlruns/`, ClassTracking),
	pr(`\.ipynb$`, ClassNotebook),
	// data
	pr(`(^|/)dags?/.*\.py$`, ClassDataPipeline),
	pr(`(^|/)dbt_project\.ya?ml$|(^|/)(dbt|models|macros|seeds|snapshots)/.*\.sql$`, ClassDataPipeline),
	pr(`\.dvc$|(^|/)dvc\.(ya?ml|lock)$|(^|/)\.dvc/config$`, ClassDataPipeline),
	pr(`(^|/)(etl|pipelines?|ingest\w*|data)/.*\.(py|sql|scala)$|(^|/)(etl|ingest|pipeline|data_pipeline|preprocess\w*)[\w-]*\.py$`, ClassDataPipeline),
	pr(`(^|/)(features?|feature_store|feature_repo)/|(^|/)features?[\w-]*\.py$|(^|/)feature_store\.ya?ml$`, ClassFeatures),
	// evaluation and tests
	pr(`(^|/)(eval|evaluate|evaluation|metrics|benchmark)[\w-]*\.py$|(^|/)(evaluation|eval)/`, ClassEvaluation),
	pr(`(^|/)(tests?|spec|__tests__)/|(^|/)test_[\w-]+\.py$|_test\.(py|go)$|\.(test|spec)\.[jt]sx?$|(^|/)conftest\.py$|(^|/)(pytest|tox)\.ini$`, ClassTests),
	// serving
	pr(`(^|/)(serve|serving|server|inference|predict|predictor|api|app|handler)[\w-]*\.py$|(^|/)(serving|inference|api)/`, ClassServing),
	pr(`(^|/)bentofile\.ya?ml$|(^|/)(torchserve|model-store|kserve)/|\.mar$`, ClassServing),
	// containers and infrastructure
	pr(`(^|/)(dockerfile|containerfile)([.-][\w.-]+)?$|\.dockerfile$|(^|/)\.dockerignore$`, ClassContainers),
	pr(`(^|/)(docker-)?compose([.-][\w-]+)?\.ya?ml$`, ClassContainers),
	pr(`(^|/)(k8s|kubernetes|manifests|deploy|deployment|helm|charts?|kustomize|overlays|argocd|argo)/.*\.(ya?ml|json|tpl)$`, ClassInfrastructure),
	pr(`(^|/)(chart|values|kustomization)\.ya?ml$|(^|/)helmfile\.ya?ml$`, ClassInfrastructure),
	pr(`\.(tf|tfvars|hcl)$|(^|/)terragrunt\.hcl$`, ClassInfrastructure),
	pr(`(^|/)(ansible|playbooks?|roles)/.*\.ya?ml$|(^|/)(playbook|site)\.ya?ml$|(^|/)ansible\.cfg$`, ClassInfrastructure),
	// CI/CD
	pr(`(^|/)\.github/workflows/|(^|/)\.gitlab-ci\.ya?ml$|(^|/)\.gitlab/ci/|(^|/)jenkinsfile$|(^|/)azure-pipelines[\w-]*\.ya?ml$|(^|/)\.circleci/|(^|/)bitbucket-pipelines\.ya?ml$|(^|/)\.drone\.ya?ml$|(^|/)\.buildkite/|(^|/)\.travis\.ya?ml$|(^|/)cloudbuild\.ya?ml$|(^|/)\.tekton/`, ClassCICD),
	// monitoring
	pr(`(^|/)(monitoring|observability|alerting|grafana|prometheus|dashboards?)/|(^|/)(prometheus|alertmanager)[\w-]*\.ya?ml$|[\w-]*(alert|rules?)[\w-]*\.rules?\.ya?ml$|(^|/)[\w-]*(drift|monitor)[\w-]*\.(py|ya?ml|json)$`, ClassMonitoring),
	// documents
	pr(`(^|/)(model|data)[_-]?cards?[\w-]*\.(md|ya?ml|rst|html)$|(^|/)datasheet[\w-]*\.md$|(^|/)(model|data)[_-]?cards?/`, ClassModelCard),
	pr(`(^|/)report[\w-]*\.(md|rst|pdf|docx|html|ipynb)$|(^|/)[\w-]*report[\w-]*\.(md|rst)$|(^|/)reports?/.*\.(md|rst)$`, ClassReport),
	pr(`(^|/)(adrs?|decisions|architecture-decisions|decision-records)/.*\.md$|(^|/)adr[-_]?\d+[\w-]*\.md$|(^|/)\d{4}-[\w-]+\.md$`, ClassDecisionRecord),
	// dependencies
	pr(`(^|/)requirements[\w.-]*\.(txt|in)$|(^|/)(pyproject\.toml|setup\.py|setup\.cfg|pipfile|pipfile\.lock|poetry\.lock|uv\.lock|environment\.ya?ml|conda\.ya?ml|conda-lock\.ya?ml|package\.json|package-lock\.json|yarn\.lock|pnpm-lock\.yaml|go\.mod|go\.sum|cargo\.toml|cargo\.lock|gemfile|gemfile\.lock|pom\.xml|build\.gradle)$`, ClassDependencies),
	// security
	pr(`(^|/)security\.md$|(^|/)\.github/dependabot\.ya?ml$|(^|/)renovate\.json5?$|(^|/)\.snyk$|(^|/)\.trivyignore$|(^|/)\.gitleaks\.toml$|(^|/)\.bandit$|(^|/)codeql[\w-]*\.ya?ml$|(^|/)\.semgrep(\.ya?ml|/)|(^|/)\.pre-commit-config\.ya?ml$`, ClassSecurity),
}

// contentRule gives classes to a text file whose head matches re.
type contentRule struct {
	re      prefiltered
	classes []string
	// only: the path must match this too.
	only prefiltered
}

var (
	codeFile   = regexp.MustCompile(`\.(py|ipynb|r|scala|jl)$`)
	yamlFilter = newPrefiltered(`\.ya?ml$`)
	ciFilter   = newPrefiltered(`(^|/)\.github/workflows/|\.gitlab-ci|jenkinsfile|azure-pipelines|\.circleci/|bitbucket-pipelines|\.pre-commit-config`)
)

// importClasses: a code file importing one of these modules (or a
// submodule) shows these classes. Imports are read line by line, in .py
// files and inside a notebook's JSON strings.
var importClasses = map[string][]string{}

func init() {
	add := func(class string, mods ...string) {
		for _, m := range mods {
			importClasses[m] = append(importClasses[m], class)
		}
	}
	add(ClassMLCode, "torch", "tensorflow", "keras", "sklearn", "xgboost", "lightgbm", "catboost", "transformers",
		"jax", "flax", "pytorch_lightning", "lightning", "statsmodels", "prophet")
	add(ClassHyperparams, "optuna", "hyperopt", "ray.tune", "skopt", "keras_tuner", "nevergrad")
	add(ClassTracking, "mlflow", "wandb", "neptune", "comet_ml", "clearml", "aim")
	add(ClassDataPipeline, "airflow", "prefect", "dagster", "luigi", "kfp", "pyspark", "dbt", "great_expectations", "pandera", "feast")
	add(ClassFeatures, "feast", "featuretools", "tsfresh", "category_encoders")
	add(ClassEvaluation, "sklearn.metrics", "torchmetrics", "evaluate", "deepchecks")
	add(ClassTests, "pytest", "unittest", "hypothesis")
	add(ClassServing, "fastapi", "flask", "bentoml", "kserve", "ray.serve", "litserve", "gradio", "streamlit", "tritonclient",
		"ts.torch_handler", "seldon_core")
	add(ClassMonitoring, "prometheus_client", "opentelemetry", "statsd", "alibi_detect", "evidently", "whylogs", "nannyml", "deepchecks")
}

// codeMarkers: a code file holding one of these shows these classes.
var codeMarkers = []struct {
	text  string
	class string
}{
	{".fit(", ClassTraining}, {"Trainer(", ClassTraining}, {"optimizer.step()", ClassTraining},
	{".backward()", ClassTraining}, {"model.compile(", ClassTraining}, {"xgb.train(", ClassTraining},
	{"lgb.train(", ClassTraining}, {"train_test_split(", ClassTraining},
	{"GridSearchCV(", ClassHyperparams}, {"RandomizedSearchCV(", ClassHyperparams},
	{"wandb.sweep(", ClassHyperparams}, {"tune.run(", ClassHyperparams}, {"tune.Tuner(", ClassHyperparams},
	{"mlflow.log_", ClassTracking}, {"mlflow.start_run", ClassTracking}, {"mlflow.autolog", ClassTracking},
	{"wandb.init(", ClassTracking}, {"wandb.log(", ClassTracking},
	{"SparkSession", ClassDataPipeline}, {"spark.read", ClassDataPipeline},
	{"FeatureView(", ClassFeatures},
	{"roc_auc_score(", ClassEvaluation}, {"classification_report(", ClassEvaluation},
	{"confusion_matrix(", ClassEvaluation}, {"f1_score(", ClassEvaluation},
	{"precision_recall_curve(", ClassEvaluation}, {"mean_squared_error(", ClassEvaluation},
	{"\ndef test_", ClassTests},
	{"BaseHandler", ClassServing}, {"@app.post(", ClassServing}, {"@app.get(", ClassServing},
	{"@app.route(", ClassServing}, {"FastAPI()", ClassServing},
}

// codeImports returns the modules a code file's head imports: "import a.b
// as c, d" gives a.b and d; "from a import b, c" gives a, a.b and a.c.
func codeImports(head []byte) []string {
	var mods []string
	// Lines, and a notebook's JSON strings: no import holds a quote.
	for _, line := range bytes.FieldsFunc(head, func(r rune) bool { return r == '\n' || r == '"' }) {
		l := strings.TrimSpace(string(line))
		l = strings.TrimSpace(strings.TrimSuffix(l, `\n`))
		switch {
		case strings.HasPrefix(l, "import "):
			for _, part := range strings.Split(l[len("import "):], ",") {
				if f := strings.Fields(part); len(f) > 0 {
					mods = append(mods, f[0])
				}
			}
		case strings.HasPrefix(l, "from "):
			f := strings.Fields(l[len("from "):])
			if len(f) == 0 {
				continue
			}
			mods = append(mods, f[0])
			if len(f) >= 3 && f[1] == "import" {
				for _, name := range strings.Split(strings.Join(f[2:], " "), ",") {
					if n := strings.Fields(strings.Trim(name, " ()")); len(n) > 0 {
						mods = append(mods, f[0]+"."+n[0])
					}
				}
			}
		}
	}
	return mods
}

// codeClasses are the classes a code file's head shows: its imports (a
// module or any parent of it) and its markers.
func codeClasses(head []byte) []string {
	var out []string
	for _, m := range codeImports(head) {
		for k := m; k != ""; {
			out = append(out, importClasses[k]...)
			i := strings.LastIndexByte(k, '.')
			if i < 0 {
				break
			}
			k = k[:i]
		}
	}
	for _, mk := range codeMarkers {
		if bytes.Contains(head, []byte(mk.text)) {
			out = append(out, mk.class)
		}
	}
	return out
}

// contentRules: a text file whose path matches only and whose head
// matches re shows classes.
var contentRules = []contentRule{
	{newPrefiltered(`(?m)^(method|metric|parameters):`), []string{ClassHyperparams}, newPrefiltered(`sweep[\w-]*\.ya?ml$`)},
	{newPrefiltered(`(?m)^kind:\s*(Deployment|Service|StatefulSet|DaemonSet|Ingress|ConfigMap|Secret|CronJob|Job|HorizontalPodAutoscaler|Namespace|Kustomization)\s*$|(?m)^apiVersion:\s*(apps|batch|networking\.k8s\.io|autoscaling|v1)\b`), []string{ClassInfrastructure}, yamlFilter},
	{newPrefiltered(`(?m)^kind:\s*(Workflow|WorkflowTemplate|CronWorkflow|Application|ApplicationSet|AppProject|Rollout)\s*$|argoproj\.io/`), []string{ClassInfrastructure}, yamlFilter},
	{newPrefiltered(`(?m)^kind:\s*(InferenceService|ServingRuntime|SeldonDeployment)\s*$|serving\.kserve\.io/`), []string{ClassServing}, yamlFilter},
	{newPrefiltered(`(?m)^kind:\s*(ServiceMonitor|PodMonitor|PrometheusRule|GrafanaDashboard)\s*$|(?m)^\s*-?\s*alert:\s*\S|(?m)^\s*expr:\s*\S|(?m)^scrape_configs:`), []string{ClassMonitoring}, yamlFilter},
	{newPrefiltered(`(?m)^\s*-?\s*hosts:\s*\S+\s*$`), []string{ClassInfrastructure}, newPrefiltered(`(playbook|site|ansible|roles/).*\.ya?ml$|^[\w-]+\.ya?ml$`)},
	{newPrefiltered(`"(panels|dashboard)"\s*:`), []string{ClassMonitoring}, newPrefiltered(`\.json$`)},
	{newPrefiltered(`(?i)\b(trivy|bandit|gitleaks|trufflehog|snyk|pip-audit|safety\s+check|semgrep|codeql|grype|detect-secrets)\b`), []string{ClassSecurity}, ciFilter},
}

// fileClasses returns the classes of one changed file from its path and,
// for a text file, the head of its new content (nil when deleted, binary
// or not read).
func fileClasses(p string, head []byte) []string {
	return fileClassesWith(nil, p, head)
}

// maxPathCache bounds a pathCache: the classes of paths already seen
// (the same files change again and again).
const maxPathCache = 50_000

type pathCache map[string][]string

// fileClassesWith is fileClasses with the path classes memoised in pc
// (nil: none).
func fileClassesWith(pc pathCache, p string, head []byte) []string {
	lp := strings.ToLower(p)
	byPath, ok := pc[lp]
	if !ok {
		for _, r := range pathRules {
			if r.re.MatchString(lp) {
				byPath = append(byPath, r.classes...)
			}
		}
		if pc != nil && len(pc) < maxPathCache {
			pc[lp] = byPath
		}
	}
	out := slices.Clone(byPath)
	if len(head) > 0 {
		if len(head) > classHeadBytes {
			head = head[:classHeadBytes]
		}
		if codeFile.MatchString(lp) {
			out = append(out, codeClasses(head)...)
		}
		for _, r := range contentRules {
			if !r.only.MatchString(lp) {
				continue
			}
			if r.re.Match(head) {
				out = append(out, r.classes...)
			}
		}
	}
	// Any file under a docs folder or a document is documentation; the
	// commit earns the class only with enough words (see classesOf).
	if docPath.MatchString(lp) || slices.Contains(out, ClassModelCard) || slices.Contains(out, ClassReport) || slices.Contains(out, ClassDecisionRecord) {
		out = append(out, ClassDocumentation)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// isDocClass reports the classes that need minDocWords.
func isDocClass(c string) bool {
	return c == ClassDocumentation || c == ClassModelCard || c == ClassReport || c == ClassDecisionRecord
}

// docWordsAdded counts the words b adds to a, comparing word sequences so
// that white space, line breaks and Markdown markup do not count.
func docWordsAdded(a, b []byte) int {
	wa, wb := words(a), words(b)
	ins, _ := lineStat(wa, wb)
	return ins
}

// isMarkup reports the Markdown and reST markup characters words drops.
func isMarkup(c byte) bool {
	switch c {
	case '#', '*', '_', '`', '>', '|', '~', '[', ']', '(', ')', '=', '+', '-':
		return true
	}
	return false
}

// words renders text as one word per line, white space and markup dropped.
func words(b []byte) []byte {
	out := make([]byte, 0, len(b))
	inWord := false
	for _, c := range b {
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || isMarkup(c) {
			if inWord {
				out = append(out, '\n')
				inWord = false
			}
			continue
		}
		out = append(out, c)
		inWord = true
	}
	if inWord {
		out = append(out, '\n')
	}
	return out
}

// classesOf sums up a commit's classes from its files: every class of
// every file, except that the documentation classes need minDocWords
// words added to documentation in all. docWords is that measure.
func classesOf(stats []fileStat) (classes []string, docWords int) {
	for _, f := range stats {
		docWords += f.DocWords
	}
	for _, f := range stats {
		for _, c := range f.Classes {
			if isDocClass(c) && docWords < minDocWords {
				continue
			}
			classes = append(classes, c)
		}
	}
	slices.Sort(classes)
	return slices.Compact(classes), docWords
}
