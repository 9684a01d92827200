package gitlog

import (
	"slices"
	"strings"
	"testing"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/ksb"
	"github.com/ksbfolio/ksbfolio/evidence/tagging"
)

// TestFileClasses: real-world paths and file heads from ML team
// repositories, and the classes the classifier gives them.
func TestFileClasses(t *testing.T) {
	cases := []struct {
		path, head string
		want       []string // exactly these
	}{
		// training and models
		{"src/train.py", "import argparse\n", []string{ClassTraining}},
		{"training/finetune_bert.py", "from transformers import Trainer\ntrainer = Trainer(model=m)\n", []string{ClassMLCode, ClassTraining}},
		{"fraud/models/xgb.py", "import xgboost as xgb\nbst = xgb.train(params, d)\n", []string{ClassMLCode, ClassTraining}},
		{"src/step.py", "import torch\nloss.backward()\noptimizer.step()\n", []string{ClassMLCode, ClassTraining}},
		{"src/fraud/model.py", "import lightgbm as lgb\n", []string{ClassMLCode, ClassTraining}},
		{"scripts/fine_tuning_llama.py", "", []string{ClassTraining}},
		// hyperparameter search
		{"hpo/search.py", "import optuna\nstudy = optuna.create_study()\n", []string{ClassHyperparams}},
		{"src/tune.py", "from ray import tune\ntuner = tune.Tuner(trainable)\n", []string{ClassHyperparams}},
		{"src/grid.py", "from sklearn.model_selection import GridSearchCV\nsearch = GridSearchCV(est, grid)\n", []string{ClassHyperparams, ClassMLCode}},
		{"configs/sweep.yaml", "method: bayes\nmetric:\n  name: val_auc\n", []string{ClassHyperparams}},
		{"src/hyperopt_space.py", "from hyperopt import hp\n", []string{ClassHyperparams}},
		// experiment tracking
		{"src/log.py", "import mlflow\nmlflow.log_metric('auc', auc)\n", []string{ClassTracking}},
		{"src/run.py", "import wandb\nwandb.init(project='fraud')\n", []string{ClassTracking}},
		{"MLproject", "name: fraud\n", []string{ClassTracking}},
		// notebooks and what they import
		{"notebooks/EDA.ipynb", `{"cells": [{"source": ["import pandas as pd\n", "import sklearn\n", "import mlflow\n"]}]}`, []string{ClassMLCode, ClassNotebook, ClassTracking}},
		// data pipelines and features
		{"dags/retrain_dag.py", "from airflow import DAG\n", []string{ClassDataPipeline}},
		{"warehouse/models/staging/stg_transactions.sql", "select * from {{ source('raw', 'txn') }}", []string{ClassDataPipeline}},
		{"dbt_project.yml", "name: fraud\n", []string{ClassDataPipeline}},
		{"data/raw.csv.dvc", "outs:\n- md5: 1\n", []string{ClassDataPipeline}},
		{"dvc.lock", "schema: '2.0'\n", []string{ClassDataPipeline}},
		{"jobs/aggregate.py", "from pyspark.sql import SparkSession\n", []string{ClassDataPipeline}},
		{"src/features.py", "def rolling_mean(df):\n", []string{ClassFeatures}},
		{"feature_repo/feature_store.yaml", "project: fraud\n", []string{ClassFeatures}},
		// evaluation and tests
		{"src/evaluate.py", "from sklearn.metrics import roc_auc_score\n", []string{ClassEvaluation, ClassMLCode}},
		{"tests/test_features.py", "import pytest\ndef test_rolling():\n", []string{ClassTests}},
		{"src/model_test.go", "package model\n", []string{ClassTests}},
		{"web/app.spec.ts", "", []string{ClassTests}},
		{"conftest.py", "import pytest\n", []string{ClassTests}},
		// serving
		{"service/main.py", "from fastapi import FastAPI\napp = FastAPI()\n@app.post('/predict')\n", []string{ClassServing}},
		{"src/serve.py", "from flask import Flask\n", []string{ClassServing}},
		{"torchserve/handler.py", "from ts.torch_handler.base_handler import BaseHandler\n", []string{ClassServing}},
		{"bentofile.yaml", "service: 'service:svc'\n", []string{ClassServing}},
		{"deploy/kserve/isvc.yaml", "apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\n", []string{ClassInfrastructure, ClassServing}},
		// containers and infrastructure
		{"Dockerfile", "FROM python:3.12-slim\n", []string{ClassContainers}},
		{"docker/Dockerfile.gpu", "FROM nvidia/cuda\n", []string{ClassContainers}},
		{"docker-compose.yml", "services:\n", []string{ClassContainers}},
		{"k8s/deployment.yaml", "apiVersion: apps/v1\nkind: Deployment\n", []string{ClassInfrastructure}},
		{"charts/fraud/Chart.yaml", "apiVersion: v2\nname: fraud\n", []string{ClassInfrastructure}},
		{"overlays/prod/kustomization.yaml", "resources:\n", []string{ClassInfrastructure}},
		{"infra/main.tf", "resource \"aws_s3_bucket\" \"models\" {}\n", []string{ClassInfrastructure}},
		{"ansible/playbooks/gpu.yml", "- hosts: gpu\n", []string{ClassInfrastructure}},
		{"workflows/retrain.yaml", "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\n", []string{ClassInfrastructure}},
		{"apps/fraud.yaml", "apiVersion: argoproj.io/v1alpha1\nkind: Application\n", []string{ClassInfrastructure}},
		// CI/CD
		{".github/workflows/ci.yml", "on: push\n", []string{ClassCICD}},
		{".gitlab-ci.yml", "stages: [test]\n", []string{ClassCICD}},
		{"Jenkinsfile", "pipeline {}\n", []string{ClassCICD}},
		{"azure-pipelines.yml", "trigger: [main]\n", []string{ClassCICD}},
		// monitoring
		{"monitoring/prometheus.yml", "scrape_configs:\n", []string{ClassMonitoring}},
		{"alerts/model.rules.yml", "groups:\n- name: model\n  rules:\n  - alert: HighLatency\n    expr: x > 1\n", []string{ClassMonitoring}},
		{"ops/dash/model.json", `{"dashboard": {"panels": []}}`, []string{ClassMonitoring}},
		{"src/metrics_server.py", "from prometheus_client import Counter\nREQS = Counter('requests_total', 'x')\n", []string{ClassEvaluation, ClassMonitoring}},
		{"src/checks.py", "from evidently.report import Report\n", []string{ClassMonitoring}},
		{"src/detect.py", "from alibi_detect.cd import KSDrift\n", []string{ClassMonitoring}},
		{"src/drift.py", "", []string{ClassMonitoring}},
		// documentation in any case, cards, reports, ADRs
		{"readme.md", "# Fraud\n", []string{ClassDocumentation}},
		{"README", "Fraud model\n", []string{ClassDocumentation}},
		{"docs/usage.rst", "Usage\n", []string{ClassDocumentation}},
		{"docs/model_card.md", "# Model card\n", []string{ClassDocumentation, ClassModelCard}},
		{"MODEL_CARD.md", "", []string{ClassDocumentation, ClassModelCard}},
		{"data_card.md", "", []string{ClassDocumentation, ClassModelCard}},
		{"Report_Q3_model_review.md", "", []string{ClassDocumentation, ClassReport}},
		{"reports/drift_report.md", "", []string{ClassDocumentation, ClassReport}},
		{"docs/adr/0003-use-feast.md", "", []string{ClassDecisionRecord, ClassDocumentation}},
		// dependency manifests and security
		{"requirements.txt", "torch==2.3\n", []string{ClassDependencies}},
		{"requirements-dev.in", "", []string{ClassDependencies}},
		{"pyproject.toml", "[project]\n", []string{ClassDependencies}},
		{"environment.yml", "dependencies:\n", []string{ClassDependencies}},
		{".github/dependabot.yml", "version: 2\n", []string{ClassSecurity}},
		{".github/workflows/scan.yml", "- run: trivy image fraud:latest\n", []string{ClassCICD, ClassSecurity}},
		{"SECURITY.md", "", []string{ClassDocumentation, ClassSecurity}},
		{".pre-commit-config.yaml", "- repo: https://github.com/gitleaks/gitleaks\n", []string{ClassSecurity}},
		// nothing
		{"LICENSE", "MIT\n", nil},
		{"src/utils/strings.py", "def slug(s):\n", nil},
		{".gitignore", "mlruns/\n", nil},
		{"assets/logo.png", "", nil},
	}
	for _, c := range cases {
		var head []byte
		if c.head != "" {
			head = []byte(c.head)
		}
		got := fileClasses(c.path, head)
		want := slices.Clone(c.want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s (%q): classes %v, want %v", c.path, firstLine(c.head), got, want)
		}
	}
}

func firstLine(s string) string { l, _, _ := strings.Cut(s, "\n"); return l }

// TestDocWords: documentation classes need words added, not white space,
// line breaks or markup.
func TestDocWords(t *testing.T) {
	para := "The model is retrained weekly on the last ninety days of transactions and evaluated against the production model before promotion.\n"
	cases := []struct {
		name     string
		old, new string
		doc      bool
	}{
		{"new section", "# Fraud\n", "# Fraud\n\n## Retraining\n\n" + para, true},
		{"typo", "# Fraud\n\n" + para, "# Fraud\n\n" + strings.Replace(para, "weekly", "weekely", 1), false},
		{"reflow", "# Fraud\n\n" + para, "# Fraud\n\n" + strings.ReplaceAll(para, " and ", "\nand "), false},
		{"whitespace", "# Fraud\n\n" + para, "#  Fraud\n\n\n\n" + strings.ReplaceAll(para, " ", "  ") + "\n", false},
		{"markup", "# Fraud\n\n" + para, "## **Fraud**\n\n> " + para, false},
	}
	for _, c := range cases {
		fs := fileStat{Path: "docs/retraining.md", Classes: fileClasses("docs/retraining.md", []byte(c.new)),
			DocWords: docWordsAdded([]byte(c.old), []byte(c.new))}
		classes, words := classesOf([]fileStat{fs})
		if got := slices.Contains(classes, ClassDocumentation); got != c.doc {
			t.Errorf("%s: documentation %v (%d words added), want %v", c.name, got, words, c.doc)
		}
	}
}

// TestEveryClassDrivesARule: each class the classifier gives, alone on a
// commit, gets a KSB from a built-in rule, with a reason.
func TestEveryClassDrivesARule(t *testing.T) {
	var cat *ksb.Catalogue
	for _, c := range ksb.Builtin() {
		if c.ID == "st1398-v1.0" {
			cat = c
		}
	}
	tg, _, err := tagging.Compile(tagging.Builtin(), cat, tagging.CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range allClasses {
		it := evidence.Item{Kind: evidence.KindCommit, SourceType: SourceType, Title: "Change",
			Facts: map[string]any{"classes": []any{c}}}
		tg.Tag(&it)
		if len(it.Tags) == 0 || it.Tags[0].Reason == "" {
			t.Errorf("class %s: no built-in rule suggests a KSB", c)
		}
	}
}
