package mlflow

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver, "sqlite"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/collectors/trainrun"
)

// sqliteStore reads MLflow's SQLite backend (the tables of MLflow's
// SQLAlchemy store, as its migrations leave them: experiments, runs,
// params, tags, metrics, datasets, inputs, input_tags, logged_models,
// registered_models, model_versions, registered_model_aliases). The
// database is opened read-only (mode=ro, query_only) with a busy timeout,
// and read an experiment at a time in short queries, so that a running
// MLflow server keeps writing. Tables that older schemas lack (datasets
// before 2.4, aliases before 2.3, logged models before 3.0) are skipped.
//
// Local artifact URIs are resolved as in a file store, with the
// database's folder as the store.
type sqliteStore struct {
	path string
	cfg  SourceConfig
}

func (s *sqliteStore) open() (*sql.DB, error) {
	if _, err := os.Stat(s.path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("open MLflow database %s: %w", s.path, collectors.ErrSourceMissing)
		}
		return nil, fmt.Errorf("open MLflow database: %w", err)
	}
	u := url.URL{Scheme: "file", OmitHost: true, Path: s.path}
	dsn := u.String() + "?mode=ro&_pragma=query_only(1)&_pragma=busy_timeout(5000)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open MLflow database: %w", err)
	}
	db.SetMaxOpenConns(1)
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type='table' AND name IN ('runs','experiments')`).Scan(&n); err != nil {
		db.Close()
		return nil, fmt.Errorf("read MLflow database %s: %w", s.path, err)
	}
	if n != 2 {
		db.Close()
		return nil, fmt.Errorf("read MLflow database %s: no runs and experiments tables; not an MLflow tracking database", s.path)
	}
	return db, nil
}

func hasTable(ctx context.Context, db *sql.DB, name string) bool {
	var n int
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type='table' AND name=?`, name).Scan(&n)
	return err == nil && n == 1
}

func (s *sqliteStore) runs(ctx context.Context, f filter, yield func(*runRecord) error, skip func(collectors.Skipped)) error {
	db, err := s.open()
	if err != nil {
		return err
	}
	defer db.Close()
	type exp struct {
		id        int64
		name, lcs string
	}
	var exps []exp
	rows, err := db.QueryContext(ctx, `SELECT experiment_id, name, COALESCE(lifecycle_stage, 'active') FROM experiments ORDER BY experiment_id`)
	if err != nil {
		return fmt.Errorf("read experiments: %w", err)
	}
	for rows.Next() {
		var e exp
		if err := rows.Scan(&e.id, &e.name, &e.lcs); err != nil {
			rows.Close()
			return fmt.Errorf("read experiments: %w", err)
		}
		exps = append(exps, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read experiments: %w", err)
	}
	tables := map[string]bool{}
	for _, t := range []string{"datasets", "inputs", "input_tags", "logged_models"} {
		tables[t] = hasTable(ctx, db, t)
	}
	root := filepath.Dir(s.path)
	files := &fileStore{root: root, cfg: s.cfg}
	files.resolveRoots()
	for _, e := range exps {
		if err := ctx.Err(); err != nil {
			return err
		}
		if e.lcs == "deleted" && !f.deleted {
			continue
		}
		recs, err := s.experiment(ctx, db, e.id, e.name, e.lcs == "deleted", tables)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			skip(collectors.Skipped{What: "experiment " + strconv.FormatInt(e.id, 10), Reason: err.Error()})
			continue
		}
		for _, rec := range recs {
			files.artifacts(rec, filepath.Join(root, rec.Run.ExperimentID, rec.Run.NativeID))
			if err := yield(rec); err != nil {
				return err
			}
		}
	}
	return nil
}

// experiment reads every run of one experiment with its params, tags,
// metrics, datasets and logged models: one query per table.
func (s *sqliteStore) experiment(ctx context.Context, db *sql.DB, id int64, name string, deleted bool, tables map[string]bool) ([]*runRecord, error) {
	eid := strconv.FormatInt(id, 10)
	rows, err := db.QueryContext(ctx, `SELECT run_uuid, COALESCE(name, ''), COALESCE(user_id, ''), COALESCE(status, ''),
		COALESCE(start_time, 0), COALESCE(end_time, 0), COALESCE(lifecycle_stage, 'active'), COALESCE(artifact_uri, '')
		FROM runs WHERE experiment_id = ? ORDER BY start_time, run_uuid`, id)
	if err != nil {
		return nil, fmt.Errorf("read runs: %w", err)
	}
	var recs []*runRecord
	byID := map[string]*runRecord{}
	ends := map[string]int64{}
	for rows.Next() {
		var rid, rname, user, status, lcs, art string
		var start, end int64
		if err := rows.Scan(&rid, &rname, &user, &status, &start, &end, &lcs, &art); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read runs: %w", err)
		}
		if !runIDPattern.MatchString(rid) {
			continue
		}
		rec := &runRecord{Lifecycle: lcs, ExperimentDeleted: deleted, ArtifactURI: art, Run: trainrun.Run{
			NativeID: rid, URI: "sqlite://" + filepath.ToSlash(s.path) + "#" + eid + "/" + rid, Name: rname,
			Experiment: name, ExperimentID: eid, Status: statusOf(status), StartTime: msTime(start), EndTime: msTime(end), User: user,
		}}
		ends[rid] = end
		recs = append(recs, rec)
		byID[rid] = rec
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read runs: %w", err)
	}
	if len(recs) == 0 {
		return nil, nil
	}
	params, tags := map[string]map[string]string{}, map[string]map[string]string{}
	for _, t := range []struct {
		table string
		into  map[string]map[string]string
	}{{"params", params}, {"tags", tags}} {
		err := query(ctx, db, `SELECT x.run_uuid, x.key, COALESCE(x.value, '') FROM `+t.table+` x JOIN runs r ON r.run_uuid = x.run_uuid WHERE r.experiment_id = ?`,
			[]any{id}, func(sc func(...any) error) error {
				var rid, k, v string
				if err := sc(&rid, &k, &v); err != nil {
					return err
				}
				if t.into[rid] == nil {
					t.into[rid] = map[string]string{}
				}
				t.into[rid][k] = v
				return nil
			})
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", t.table, err)
		}
	}
	metrics := map[string]map[string][]metricPoint{}
	err = query(ctx, db, `SELECT m.run_uuid, m.key, m.value, m.timestamp, m.step, m.is_nan FROM metrics m JOIN runs r ON r.run_uuid = m.run_uuid WHERE r.experiment_id = ?`,
		[]any{id}, func(sc func(...any) error) error {
			var rid, k string
			var v float64
			var ts, step int64
			var isNaN bool
			if err := sc(&rid, &k, &v, &ts, &step, &isNaN); err != nil {
				return err
			}
			if isNaN {
				v = nan()
			}
			if metrics[rid] == nil {
				metrics[rid] = map[string][]metricPoint{}
			}
			metrics[rid][k] = append(metrics[rid][k], metricPoint{Timestamp: ts, Value: v, Step: step})
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("read metrics: %w", err)
	}
	if tables["datasets"] && tables["inputs"] {
		ctxTag := `''`
		if tables["input_tags"] {
			ctxTag = `COALESCE((SELECT t.value FROM input_tags t WHERE t.input_uuid = i.input_uuid AND t.name = 'mlflow.data.context'), '')`
		}
		err = query(ctx, db, `SELECT i.destination_id, d.name, d.digest, d.dataset_source_type, d.dataset_source, `+ctxTag+`
			FROM inputs i JOIN datasets d ON i.source_type = 'DATASET' AND i.source_id = d.dataset_uuid
			WHERE i.destination_type = 'RUN' AND d.experiment_id = ? ORDER BY i.destination_id, d.name`,
			[]any{id}, func(sc func(...any) error) error {
				var rid string
				var d trainrun.Dataset
				if err := sc(&rid, &d.Name, &d.Digest, &d.SourceType, &d.Source, &d.Context); err != nil {
					return err
				}
				if rec := byID[rid]; rec != nil {
					rec.Run.Datasets = append(rec.Run.Datasets, d)
				}
				return nil
			})
		if err != nil {
			return nil, fmt.Errorf("read datasets: %w", err)
		}
	}
	if tables["logged_models"] {
		err = query(ctx, db, `SELECT model_id, name, COALESCE(source_run_id, '') FROM logged_models WHERE experiment_id = ? ORDER BY model_id`,
			[]any{id}, func(sc func(...any) error) error {
				var mid, mname, rid string
				if err := sc(&mid, &mname, &rid); err != nil {
					return err
				}
				if rec := byID[rid]; rec != nil {
					rec.Run.Models = append(rec.Run.Models, trainrun.Model{Name: mname, ID: mid, Path: "models/" + mid, AttachedBy: "source_run_id"})
				}
				return nil
			})
		if err != nil {
			return nil, fmt.Errorf("read logged models: %w", err)
		}
	}
	for _, rec := range recs {
		rid := rec.Run.NativeID
		rec.Run.Params = params[rid]
		applyTags(&rec.Run, tags[rid])
		metricsOf(&rec.Run, metrics[rid])
		rec.Updated = fmt.Sprintf("%s|%s|%d|%d|%d|%d", rec.Run.Status, rec.Lifecycle, ends[rid], len(params[rid]), len(tags[rid]), pointCount(rec.Run.Metrics))
	}
	return recs, nil
}

// query runs q and calls row for each row with its Scan.
func query(ctx context.Context, db *sql.DB, q string, args []any, row func(scan func(...any) error) error) error {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (s *sqliteStore) versions(ctx context.Context, yield func(*versionRecord) error, skip func(collectors.Skipped)) error {
	db, err := s.open()
	if err != nil {
		return err
	}
	defer db.Close()
	if !hasTable(ctx, db, "model_versions") {
		return nil
	}
	aliases := map[string][]string{}
	if hasTable(ctx, db, "registered_model_aliases") {
		err := query(ctx, db, `SELECT name, version, alias FROM registered_model_aliases ORDER BY alias`, nil, func(sc func(...any) error) error {
			var name, alias string
			var v int64
			if err := sc(&name, &v, &alias); err != nil {
				return err
			}
			k := name + "/" + strconv.FormatInt(v, 10)
			aliases[k] = append(aliases[k], alias)
			return nil
		})
		if err != nil {
			skip(collectors.Skipped{What: "model aliases", Reason: err.Error()})
		}
	}
	var recs []*versionRecord
	err = query(ctx, db, `SELECT name, version, COALESCE(creation_time, 0), COALESCE(last_updated_time, 0), COALESCE(description, ''),
		COALESCE(user_id, ''), COALESCE(current_stage, ''), COALESCE(source, ''), COALESCE(run_id, ''), COALESCE(status, '')
		FROM model_versions ORDER BY name, version`, nil, func(sc func(...any) error) error {
		var v versionRecord
		var num, created, updated int64
		if err := sc(&v.Name, &num, &created, &updated, &v.Description, &v.User, &v.Stage, &v.Source, &v.RunID, &v.Status); err != nil {
			return err
		}
		v.Version = strconv.FormatInt(num, 10)
		v.Created, v.Updated = msTime(created), msTime(updated)
		v.Aliases = aliases[v.Name+"/"+v.Version]
		recs = append(recs, &v)
		return nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		skip(collectors.Skipped{What: "model versions", Reason: err.Error()})
		return nil
	}
	for _, v := range recs {
		if err := yield(v); err != nil {
			return err
		}
	}
	return nil
}
