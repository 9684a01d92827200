package sagemaker_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/collectors/collectortest"
	"github.com/ksbfolio/ksbfolio/collectors/registry"
	"github.com/ksbfolio/ksbfolio/collectors/sagemaker"
	"github.com/ksbfolio/ksbfolio/collectors/trainrun"
	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/pipeline/config/configtest"
)

var fixedNow = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// awsEnv gives the standard chain the test credentials only: no shared
// files, no instance metadata.
func awsEnv(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", testKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", testSecret)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

func newCollector(t testing.TB, endpoint string) *sagemaker.Collector {
	t.Helper()
	c, err := sagemaker.New(sagemaker.Config{Name: "aws-ml", Apprentice: "jdoe",
		SourceConfig: sagemaker.SourceConfig{Region: testRegion, Endpoint: endpoint}},
		collectors.Settings{Now: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatal(err)
	}
	sagemaker.WithoutBackoff(c)
	return c
}

func byName(items []evidence.Item) map[string]evidence.Item {
	out := map[string]evidence.Item{}
	for _, it := range items {
		if n, ok := it.Facts["run_name"].(string); ok {
			out[n] = it
		} else {
			out[it.Facts["endpoint_name"].(string)] = it
		}
	}
	return out
}

func TestTrainingJobsAndEndpoints(t *testing.T) {
	awsEnv(t)
	rp, srv := startReplay(t)
	s, cur, err := collectortest.Collect(t, newCollector(t, srv.URL), nil)
	if err != nil {
		t.Fatal(err)
	}
	if rp.throttled != 1 || rp.calls["ListTrainingJobs"] != 4 {
		t.Errorf("throttled %d times, %d list calls; want the throttled page retried (4 calls)", rp.throttled, rp.calls["ListTrainingJobs"])
	}
	items := byName(s.Items())
	if len(items) != 5 {
		t.Fatalf("%d items, want 4 jobs and 1 endpoint: %v", len(items), s.IDs())
	}
	job := items["fraud-xgb-2024-03-01-10-00-00"]
	f := job.Facts
	if job.Kind != evidence.KindTrainingRun || f["status"] != "finished" || f["duration_seconds"] != 800.0 {
		t.Errorf("job %s %v %v", job.Kind, f["status"], f["duration_seconds"])
	}
	if p := f["params"].(map[string]any); p["max_depth"] != "6" || p["objective"] != "binary:logistic" {
		t.Errorf("params %v", p)
	}
	final := f["final_metrics"].(map[string]any)
	if v, _ := final["validation:auc"].(float64); v < 0.9422 || v > 0.9424 {
		t.Errorf("final metrics %v", final)
	}
	if hw := f["hardware"].(map[string]any); hw["instance_type"] != "ml.m5.xlarge" || hw["instance_count"] != 1.0 {
		t.Errorf("hardware %v", hw)
	}
	x := f["sagemaker"].(map[string]any)
	if x["billable_seconds"] != 800.0 || x["model_artifact"] != artefact("fraud-xgb-2024-03-01-10-00-00") ||
		len(x["status_transitions"].([]any)) != 3 {
		t.Errorf("sagemaker facts %v", x)
	}
	if ds := f["datasets"].([]any); len(ds) != 2 || ds[0].(map[string]any)["source"] != "s3://fraud-ml-data/train/" {
		t.Errorf("datasets %v", ds)
	}
	if job.Origin.NativeID != arn("training-job", "fraud-xgb-2024-03-01-10-00-00") || !strings.Contains(job.Origin.URI, "#/jobs/fraud-xgb-2024-03-01-10-00-00") {
		t.Errorf("origin %+v", job.Origin)
	}

	failed := items["fraud-xgb-2024-03-02-09-00-00"].Facts
	if failed["status"] != "failed" || !strings.Contains(failed["sagemaker"].(map[string]any)["failure_reason"].(string), "feature_names mismatch") {
		t.Errorf("failed job %v", failed)
	}
	gpu := items["fraud-pytorch-2024-03-05-12-00-00"].Facts
	if hw := gpu["hardware"].(map[string]any); hw["instance_type"] != "ml.g5.2xlarge" || hw["instance_count"] != 2.0 ||
		gpu["sagemaker"].(map[string]any)["managed_spot"] != true || gpu["sagemaker"].(map[string]any)["billable_seconds"] != 1440.0 {
		t.Errorf("gpu job %v", gpu)
	}
	if st := items["fraud-xgb-tuning-001-7f3a"].Facts; st["status"] != "killed" || st["sagemaker"].(map[string]any)["tuning_job"] == nil {
		t.Errorf("stopped job %v", st)
	}

	ep := items["fraud-endpoint"]
	if ep.Kind != evidence.KindDeployment || ep.Facts["status"] != "InService" {
		t.Fatalf("endpoint %s %v", ep.Kind, ep.Facts)
	}
	v := ep.Facts["variants"].([]any)[0].(map[string]any)
	if v["model"] != "fraud-xgb-model" || v["instance_type"] != "ml.m5.large" || v["instance_count"] != 2.0 || v["weight"] != 1.0 {
		t.Errorf("variant %v", v)
	}
	want := evidence.Link{Rel: sagemaker.RelDeploys, Item: job.ID}
	if len(ep.Links) != 1 || ep.Links[0] != want {
		t.Errorf("endpoint links %v, want %v", ep.Links, want)
	}
	if job.ID != trainrun.RunItemID(sagemaker.SourceType, job.Origin.NativeID) {
		t.Error("job ID is not trainrun's")
	}

	// From the cursor: nothing is described again.
	before := rp.calls["DescribeTrainingJob"]
	again, _, err := collectortest.Collect(t, newCollector(t, srv.URL), cur)
	if err != nil || len(again.Items()) != 0 || rp.calls["DescribeTrainingJob"] != before {
		t.Errorf("rerun: %d items, %d describes, %v", len(again.Items()), rp.calls["DescribeTrainingJob"]-before, err)
	}
}

// TestDescribeFails: a job that cannot be described is a counted skip.
func TestDescribeFails(t *testing.T) {
	awsEnv(t)
	rp, srv := startReplay(t)
	rp.mu.Lock()
	delete(rp.describe, "fraud-xgb-2024-03-02-09-00-00")
	rp.mu.Unlock()
	s, cur, err := collectortest.Collect(t, newCollector(t, srv.URL), nil)
	var pe *collectors.PartialError
	if !errors.As(err, &pe) || pe.Failed != 1 || len(s.Items()) != 4 || cur == nil {
		t.Fatalf("%d items, %v", len(s.Items()), err)
	}
	if sk := s.Skips(); len(sk) != 1 || !strings.Contains(sk[0].Reason, "ResourceNotFound") {
		t.Errorf("skips %v", sk)
	}
}

// TestThrottledForGood: a list that stays throttled past the retries
// fails the collection with the service's words.
func TestThrottledForGood(t *testing.T) {
	awsEnv(t)
	rp, srv := startReplay(t)
	c := newCollector(t, srv.URL)
	srvThrottle := &alwaysThrottle{next: rp}
	srv.Config.Handler = srvThrottle
	_, cur, err := collectortest.Collect(t, c, nil)
	if err == nil || !strings.Contains(err.Error(), "ThrottlingException") || cur != nil {
		t.Fatalf("err %v, cursor %q", err, cur)
	}
	if srvThrottle.n != 6 {
		t.Errorf("%d attempts, want 6", srvThrottle.n)
	}
}

func TestNoCredentials(t *testing.T) {
	awsEnv(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	_, srv := startReplay(t)
	_, _, err := collectortest.Collect(t, newCollector(t, srv.URL), nil)
	if err == nil || !strings.Contains(err.Error(), "credentials") {
		t.Fatalf("err %v", err)
	}
}

func TestConformance(t *testing.T) {
	awsEnv(t)
	rp, srv := startReplay(t)
	dir := t.TempDir() // the source is a server; nothing on disk to watch
	grown := 0
	collectortest.Check(t, collectortest.Fixture{
		New:  func(t testing.TB) collectors.Collector { return newCollector(t, srv.URL) },
		Dirs: []string{dir},
		Grow: func(t testing.TB) {
			grown++
			rp.addJob("fraud-xgb-grown-" + string(rune('a'+grown)))
		},
		MinItems: 5,
	})
}

func TestREADMESampleConfig(t *testing.T) {
	srcs := configtest.SampleConfig(t, "README.md", sagemaker.SourceType, registry.Default())
	sc, ok := srcs[0].Config.(*sagemaker.SourceConfig)
	if !ok {
		t.Fatalf("config is %T", srcs[0].Config)
	}
	if sc.Region != "eu-west-2" || sc.NameContains != "fraud-" || sc.Endpoint != "" {
		t.Errorf("sample read as %+v", sc)
	}
	if _, err := sagemaker.New(sagemaker.Config{Name: "x", Apprentice: "j", SourceConfig: sagemaker.SourceConfig{Region: "Europe", Endpoint: "ftp://x"}},
		collectors.Settings{}); err == nil || !strings.Contains(err.Error(), "region") || !strings.Contains(err.Error(), "endpoint") {
		t.Errorf("bad region and endpoint: %v", err)
	}
}

// TestFilters: name_contains reaches ListTrainingJobs as NameContains, and
// endpoints: false lists no endpoints.
func TestFilters(t *testing.T) {
	awsEnv(t)
	rp, srv := startReplay(t)
	off := false
	c, err := sagemaker.New(sagemaker.Config{Name: "aws-ml", Apprentice: "jdoe",
		SourceConfig: sagemaker.SourceConfig{Region: testRegion, Endpoint: srv.URL, NameContains: "pytorch", Endpoints: &off}},
		collectors.Settings{Now: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatal(err)
	}
	sagemaker.WithoutBackoff(c)
	s, _, err := collectortest.Collect(t, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if names := byName(s.Items()); len(names) != 1 || names["fraud-pytorch-2024-03-05-12-00-00"].ID == "" {
		t.Errorf("items %v", s.IDs())
	}
	if rp.calls["ListEndpoints"] != 0 {
		t.Errorf("%d ListEndpoints calls with endpoints: false", rp.calls["ListEndpoints"])
	}
}
