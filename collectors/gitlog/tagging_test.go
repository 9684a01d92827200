package gitlog_test

import (
	"strings"
	"testing"

	"github.com/ksbfolio/ksbfolio/collectors/gitlog"
	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/ksb"
	"github.com/ksbfolio/ksbfolio/evidence/tagging"
)

func builtinTagger(t *testing.T) *tagging.Tagger {
	t.Helper()
	for _, c := range ksb.Builtin() {
		if c.ID == "st1398-v1.0" {
			tg, _, err := tagging.Compile(tagging.Builtin(), c, tagging.CompileOptions{})
			if err != nil {
				t.Fatal(err)
			}
			return tg
		}
	}
	t.Fatal("no st1398-v1.0 catalogue")
	return nil
}

const doc30 = "The fraud model is retrained every week on the last ninety days of card transactions, " +
	"evaluated on a time-based holdout against the production model, and promoted only when recall at the agreed threshold improves.\n"

// TestTeamRepositoryIsTagged: on a team MLOps repository laid out as real
// ones are (training, serving, infrastructure, monitoring, reports…), the
// built-in rules suggest at least one KSB, with a reason, for at least 80%
// of the apprentice's commits; a typo fix in the README earns no
// documentation KSB; and a merge of a colleague's branch gives the
// apprentice no tag from the colleague's files.
func TestTeamRepositoryIsTagged(t *testing.T) {
	t.Parallel()
	r := newRepo(t)
	r.write("README.md", "# Fraud model\n\n"+doc30)
	r.write(".gitignore", "mlruns/\n")
	r.commit(sam, "Initial layout")
	steps := []struct{ files map[string]string }{
		{map[string]string{"src/fraud/train.py": "import xgboost as xgb\nfrom sklearn.model_selection import train_test_split\n\ndef train(df):\n    bst = xgb.train(params, dtrain)\n"}},
		{map[string]string{"src/fraud/train.py": "import xgboost as xgb\nimport mlflow\n\ndef train(df):\n    mlflow.log_metric('auc', 0.9)\n"}},
		{map[string]string{"hpo/search.py": "import optuna\n\nstudy = optuna.create_study(direction='maximize')\n"}},
		{map[string]string{"notebooks/eda.ipynb": `{"cells": [{"source": ["import pandas as pd\n", "import seaborn as sns\n"]}]}`}},
		{map[string]string{"src/fraud/features.py": "def rolling_amount(df):\n    return df.amount.rolling(7).mean()\n"}},
		{map[string]string{"src/fraud/evaluate.py": "from sklearn.metrics import roc_auc_score\n"}},
		{map[string]string{"tests/test_features.py": "import pytest\n\ndef test_rolling():\n    assert True\n"}},
		{map[string]string{"service/main.py": "from fastapi import FastAPI\napp = FastAPI()\n\n@app.post('/predict')\ndef predict(x):\n    return model.predict(x)\n"}},
		{map[string]string{"Dockerfile": "FROM python:3.12-slim\nCOPY service /app\n"}},
		{map[string]string{"k8s/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: scorer\n"}},
		{map[string]string{"charts/scorer/values.yaml": "replicas: 3\n"}},
		{map[string]string{"infra/main.tf": "resource \"aws_s3_bucket\" \"models\" {}\n"}},
		{map[string]string{"monitoring/prometheus.yml": "scrape_configs:\n  - job_name: scorer\n"}},
		{map[string]string{"monitoring/rules/model.rules.yml": "groups:\n- name: model\n  rules:\n  - alert: HighLatency\n    expr: latency_p95 > 0.3\n"}},
		{map[string]string{"src/fraud/drift.py": "from evidently.report import Report\n"}},
		{map[string]string{"dags/retrain.py": "from airflow import DAG\n"}},
		{map[string]string{".github/workflows/ci.yml": "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n"}},
		{map[string]string{"reports/Report_Q3_model_review.md": "# Q3 model review\n\n" + doc30}},
		{map[string]string{"docs/model_card.md": "# Model card\n\n" + doc30}},
		{map[string]string{"requirements.txt": "xgboost==2.1\nmlflow==2.16\n"}},
		{map[string]string{"src/fraud/utils.py": "def slug(s):\n    return s.lower()\n"}},
	}
	var mine []string
	for i, st := range steps {
		for p, c := range st.files {
			r.write(p, c)
		}
		mine = append(mine, r.commit(jane, "Step "+string(rune('a'+i))))
	}
	typo := func() string {
		r.write("README.md", "# Fraud model\n\n"+strings.Replace(doc30, "ninety", "ninty", 1))
		return r.commit(jane, "Fix typo in README")
	}()
	mine = append(mine, typo)
	// Sam's branch, merged by Jane: Sam's Dockerfile and alerts are not hers.
	r.git("checkout", "-q", "-b", "feature/sam-alerts")
	r.write("monitoring/alertmanager.yml", "route:\n  receiver: oncall\n")
	r.write("docker/Dockerfile.gpu", "FROM nvidia/cuda:12.4.0-runtime-ubuntu22.04\n")
	r.commit(sam, "Page on-call and build a GPU image")
	r.git("checkout", "-q", "main")
	merge := r.mergeNoFF(jane, "feature/sam-alerts", "Merge branch 'feature/sam-alerts'")

	s, _, err := collect(t, newCollector(t, gitlog.Config{Path: r.dir, Emails: []string{janeE}}), nil)
	if err != nil {
		t.Fatal(err)
	}
	tg := builtinTagger(t)
	items := s.byNative()
	tagged := 0
	for _, sha := range mine {
		it := items[sha]
		tg.Tag(&it)
		n := 0
		for _, tag := range it.Tags {
			if strings.HasPrefix(tag.By, evidence.ByRule) {
				n++
				if strings.TrimSpace(tag.Reason) == "" {
					t.Errorf("%s: tag %s without a reason", it.Title, tag.KSB)
				}
			}
		}
		if n > 0 {
			tagged++
		} else {
			t.Logf("untagged: %s %v (classes %v)", it.Title, filesOf(t, it), it.Facts["classes"])
		}
		if sha == typo {
			for _, tag := range it.Tags {
				if tag.KSB == "S28" || tag.KSB == "S6" || tag.KSB == "S29" {
					t.Errorf("a typo fix earned %s (%s); doc_words %v", tag.KSB, tag.By, it.Facts["doc_words"])
				}
			}
		}
	}
	if share := float64(tagged) / float64(len(mine)); share < 0.8 {
		t.Errorf("%d of %d of the apprentice's commits carry a suggested KSB (%.0f%%), want at least 80%%", tagged, len(mine), 100*share)
	}
	// Rules that look at files (their paths or the classes found in them).
	fileRules := map[string]bool{}
	for _, rule := range tagging.Builtin() {
		if len(rule.Match.Paths) > 0 || len(rule.Match.Facts) > 0 {
			fileRules[evidence.ByRule+rule.ID] = true
		}
	}
	m := items[merge]
	tg.Tag(&m)
	for _, tag := range m.Tags {
		if fileRules[tag.By] {
			t.Errorf("merge of Sam's branch gave Jane %s from %s (%s)", tag.KSB, tag.By, tag.Reason)
		}
	}
	// The same changes in Sam's own commit are tagged: the rules would
	// have fired on those files.
	if len(fileRules) < 10 {
		t.Fatalf("only %d file rules", len(fileRules))
	}
}
