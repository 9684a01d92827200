package mlflow_test

// No MLflow server can run here (it is a Python program and nothing may be
// installed from PyPI), so these tests run the collector against an
// httptest server that REPLAYS answers built from the shapes documented in
// MLflow's protos/service.proto and REST API reference
// (https://mlflow.org/docs/latest/rest-api.html): Run {info, data, inputs},
// RunInfo with int64 times (as numbers, as MLflow's server writes them, and
// as strings, as standard protobuf JSON does), paged lists with
// next_page_token, and MLflow's {"error_code", "message"} error bodies.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/collectors/collectortest"
	"github.com/ksbfolio/ksbfolio/collectors/mlflow"
	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/internal/sourceconfig"
)

// replay is a tracking server that answers from canned documents.
type replay struct {
	t        testing.TB
	mu       sync.Mutex
	calls    map[string]int // "METHOD path?key" → count
	authWant string
	runs     map[string][]string // experiment → pages of runs (JSON arrays)
	// fail gives, for a call key and its attempt number, a status to
	// answer instead (0: answer normally).
	fail func(key string, attempt int) int
	grow bool
	// clean answers every history well (no malformed JSON).
	clean bool
	// scale multiplies the history values of a run (by run ID).
	scale map[string]float64
}

func runJSON(id, exp, status string, start int64, stringInts bool, extraTags string) string {
	ts := func(v int64) string {
		if stringInts {
			return fmt.Sprintf("%q", fmt.Sprint(v))
		}
		return fmt.Sprint(v)
	}
	return fmt.Sprintf(`{"info": {"run_id": %q, "run_uuid": %q, "run_name": "run-%s", "experiment_id": %q, "user_id": "jdoe",
  "status": %q, "start_time": %s, "end_time": %s, "artifact_uri": "mlflow-artifacts:/%s/%s/artifacts", "lifecycle_stage": "active"},
 "data": {"metrics": [{"key": "loss", "value": 0.25, "timestamp": %s, "step": %s}, {"key": "acc", "value": "NaN", "timestamp": %s, "step": 0}],
  "params": [{"key": "lr", "value": "0.01"}, {"key": "max_depth", "value": "6"}],
  "tags": [{"key": "mlflow.user", "value": "jdoe"}, {"key": "mlflow.runName", "value": "run-%s"},
   {"key": "mlflow.source.git.commit", "value": "5225820ce944c3be84cf07ac86b900c4b124d776"}%s]},
 "inputs": {"dataset_inputs": [{"tags": [{"key": "mlflow.data.context", "value": "training"}],
  "dataset": {"name": "churn", "digest": "7f3a9c1e", "source_type": "s3", "source": "{\"uri\": \"s3://b/churn.csv\"}", "schema": "{}", "profile": "{}"}}]}}`,
		id, id, id, exp, status, ts(start), ts(start+60000), exp, id, ts(start+50000), ts(9), ts(start+50000), id, extraTags)
}

func srvRunID(i int) string { return fmt.Sprintf("%032x", 0x5e0000+i) }

func newReplay(t testing.TB) *replay {
	r := &replay{t: t, calls: map[string]int{}, authWant: "Bearer s3cret-token"}
	start := int64(1755536569475)
	var exp1 []string
	for i := 1; i <= 5; i++ {
		extra := ""
		if i > 1 {
			extra = fmt.Sprintf(`, {"key": "mlflow.parentRunId", "value": %q}`, srvRunID(1))
		}
		if i == 1 {
			extra = `, {"key": "ksb", "value": "S10"}`
		}
		exp1 = append(exp1, runJSON(srvRunID(i), "1", []string{"FINISHED", "FAILED"}[i%2], start+int64(i)*1000, false, extra))
	}
	r.runs = map[string][]string{
		// Three pages of runs in experiment 1.
		"1": {"[" + exp1[0] + "," + exp1[1] + "]", "[" + exp1[2] + "," + exp1[3] + "]", "[" + exp1[4] + "]"},
		// int64 fields as strings.
		"2": {"[" + runJSON(srvRunID(6), "2", "RUNNING", start, true, "") + "]"},
		// Experiment 3's runs cannot be read at all.
		"3": {"[]"},
	}
	return r
}

func (r *replay) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	var in map[string]any
	_ = json.Unmarshal(body, &in)
	q := req.URL.Query()
	key := req.Method + " " + req.URL.Path
	switch req.URL.Path {
	case "/api/2.0/mlflow/runs/search":
		key += fmt.Sprintf("?%v&%v", in["experiment_ids"], in["page_token"])
	case "/api/2.0/mlflow/experiments/search":
		key += fmt.Sprintf("?%v", in["page_token"])
	case "/api/2.0/mlflow/metrics/get-history":
		key += "?" + q.Get("run_id") + "&" + q.Get("metric_key") + "&" + q.Get("page_token")
	case "/api/2.0/mlflow/artifacts/list":
		key += "?" + q.Get("run_id") + "&" + q.Get("path")
	case "/get-artifact":
		key += "?" + q.Get("run_id") + "&" + q.Get("path")
	}
	r.mu.Lock()
	r.calls[key]++
	attempt := r.calls[key]
	grow := r.grow
	r.mu.Unlock()
	if req.Header.Get("Authorization") != r.authWant {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error_code": "UNAUTHENTICATED", "message": "no"}`)
		return
	}
	if r.fail != nil {
		if code := r.fail(key, attempt); code != 0 {
			if code == http.StatusTooManyRequests {
				w.Header().Set("Retry-After", "0")
			}
			w.WriteHeader(code)
			fmt.Fprint(w, `{"error_code": "TEMPORARILY_UNAVAILABLE", "message": "try later"}`)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	switch req.URL.Path {
	case "/api/2.0/mlflow/experiments/search":
		if in["page_token"] == nil {
			fmt.Fprint(w, `{"experiments": [{"experiment_id": "1", "name": "churn", "lifecycle_stage": "active", "creation_time": 1755536567183},
				{"experiment_id": "2", "name": "tuning", "lifecycle_stage": "active"}], "next_page_token": "ZXhwMg=="}`)
			return
		}
		fmt.Fprint(w, `{"experiments": [{"experiment_id": "3", "name": "broken", "lifecycle_stage": "active"}]}`)
	case "/api/2.0/mlflow/runs/search":
		ids, _ := in["experiment_ids"].([]any)
		if len(ids) != 1 {
			w.WriteHeader(400)
			return
		}
		pages := r.runs[fmt.Sprint(ids[0])]
		if grow && ids[0] == "2" {
			pages = []string{"[" + runJSON(srvRunID(6), "2", "RUNNING", 1755536569475, true, "") + "," +
				runJSON(srvRunID(7), "2", "FINISHED", 1755536999999, false, "") + "]"}
		}
		page := 0
		if tok, ok := in["page_token"].(string); ok {
			fmt.Sscanf(tok, "p%d", &page)
		}
		next := ""
		if page+1 < len(pages) {
			next = fmt.Sprintf("p%d", page+1)
		}
		fmt.Fprintf(w, `{"runs": %s, "next_page_token": %q}`, pages[page], next)
	case "/api/2.0/mlflow/metrics/get-history":
		run, metric := q.Get("run_id"), q.Get("metric_key")
		if run == srvRunID(3) && metric == "loss" && !r.clean {
			fmt.Fprint(w, `{"metrics": [{"key": "loss", "value": 0.5, "timest`) // cut short
			return
		}
		k := 1.0
		if f, ok := r.scale[run]; ok {
			k = f
		}
		if q.Get("page_token") == "" {
			fmt.Fprintf(w, `{"metrics": [{"key": %q, "value": %v, "timestamp": 1755536570000, "step": 0},
				{"key": %q, "value": %v, "timestamp": "1755536571000", "step": "1"}], "next_page_token": "h2"}`, metric, 0.9*k, metric, 0.5*k)
			return
		}
		fmt.Fprintf(w, `{"metrics": [{"key": %q, "value": %v, "timestamp": 1755536572000, "step": 9}]}`, metric, 0.25*k)
	case "/api/2.0/mlflow/artifacts/list":
		if q.Get("run_id") != srvRunID(1) {
			fmt.Fprint(w, `{"root_uri": "mlflow-artifacts:/x"}`)
			return
		}
		switch q.Get("path") {
		case "":
			fmt.Fprint(w, `{"root_uri": "mlflow-artifacts:/1/r1/artifacts", "files": [{"path": "model", "is_dir": true},
				{"path": "notes.txt", "is_dir": false, "file_size": 5}, {"path": "../escape", "is_dir": false, "file_size": 1}]}`)
		case "model":
			fmt.Fprint(w, `{"files": [{"path": "model/MLmodel", "is_dir": false, "file_size": "19"},
				{"path": "model/model.pkl", "is_dir": false, "file_size": 50000000}]}`)
		}
	case "/get-artifact":
		switch q.Get("path") {
		case "notes.txt":
			fmt.Fprint(w, "hello")
		case "model/MLmodel":
			fmt.Fprint(w, "flavors: {sklearn: {}}")
		default:
			w.WriteHeader(404)
		}
	case "/api/2.0/mlflow/registered-models/search":
		fmt.Fprint(w, `{"registered_models": [{"name": "churn_model", "creation_timestamp": 1755550773361}]}`)
	case "/api/2.0/mlflow/model-versions/search":
		fmt.Fprintf(w, `{"model_versions": [
			{"name": "churn_model", "version": "1", "creation_timestamp": 1755550773632, "last_updated_timestamp": "1755550773632",
			 "current_stage": "Production", "source": "models:/m-1", "run_id": %q, "status": "READY", "aliases": []},
			{"name": "churn_model", "version": "2", "creation_timestamp": 1755550779999, "current_stage": "None",
			 "run_id": %q, "status": "READY", "aliases": ["champion"]}]}`, srvRunID(1), srvRunID(2))
	default:
		w.WriteHeader(404)
		fmt.Fprint(w, `{"error_code": "ENDPOINT_NOT_FOUND"}`)
	}
}

func newServerCollector(t testing.TB, srv *httptest.Server, auth *sourceconfig.Auth) *mlflow.Collector {
	t.Helper()
	c, err := mlflow.New(mlflow.Config{Name: "tracking", Apprentice: "jdoe",
		SourceConfig: mlflow.SourceConfig{URI: srv.URL, Auth: auth, Users: []string{"jdoe"}},
		Kind:         "server", Location: srv.URL},
		collectors.Settings{Name: "tracking", HTTPClient: srv.Client(), Now: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatal(err)
	}
	mlflow.SetBackoffForTest(c, time.Millisecond)
	return c
}

func bearer(t testing.TB) *sourceconfig.Auth {
	t.Setenv("KSBFOLIO_TEST_MLFLOW_TOKEN", "s3cret-token")
	tok, err := sourceconfig.ParseSecret("${env:KSBFOLIO_TEST_MLFLOW_TOKEN}", "")
	if err != nil {
		t.Fatal(err)
	}
	return &sourceconfig.Auth{Token: tok}
}

func TestServerReplay(t *testing.T) {
	r := newReplay(t)
	r.fail = func(key string, attempt int) int {
		switch {
		case strings.HasPrefix(key, "POST /api/2.0/mlflow/experiments/search") && attempt == 1:
			return http.StatusTooManyRequests
		case key == "POST /api/2.0/mlflow/runs/search?[1]&p1" && attempt == 1:
			return http.StatusInternalServerError // the second page, once
		case strings.HasPrefix(key, "POST /api/2.0/mlflow/runs/search?[3]"):
			return http.StatusBadGateway // always
		}
		return 0
	}
	srv := httptest.NewServer(r)
	defer srv.Close()
	s := &collectortest.Sink{}
	_, err := newServerCollector(t, srv, bearer(t)).Collect(context.Background(), nil, s)
	for _, msg := range s.Invalid() {
		t.Errorf("invalid: %s", msg)
	}
	var pe *collectors.PartialError
	if !errorsAs(err, &pe) || pe.Failed != 2 {
		t.Fatalf("Collect: %v; want 2 counted skips (experiment 3, run 3's loss history)", err)
	}
	skips := fmt.Sprint(s.Skips())
	if !strings.Contains(skips, "experiment 3 runs page 1") || !strings.Contains(skips, "502") ||
		!strings.Contains(skips, "loss history") || !strings.Contains(skips, "malformed JSON") {
		t.Errorf("skips %s", skips)
	}
	runs := byKind(s, evidence.KindTrainingRun)
	ids := map[string]int{}
	for _, it := range runs {
		ids[it.Origin.NativeID]++
	}
	if len(runs) != 6 || len(ids) != 6 {
		t.Fatalf("%d runs (%d distinct), want every run of experiments 1 and 2 once: %v", len(runs), len(ids), ids)
	}
	if n := r.calls["POST /api/2.0/mlflow/runs/search?[1]&p1"]; n != 2 {
		t.Errorf("page 2 asked %d times, want 2 (a 500, then success)", n)
	}
	if n := r.calls["POST /api/2.0/mlflow/runs/search?[3]&<nil>"]; n != 5 {
		t.Errorf("the failing page asked %d times, want 5 attempts", n)
	}
	var r1, r3, r6 evidence.Item
	for _, it := range runs {
		switch it.Origin.NativeID {
		case srvRunID(1):
			r1 = it
		case srvRunID(3):
			r3 = it
		case srvRunID(6):
			r6 = it
		}
	}
	loss := r1.Facts["metrics"].(map[string]any)["loss"].(map[string]any)
	if loss["points"] != 3.0 || loss["best"] != 0.25 || loss["final_step"] != 9.0 {
		t.Errorf("run 1 loss history (two pages) %v", loss)
	}
	if m, _ := r3.Facts["metrics"].(map[string]any)["loss"].(map[string]any); m["points"] != 1.0 || m["final"] != 0.25 {
		t.Errorf("run 3 loss: history failed, want the latest value kept: %v", r3.Facts["metrics"])
	}
	if r6.Facts["started_at"] != "2025-08-18T17:02:49.475Z" || r6.Facts["status"] != "running" {
		t.Errorf("int64 as strings: %v %v", r6.Facts["started_at"], r6.Facts["status"])
	}
	if ds := r1.Facts["datasets"].([]any)[0].(map[string]any); ds["digest"] != "7f3a9c1e" || ds["context"] != "training" {
		t.Errorf("datasets %v", ds)
	}
	if !r1.Facts["is_parent"].(bool) || len(r1.Facts["child_run_ids"].([]any)) != 4 {
		t.Errorf("parent across pages: %v", r1.Facts["child_run_ids"])
	}
	if len(r1.Tags) != 1 || r1.Tags[0].KSB != "S10" {
		t.Errorf("declared tags %v", r1.Tags)
	}
	// Artefacts: listed recursively, the small ones downloaded and hashed,
	// the 50 MB pickle listed only, the escaping path ignored.
	arts := r1.Facts["mlflow"].(map[string]any)["artifacts"].([]any)
	if len(arts) != 3 {
		t.Fatalf("artifacts %v", arts)
	}
	if b, ok := s.File(r1.ID, "artifacts/model/MLmodel"); !ok || string(b) != "flavors: {sklearn: {}}" {
		t.Errorf("MLmodel %q %v", b, ok)
	}
	for _, a := range arts {
		a := a.(map[string]any)
		if a["path"] == "model/model.pkl" && (a["stored"] != nil || a["size"] != 5e7) {
			t.Errorf("over-cap artefact %v", a)
		}
		if a["path"] == "notes.txt" && a["sha256"] != "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824" {
			t.Errorf("notes.txt hash %v", a["sha256"])
		}
	}
	if r.calls["GET /get-artifact?"+srvRunID(1)+"&model/model.pkl"] != 0 {
		t.Error("an artefact over the cap was downloaded")
	}
	versions := byKind(s, evidence.KindModelVersion)
	if len(versions) != 2 {
		t.Fatalf("%d versions", len(versions))
	}
	for _, v := range versions {
		want := evidence.NewID("mlflow", v.Facts["run_id"].(string))
		if len(v.Links) != 1 || v.Links[0].Item != want || v.Links[0].Rel != "from_run" {
			t.Errorf("version %s links %v", v.Title, v.Links)
		}
	}
	if versions[0].Facts["stage"] != "Production" || versions[1].Title != "Model churn_model version 2 @champion" {
		t.Errorf("versions %q %v", versions[1].Title, versions[0].Facts)
	}
}

func TestServerAuth(t *testing.T) {
	r := newReplay(t)
	r.runs = map[string][]string{"1": {"[]"}, "2": {"[]"}, "3": {"[]"}}
	srv := httptest.NewServer(r)
	defer srv.Close()
	// Basic auth.
	t.Setenv("KSBFOLIO_TEST_MLFLOW_PW", "pw\n")
	pw, err := sourceconfig.ParseSecret("${env:KSBFOLIO_TEST_MLFLOW_PW}", "")
	if err != nil {
		t.Fatal(err)
	}
	r.authWant = "Basic amRvZTpwdw==" // jdoe:pw
	if _, err := newServerCollector(t, srv, &sourceconfig.Auth{Username: "jdoe", Password: pw}).Collect(context.Background(), nil, &collectortest.Sink{}); err != nil {
		t.Errorf("basic auth: %v", err)
	}
	// No auth against a server that wants it: a clear error, no retries.
	_, err = newServerCollector(t, srv, nil).Collect(context.Background(), nil, &collectortest.Sink{})
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "UNAUTHENTICATED") {
		t.Errorf("no auth: %v", err)
	}
	if strings.Contains(fmt.Sprint(err), "pw") {
		t.Errorf("error shows the password: %v", err)
	}
}

func TestConformanceServer(t *testing.T) {
	r := newReplay(t)
	r.runs["3"] = []string{"[]"}
	r.clean = true
	srv := httptest.NewServer(r)
	defer srv.Close()
	auth := bearer(t)
	collectortest.Check(t, collectortest.Fixture{
		New:      func(t testing.TB) collectors.Collector { return newServerCollector(t, srv, auth) },
		Dirs:     []string{t.TempDir()},
		Grow:     func(testing.TB) { r.mu.Lock(); r.grow = true; r.mu.Unlock() },
		MinItems: 8,
		Declared: true,
	})
}

// TestServerIncremental checks that a collection from the cursor fetches
// no histories or artefacts of unchanged runs, and retries the run whose
// history could not be read.
func TestServerIncremental(t *testing.T) {
	r := newReplay(t)
	r.runs["3"] = []string{"[]"}
	srv := httptest.NewServer(r)
	defer srv.Close()
	c := newServerCollector(t, srv, bearer(t))
	fetches := func() (n int) {
		r.mu.Lock()
		defer r.mu.Unlock()
		for k, v := range r.calls {
			if strings.Contains(k, "get-history") || strings.Contains(k, "artifact") {
				n += v
			}
		}
		return n
	}
	s := &collectortest.Sink{}
	cur, err := c.Collect(context.Background(), nil, s)
	if !errorsAs(err, new(*collectors.PartialError)) {
		t.Fatalf("first collection: %v (want run 3's history skipped)", err)
	}
	before := fetches()
	s = &collectortest.Sink{}
	if _, err := c.Collect(context.Background(), cur, s); !errorsAs(err, new(*collectors.PartialError)) {
		t.Fatalf("second collection: %v (want run 3 retried and skipped again)", err)
	}
	ids := s.IDs()
	if len(ids) != 1 || ids[0] != evidence.NewID("mlflow", srvRunID(3)) {
		t.Errorf("from the cursor: emitted %v, want only run 3 (retried)", ids)
	}
	// Run 3: two metrics' histories (one page of loss, two of acc) and
	// one artifacts/list.
	if got := fetches() - before; got != 4 {
		t.Errorf("from the cursor: %d history and artefact requests, want 4 (run 3 only)", got)
	}
}
