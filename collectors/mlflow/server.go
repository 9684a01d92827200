package mlflow

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/collectors/trainrun"
)

// server reads a tracking server through the REST API (/api/2.0/mlflow/…),
// as MLflow's protos/service.proto describes it. Every list is paged with
// page_token until the server returns no next_page_token. A request that
// gets 429 or a 5xx (or no response) is retried with exponential backoff,
// honouring Retry-After; what still fails is a counted skip.
type server struct {
	base   string
	cfg    SourceConfig
	client *http.Client
	log    *slog.Logger
	// auth is set by runs from cfg.Auth: the Authorization header value.
	auth string
	// backoff is the first retry's wait; it doubles each time.
	backoff time.Duration
}

// Request limits.
const (
	maxAttempts      = 5
	maxRetryAfter    = 30 * time.Second
	maxJSONBytes     = 64 << 20
	runsPageSize     = 1000
	historyPageSize  = 25000
	maxHistoryPoints = 1_000_000 // per metric
	maxArtifactList  = 10_000    // entries listed per run
)

func newServer(cfg Config, set collectors.Settings) *server {
	return &server{base: cfg.Location, cfg: cfg.SourceConfig, client: set.HTTPClient, log: set.Logger, backoff: 250 * time.Millisecond}
}

// authHeader resolves the configured credentials.
func (s *server) authHeader() (string, error) {
	a := s.cfg.Auth
	switch {
	case a == nil:
		return "", nil
	case !a.Token.IsZero():
		tok, err := a.Token.Resolve()
		if err != nil {
			return "", fmt.Errorf("auth.token: %w", err)
		}
		return "Bearer " + strings.TrimSpace(tok), nil
	case a.Username != "":
		pw, err := a.Password.Resolve()
		if err != nil {
			return "", fmt.Errorf("auth.password: %w", err)
		}
		req := http.Request{Header: http.Header{}}
		req.SetBasicAuth(a.Username, strings.TrimRight(pw, "\r\n"))
		return req.Header.Get("Authorization"), nil
	}
	return "", nil
}

// statusError is an HTTP answer that is not 2xx.
type statusError struct {
	code int
	msg  string
}

func (e *statusError) Error() string {
	if e.msg != "" {
		return fmt.Sprintf("HTTP %d: %s", e.code, e.msg)
	}
	return fmt.Sprintf("HTTP %d", e.code)
}

func retryable(code int) bool { return code == http.StatusTooManyRequests || code >= 500 }

// do sends one API request, retrying, and returns the body of its 2xx
// answer (at most limit bytes).
func (s *server) do(ctx context.Context, method, p string, q url.Values, body any, limit int64) ([]byte, error) {
	u := s.base + p
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return nil, err
		}
	}
	wait := s.backoff
	var last error
	for attempt := 1; ; attempt++ {
		var rd io.Reader
		if payload != nil {
			rd = bytes.NewReader(payload)
		}
		req, err := http.NewRequestWithContext(ctx, method, u, rd)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "application/json")
		if payload != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if s.auth != "" {
			req.Header.Set("Authorization", s.auth)
		}
		resp, err := s.client.Do(req)
		retryAfter := time.Duration(0)
		if err == nil {
			b, rerr := io.ReadAll(io.LimitReader(resp.Body, limit+1))
			resp.Body.Close()
			switch {
			case resp.StatusCode/100 == 2 && rerr == nil && int64(len(b)) > limit:
				return nil, fmt.Errorf("%s %s: answer larger than %d bytes", method, p, limit)
			case resp.StatusCode/100 == 2 && rerr == nil:
				return b, nil
			case rerr != nil:
				err = rerr
			default:
				err = &statusError{code: resp.StatusCode, msg: apiMessage(b)}
				if !retryable(resp.StatusCode) {
					return nil, fmt.Errorf("%s %s: %w", method, p, err)
				}
				if ra, perr := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); perr == nil && ra >= 0 {
					retryAfter = min(time.Duration(ra)*time.Second, maxRetryAfter)
				}
			}
		}
		if cerr := ctx.Err(); cerr != nil {
			return nil, cerr
		}
		last = err
		if attempt == maxAttempts {
			return nil, fmt.Errorf("%s %s: %d attempts: %w", method, p, attempt, last)
		}
		d := wait
		if retryAfter > 0 || (err != nil && isStatus(err, http.StatusTooManyRequests)) {
			d = max(retryAfter, wait)
		}
		s.log.Debug("mlflow retry", "path", p, "attempt", attempt, "wait", d, "err", err)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		wait *= 2
	}
}

func isStatus(err error, code int) bool {
	var se *statusError
	return errors.As(err, &se) && se.code == code
}

// apiMessage takes MLflow's {"error_code", "message"} from an error body.
func apiMessage(b []byte) string {
	var e struct {
		Code    string `json:"error_code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(b, &e) == nil && (e.Code != "" || e.Message != "") {
		return cut(strings.TrimSpace(e.Code + " " + e.Message))
	}
	return ""
}

// api calls an API method and decodes its JSON answer into out.
func (s *server) api(ctx context.Context, method, p string, q url.Values, body, out any) error {
	b, err := s.do(ctx, method, "/api/2.0/mlflow/"+p, q, body, maxJSONBytes)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: malformed JSON answer: %w", method, p, err)
	}
	return nil
}

// i64 is an int64 field that MLflow writes as a JSON number and standard
// protobuf JSON as a string.
type i64 int64

func (v *i64) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		*v = 0
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil {
			return fmt.Errorf("int64 %s: %w", cut(string(b)), err)
		}
		n = int64(f)
	}
	*v = i64(n)
	return nil
}

// f64 is a double that protobuf JSON may write as "NaN" or "Infinity".
type f64 float64

func (v *f64) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("double %s: %w", cut(string(b)), err)
	}
	*v = f64(f)
	return nil
}

// enum is an enum field written as its name or its number.
type enum string

func (v *enum) UnmarshalJSON(b []byte) error {
	*v = enum(strings.Trim(string(b), `"`))
	return nil
}

type kv struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type apiMetric struct {
	Key       string `json:"key"`
	Value     f64    `json:"value"`
	Timestamp i64    `json:"timestamp"`
	Step      i64    `json:"step"`
}

type apiRun struct {
	Info struct {
		RunID          string `json:"run_id"`
		RunUUID        string `json:"run_uuid"`
		RunName        string `json:"run_name"`
		ExperimentID   string `json:"experiment_id"`
		UserID         string `json:"user_id"`
		Status         enum   `json:"status"`
		StartTime      i64    `json:"start_time"`
		EndTime        i64    `json:"end_time"`
		ArtifactURI    string `json:"artifact_uri"`
		LifecycleStage string `json:"lifecycle_stage"`
	} `json:"info"`
	Data struct {
		Metrics []apiMetric `json:"metrics"`
		Params  []kv        `json:"params"`
		Tags    []kv        `json:"tags"`
	} `json:"data"`
	Inputs struct {
		DatasetInputs []struct {
			Tags    []kv `json:"tags"`
			Dataset struct {
				Name       string `json:"name"`
				Digest     string `json:"digest"`
				SourceType string `json:"source_type"`
				Source     string `json:"source"`
			} `json:"dataset"`
		} `json:"dataset_inputs"`
	} `json:"inputs"`
}

type apiExperiment struct {
	ExperimentID   string `json:"experiment_id"`
	Name           string `json:"name"`
	LifecycleStage string `json:"lifecycle_stage"`
}

func viewType(deleted bool) string {
	if deleted {
		return "ALL"
	}
	return "ACTIVE_ONLY"
}

// experiments lists the experiments to read, sorted by ID.
func (s *server) experiments(ctx context.Context, f filter) ([]apiExperiment, error) {
	var out []apiExperiment
	token := ""
	for page := 1; ; page++ {
		var resp struct {
			Experiments   []apiExperiment `json:"experiments"`
			NextPageToken string          `json:"next_page_token"`
		}
		body := map[string]any{"max_results": 1000, "view_type": viewType(f.deleted)}
		if token != "" {
			body["page_token"] = token
		}
		if err := s.api(ctx, http.MethodPost, "experiments/search", nil, body, &resp); err != nil {
			return nil, fmt.Errorf("list experiments (page %d): %w", page, err)
		}
		for _, e := range resp.Experiments {
			if len(f.experiments) == 0 || slices.Contains(f.experiments, e.ExperimentID) || slices.Contains(f.experiments, e.Name) {
				out = append(out, e)
			}
		}
		if resp.NextPageToken == "" || resp.NextPageToken == token {
			break
		}
		token = resp.NextPageToken
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ExperimentID < out[j].ExperimentID })
	return out, nil
}

// searchFilter is the runs/search filter: the configured one, and the
// user when there is exactly one.
func searchFilter(f filter) string {
	var parts []string
	if strings.TrimSpace(f.expr) != "" {
		parts = append(parts, "("+f.expr+")")
	}
	if len(f.users) == 1 {
		parts = append(parts, "tags.`mlflow.user` = '"+strings.ReplaceAll(f.users[0], "'", "\\'")+"'")
	}
	return strings.Join(parts, " AND ")
}

func (s *server) runs(ctx context.Context, f filter, yield func(*runRecord) error, skip func(collectors.Skipped)) error {
	auth, err := s.authHeader()
	if err != nil {
		return fmt.Errorf("mlflow server credentials: %w", err)
	}
	s.auth = auth
	exps, err := s.experiments(ctx, f)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	for _, exp := range exps {
		token := ""
		for page := 1; ; page++ {
			var resp struct {
				Runs          []apiRun `json:"runs"`
				NextPageToken string   `json:"next_page_token"`
			}
			body := map[string]any{"experiment_ids": []string{exp.ExperimentID}, "max_results": runsPageSize,
				"run_view_type": viewType(f.deleted), "order_by": []string{"attributes.start_time ASC"}}
			if fl := searchFilter(f); fl != "" {
				body["filter"] = fl
			}
			if token != "" {
				body["page_token"] = token
			}
			if err := s.api(ctx, http.MethodPost, "runs/search", nil, body, &resp); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				skip(collectors.Skipped{What: fmt.Sprintf("experiment %s runs page %d", exp.ExperimentID, page), Reason: err.Error()})
				break
			}
			for i := range resp.Runs {
				rec, err := s.record(ctx, &resp.Runs[i], exp, f)
				if err != nil {
					if ctx.Err() != nil {
						return ctx.Err()
					}
					skip(collectors.Skipped{What: "run " + resp.Runs[i].Info.RunID, Reason: err.Error()})
					continue
				}
				if err := yield(rec); err != nil {
					return err
				}
			}
			if resp.NextPageToken == "" || resp.NextPageToken == token {
				break
			}
			token = resp.NextPageToken
		}
	}
	return nil
}

// record turns one searched run into a record: its metric histories,
// datasets and artefacts are fetched here.
func (s *server) record(ctx context.Context, ar *apiRun, exp apiExperiment, f filter) (*runRecord, error) {
	in := ar.Info
	id := in.RunID
	if id == "" {
		id = in.RunUUID
	}
	if !runIDPattern.MatchString(id) {
		return nil, fmt.Errorf("run ID %q is not a run ID", cut(id))
	}
	r := trainrun.Run{
		NativeID: id, URI: s.base + "/#/experiments/" + url.PathEscape(in.ExperimentID) + "/runs/" + id,
		Name: in.RunName, Experiment: exp.Name, ExperimentID: in.ExperimentID, Status: statusOf(string(in.Status)),
		StartTime: msTime(int64(in.StartTime)), EndTime: msTime(int64(in.EndTime)), User: in.UserID,
	}
	if r.Experiment == "" {
		r.Experiment = in.ExperimentID
	}
	r.Params = map[string]string{}
	for _, p := range ar.Data.Params {
		r.Params[p.Key] = p.Value
	}
	tags := map[string]string{}
	for _, t := range ar.Data.Tags {
		tags[t.Key] = t.Value
	}
	applyTags(&r, tags)
	rec := &runRecord{Lifecycle: in.LifecycleStage, ExperimentDeleted: exp.LifecycleStage == "deleted", ArtifactURI: in.ArtifactURI}
	if rec.Lifecycle == "" {
		rec.Lifecycle = "active"
	}
	for _, di := range ar.Inputs.DatasetInputs {
		d := trainrun.Dataset{Name: di.Dataset.Name, Digest: di.Dataset.Digest, Source: di.Dataset.Source, SourceType: di.Dataset.SourceType}
		for _, t := range di.Tags {
			if t.Key == "mlflow.data.context" {
				d.Context = t.Value
			}
		}
		r.Datasets = append(r.Datasets, d)
	}
	// The run's state, from what the search gave: its latest metrics
	// change when anything is logged.
	latest := sha256.New()
	for _, m := range ar.Data.Metrics {
		fmt.Fprintf(latest, "%s %d %d %v\n", m.Key, m.Timestamp, m.Step, float64(m.Value))
	}
	rec.Updated = fmt.Sprintf("%s|%s|%d|%d|%d|%x", r.Status, rec.Lifecycle, in.EndTime, len(r.Params), len(tags), latest.Sum(nil)[:8])
	rec.Run = r
	metrics := ar.Data.Metrics
	fill := func(ctx context.Context) error {
		byKey := map[string][]metricPoint{}
		for _, m := range metrics {
			last := metricPoint{Timestamp: int64(m.Timestamp), Value: float64(m.Value), Step: int64(m.Step)}
			hist, err := s.history(ctx, id, m.Key)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				rec.Problems = append(rec.Problems, "metric "+m.Key+" history ("+err.Error()+")")
				hist = nil
			}
			if len(hist) == 0 {
				hist = []metricPoint{last}
			}
			byKey[m.Key] = hist
		}
		metricsOf(&rec.Run, byKey)
		if err := s.artifacts(ctx, rec); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			rec.Problems = append(rec.Problems, "artifacts ("+err.Error()+")")
		}
		return nil
	}
	// A run collected before in this state is not fetched again unless
	// the collector needs it (its children changed): histories and
	// artefacts are the expensive part.
	if prev, ok := f.seen[trainrun.RunItemID(SourceType, id)]; ok && strings.HasPrefix(prev, rec.Updated+"|") {
		rec.Fill = fill
		return rec, nil
	}
	if err := fill(ctx); err != nil {
		return nil, err
	}
	return rec, nil
}

// history reads a metric's whole history, page by page.
func (s *server) history(ctx context.Context, runID, key string) ([]metricPoint, error) {
	var out []metricPoint
	token := ""
	for {
		q := url.Values{"run_id": {runID}, "metric_key": {key}, "max_results": {strconv.Itoa(historyPageSize)}}
		if token != "" {
			q.Set("page_token", token)
		}
		var resp struct {
			Metrics       []apiMetric `json:"metrics"`
			NextPageToken string      `json:"next_page_token"`
		}
		if err := s.api(ctx, http.MethodGet, "metrics/get-history", q, nil, &resp); err != nil {
			return nil, err
		}
		for _, m := range resp.Metrics {
			out = append(out, metricPoint{Timestamp: int64(m.Timestamp), Value: float64(m.Value), Step: int64(m.Step)})
		}
		if len(out) > maxHistoryPoints {
			return out[:maxHistoryPoints], nil
		}
		if resp.NextPageToken == "" || resp.NextPageToken == token {
			return out, nil
		}
		token = resp.NextPageToken
	}
}

// artifacts lists the run's artefacts (artifacts/list, recursively, paged)
// and downloads those within the caps (/get-artifact), hashing each.
func (s *server) artifacts(ctx context.Context, rec *runRecord) error {
	id := rec.Run.NativeID
	budget := s.cfg.maxRun()
	dirs := []string{""}
	for len(dirs) > 0 && len(rec.Artifacts) < maxArtifactList {
		dir := dirs[0]
		dirs = dirs[1:]
		token := ""
		for {
			q := url.Values{"run_id": {id}}
			if dir != "" {
				q.Set("path", dir)
			}
			if token != "" {
				q.Set("page_token", token)
			}
			var resp struct {
				Files []struct {
					Path     string `json:"path"`
					IsDir    bool   `json:"is_dir"`
					FileSize i64    `json:"file_size"`
				} `json:"files"`
				NextPageToken string `json:"next_page_token"`
			}
			if err := s.api(ctx, http.MethodGet, "artifacts/list", q, nil, &resp); err != nil {
				return err
			}
			for _, f := range resp.Files {
				p := path.Clean(f.Path)
				if p == "." || strings.HasPrefix(p, "../") || p == ".." || path.IsAbs(p) {
					continue // the server gave a path that is not under the run
				}
				if f.IsDir {
					if dir == "" || strings.HasPrefix(p, dir+"/") {
						dirs = append(dirs, p)
					}
					continue
				}
				a := artifactEntry{Path: p, Size: int64(f.FileSize)}
				if s.cfg.artifacts() && a.Size <= s.cfg.maxArtifact() && a.Size <= budget {
					b, err := s.download(ctx, id, p)
					if err != nil {
						if ctx.Err() != nil {
							return ctx.Err()
						}
						rec.Problems = append(rec.Problems, "artifact "+p+" ("+err.Error()+")")
					} else {
						sum := sha256.Sum256(b)
						a.SHA256, a.Stored = hex.EncodeToString(sum[:]), true
						budget -= int64(len(b))
						rec.Files = append(rec.Files, collectors.File{Name: "artifacts/" + p, MediaType: mediaType(p), Open: bytesFile(b)})
					}
				}
				rec.Artifacts = append(rec.Artifacts, a)
			}
			if resp.NextPageToken == "" || resp.NextPageToken == token {
				break
			}
			token = resp.NextPageToken
		}
	}
	return nil
}

// download fetches one artefact, at most max_artifact_bytes of it.
func (s *server) download(ctx context.Context, runID, p string) ([]byte, error) {
	b, err := s.do(ctx, http.MethodGet, "/get-artifact", url.Values{"run_id": {runID}, "path": {p}}, nil, s.cfg.maxArtifact())
	if err != nil {
		return nil, err
	}
	return b, nil
}

func bytesFile(b []byte) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
}

// versions lists registered models and their versions.
func (s *server) versions(ctx context.Context, yield func(*versionRecord) error, skip func(collectors.Skipped)) error {
	var names []string
	token := ""
	for page := 1; ; page++ {
		q := url.Values{"max_results": {"1000"}}
		if token != "" {
			q.Set("page_token", token)
		}
		var resp struct {
			Models []struct {
				Name string `json:"name"`
			} `json:"registered_models"`
			NextPageToken string `json:"next_page_token"`
		}
		if err := s.api(ctx, http.MethodGet, "registered-models/search", q, nil, &resp); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if isStatus(err, http.StatusNotFound) {
				s.log.Info("mlflow server has no model registry", "err", err)
				return nil
			}
			skip(collectors.Skipped{What: fmt.Sprintf("registered models page %d", page), Reason: err.Error()})
			break
		}
		for _, m := range resp.Models {
			names = append(names, m.Name)
		}
		if resp.NextPageToken == "" || resp.NextPageToken == token {
			break
		}
		token = resp.NextPageToken
	}
	for _, name := range names {
		token := ""
		for page := 1; ; page++ {
			q := url.Values{"filter": {"name='" + strings.ReplaceAll(name, "'", "\\'") + "'"}, "max_results": {"1000"}}
			if token != "" {
				q.Set("page_token", token)
			}
			var resp struct {
				Versions []struct {
					Name                 string   `json:"name"`
					Version              string   `json:"version"`
					CreationTimestamp    i64      `json:"creation_timestamp"`
					LastUpdatedTimestamp i64      `json:"last_updated_timestamp"`
					UserID               string   `json:"user_id"`
					CurrentStage         string   `json:"current_stage"`
					Description          string   `json:"description"`
					Source               string   `json:"source"`
					RunID                string   `json:"run_id"`
					Status               enum     `json:"status"`
					Aliases              []string `json:"aliases"`
				} `json:"model_versions"`
				NextPageToken string `json:"next_page_token"`
			}
			if err := s.api(ctx, http.MethodGet, "model-versions/search", q, nil, &resp); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				skip(collectors.Skipped{What: fmt.Sprintf("model %s versions page %d", name, page), Reason: err.Error()})
				break
			}
			for _, v := range resp.Versions {
				rec := &versionRecord{Name: v.Name, Version: v.Version, RunID: v.RunID, Stage: v.CurrentStage,
					Status: string(v.Status), Source: v.Source, Description: v.Description, User: v.UserID,
					Aliases: v.Aliases, Created: msTime(int64(v.CreationTimestamp)), Updated: msTime(int64(v.LastUpdatedTimestamp))}
				if err := yield(rec); err != nil {
					return err
				}
			}
			if resp.NextPageToken == "" || resp.NextPageToken == token {
				break
			}
			token = resp.NextPageToken
		}
	}
	return nil
}
