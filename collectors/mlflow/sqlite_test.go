package mlflow_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/collectors/collectortest"
	"github.com/ksbfolio/ksbfolio/collectors/mlflow"
	"github.com/ksbfolio/ksbfolio/evidence"
)

// storeSpec is one set of runs, written both as a file store and as a
// SQLite store, so that the two readers can be compared.
type specRun struct {
	exp, id, name, status, lifecycle string
	start, end                       int64
	params, tags                     map[string]string
	metrics                          map[string][][3]float64 // key → [ts, value, step]
}

var statusNum = map[string]int{"RUNNING": 1, "SCHEDULED": 2, "FINISHED": 3, "FAILED": 4, "KILLED": 5}

func specRuns() []specRun {
	var out []specRun
	for i := 1; i <= 12; i++ {
		exp := "1"
		if i > 8 {
			exp = "2"
		}
		r := specRun{exp: exp, id: runID(i), name: fmt.Sprintf("trial-%d", i), status: []string{"FINISHED", "FAILED", "FINISHED", "KILLED"}[i%4],
			start: t0 + int64(i)*60000, end: t0 + int64(i)*60000 + 30000,
			params:  map[string]string{"max_depth": fmt.Sprint(2 + i%5), "lr": fmt.Sprint(0.1 / float64(i))},
			tags:    map[string]string{"mlflow.user": "jdoe", "mlflow.runName": fmt.Sprintf("trial-%d", i), "team": "fraud"},
			metrics: map[string][][3]float64{}}
		if i > 1 && exp == "1" {
			r.tags["mlflow.parentRunId"] = runID(1)
		}
		if i == 3 {
			r.tags["mlflow.source.git.commit"] = "5225820ce944c3be84cf07ac86b900c4b124d776"
			r.tags["ksb"] = "S4"
		}
		if i == 12 {
			r.lifecycle = "deleted"
		}
		for s := 0; s < 20; s++ {
			ts := float64(r.start + int64(s)*1000)
			r.metrics["loss"] = append(r.metrics["loss"], [3]float64{ts, 1 / float64(s+i), float64(s)})
			r.metrics["val_accuracy"] = append(r.metrics["val_accuracy"], [3]float64{ts, 0.5 + float64(s)/50, float64(s)})
		}
		out = append(out, r)
	}
	return out
}

func writeSpecFileStore(t testing.TB, root string, runs []specRun) {
	writeExp(t, root, "1", "churn", "")
	writeExp(t, root, "2", "tuning", "")
	for _, r := range runs {
		metrics := map[string]string{}
		for k, pts := range r.metrics {
			var b strings.Builder
			for _, p := range pts {
				fmt.Fprintf(&b, "%d %v %d\n", int64(p[0]), p[1], int64(p[2]))
			}
			metrics[k] = b.String()
		}
		writeRun(t, root, tRun{Exp: r.exp, ID: r.id, Name: r.name, Status: statusNum[r.status], Start: r.start, End: r.end,
			Lifecycle: r.lifecycle, Params: r.params, Tags: r.tags, Metrics: metrics, ArtifactURI: "mlflow-artifacts:/" + r.exp + "/" + r.id + "/artifacts"})
	}
	write(t, filepath.Join(root, "models", "churn_model", "meta.yaml"), "name: churn_model\ncreation_timestamp: 1755550773361\n")
	write(t, filepath.Join(root, "models", "churn_model", "version-1", "meta.yaml"), fmt.Sprintf(
		"aliases: [champion]\ncreation_timestamp: 1755550773632\ncurrent_stage: Production\ndescription: null\nlast_updated_timestamp: 1755550773632\nname: churn_model\nrun_id: %s\nsource: models:/m-1\nstatus: READY\nuser_id: null\nversion: 1\n", runID(3)))
}

func writeSpecSQLite(t testing.TB, path string, runs []specRun) {
	schema, err := os.ReadFile("testdata/sqlite-schema.sql")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(string(schema))
	exec("BEGIN")
	defer exec("COMMIT")
	exec(`INSERT INTO experiments VALUES (1, 'churn', 'mlflow-artifacts:/1', 'active', 1755536567183, 1755536567183),
		(2, 'tuning', 'mlflow-artifacts:/2', 'active', 1755536567183, 1755536567183)`)
	for _, r := range runs {
		lcs := r.lifecycle
		if lcs == "" {
			lcs = "active"
		}
		exec(`INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status, start_time, end_time,
			source_version, lifecycle_stage, artifact_uri, experiment_id) VALUES (?, ?, 'LOCAL', '', '', 'jdoe', ?, ?, ?, '', ?, ?, ?)`,
			r.id, r.name, r.status, r.start, r.end, lcs, "mlflow-artifacts:/"+r.exp+"/"+r.id+"/artifacts", r.exp)
		for k, v := range r.params {
			exec(`INSERT INTO params VALUES (?, ?, ?)`, k, v, r.id)
		}
		for k, v := range r.tags {
			exec(`INSERT INTO tags VALUES (?, ?, ?)`, k, v, r.id)
		}
		for k, pts := range r.metrics {
			for _, p := range pts {
				exec(`INSERT INTO metrics VALUES (?, ?, ?, ?, ?, 0)`, k, p[1], int64(p[0]), r.id, int64(p[2]))
			}
		}
	}
	exec(`INSERT INTO registered_models VALUES ('churn_model', 1755550773361, 1755550773361, NULL)`)
	exec(`INSERT INTO model_versions (name, version, creation_time, last_updated_time, current_stage, source, run_id, status)
		VALUES ('churn_model', 1, 1755550773632, 1755550773632, 'Production', 'models:/m-1', ?, 'READY')`, runID(3))
	exec(`INSERT INTO registered_model_aliases VALUES ('champion', 1, 'churn_model')`)
}

func newSQLite(t testing.TB, path string) *mlflow.Collector {
	t.Helper()
	c, err := mlflow.New(mlflow.Config{Name: "tracking", Apprentice: "jdoe", SourceConfig: mlflow.SourceConfig{URI: "sqlite:///" + path},
		Kind: "sqlite", Location: path}, collectors.Settings{Name: "tracking", Now: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// comparable drops what names the store (origin, facts.mlflow) and
// round-trips through JSON.
func comparable(t *testing.T, items []evidence.Item) map[string]string {
	out := map[string]string{}
	for _, it := range items {
		it.Origin = evidence.Origin{}
		delete(it.Facts, "mlflow")
		b, err := json.Marshal(it)
		if err != nil {
			t.Fatal(err)
		}
		out[it.ID] = string(b)
	}
	return out
}

// TestSQLiteReadsSameRunsAsFileStore writes one set of runs both ways,
// the SQLite one from MLflow's schema, and compares the items.
func TestSQLiteReadsSameRunsAsFileStore(t *testing.T) {
	dir := t.TempDir()
	runs := specRuns()
	root := filepath.Join(dir, "mlruns")
	writeSpecFileStore(t, root, runs)
	dbPath := filepath.Join(dir, "db", "mlflow.db")
	if err := os.MkdirAll(filepath.Dir(dbPath), 0o755); err != nil {
		t.Fatal(err)
	}
	writeSpecSQLite(t, dbPath, runs)

	fs, err := collectAll(t, newFile(t, root, nil))
	if err != nil {
		t.Fatal(err)
	}
	sq, err := collectAll(t, newSQLite(t, dbPath))
	if err != nil {
		t.Fatal(err)
	}
	a, b := comparable(t, fs.Items()), comparable(t, sq.Items())
	if len(a) != 12 { // 11 runs (one deleted) and one model version
		t.Errorf("file store: %d items, want 12", len(a))
	}
	var ids []string
	for id := range a {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if b[id] != a[id] {
			t.Errorf("item %s differs:\nfile:   %s\nsqlite: %s", id, a[id], b[id])
		}
	}
	if !reflect.DeepEqual(len(a), len(b)) {
		t.Errorf("file store %d items, SQLite %d", len(a), len(b))
	}
	for _, it := range sq.Items() {
		if it.Kind == evidence.KindModelVersion && it.Title != "Model churn_model version 1 (Production) @champion" {
			t.Errorf("version title %q", it.Title)
		}
	}
}

// TestSQLiteReadOnly checks that the database is opened read-only: a
// database whose file and folder cannot be written is read, and nothing
// (no -wal, no -journal) appears beside it.
func TestSQLiteReadOnly(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "mlflow.db")
	writeSpecSQLite(t, dbPath, specRuns()[:3])
	if err := os.Chmod(dbPath, 0o444); err != nil {
		t.Fatal(err)
	}
	collectortest.Check(t, collectortest.Fixture{
		New:      func(t testing.TB) collectors.Collector { return newSQLite(t, dbPath) },
		Dirs:     []string{dir},
		MinItems: 4,
		Declared: true,
	})
	// A running server holding a write transaction does not stop reading.
	if err := os.Chmod(dbPath, 0o644); err != nil {
		t.Fatal(err)
	}
	w, err := sql.Open("sqlite", dbPath+"?_pragma=journal_mode(wal)")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	tx, err := w.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`INSERT INTO params VALUES ('new', 'x', ?)`, runID(1)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s := &collectortest.Sink{}
	if _, err := newSQLite(t, dbPath).Collect(ctx, nil, s); err != nil {
		t.Errorf("collect while a writer holds a transaction: %v", err)
	}
	if err := tx.Commit(); err != nil {
		t.Errorf("the writer could not commit after the collection: %v", err)
	}
}

func TestSQLiteNotMLflow(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "other.db")
	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE x (a)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = newSQLite(t, dbPath).Collect(context.Background(), nil, &collectortest.Sink{})
	if err == nil || !strings.Contains(err.Error(), "not an MLflow tracking database") {
		t.Errorf("collect: %v", err)
	}
	_, err = newSQLite(t, filepath.Join(t.TempDir(), "none.db")).Collect(context.Background(), nil, &collectortest.Sink{})
	if !errorsIs(err, collectors.ErrSourceMissing) {
		t.Errorf("missing database: %v", err)
	}
}
