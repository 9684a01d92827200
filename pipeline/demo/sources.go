package demo

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/ksbfolio/ksbfolio/pipeline/demo/demorepo"
)

// Planted are the fake secrets and personal data the demo's logs hold;
// none of them may reach the store (the pipeline masks them).
var Planted = []string{
	LeakedKeyID, LeakedKeySecret,
	"Tr0ub4dor-x9-fraud",                       // a database password in a URL
	"ghp_4fRq9ZsLx2VbN7tKcW1mY8pH3dJ6gA0eQuTz", // a GitHub token
	"maria.lopez@gmail.com",                    // a customer's e-mail address
	"7700 900123",                              // a customer's phone number (+44 …)
	"203.0.113.45",                             // a client IP address
}

// sampleData writes, under dir, the other sources of the demo: an MLflow
// file store whose runs name commits of the repository, TensorBoard event
// files, deployment and serving logs, saved Prometheus results and a
// Weights & Biases offline run. Everything derives from a fixed seed and
// from o.End, so the same Options give the same bytes.
func sampleData(ctx context.Context, dir, repo string, o Options) (runIDs []string, err error) {
	out, err := demorepo.Git(ctx, repo, "log", "--reverse", "--format=%H %ct", "--author="+Apprentice.Email, "main")
	if err != nil {
		return nil, fmt.Errorf("list the apprentice's commits: %w", err)
	}
	var commits []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if sha, _, ok := strings.Cut(line, " "); ok {
			commits = append(commits, sha)
		}
	}
	if len(commits) == 0 {
		return nil, fmt.Errorf("the demo repository has no commits by the apprentice")
	}
	rng := rand.New(rand.NewPCG(1398, 12))
	runIDs, err = writeMLflow(filepath.Join(dir, "mlruns"), commits, rng, o.End)
	if err != nil {
		return nil, fmt.Errorf("write the MLflow store: %w", err)
	}
	if err := writeTensorBoard(filepath.Join(dir, "tb_logs"), rng, o.End); err != nil {
		return nil, fmt.Errorf("write the TensorBoard logs: %w", err)
	}
	if err := writeLogs(filepath.Join(dir, "logs"), runIDs, commits, rng, o.End); err != nil {
		return nil, fmt.Errorf("write the logs: %w", err)
	}
	if err := writePrometheus(filepath.Join(dir, "monitoring"), rng, o.End); err != nil {
		return nil, fmt.Errorf("write the Prometheus results: %w", err)
	}
	if err := writeWandb(filepath.Join(dir, "notebooks", "wandb"), commits[len(commits)*4/5], rng, o.End); err != nil {
		return nil, fmt.Errorf("write the W&B run: %w", err)
	}
	return runIDs, nil
}

// files writes name → content under dir, creating folders.
func files(dir string, m map[string]string) error {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := filepath.Join(dir, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(m[n]), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func hexID(rng *rand.Rand) string {
	const hexd = "0123456789abcdef"
	b := make([]byte, 32)
	for i := range b {
		b[i] = hexd[rng.IntN(16)]
	}
	return string(b)
}

func ms(t time.Time) int64 { return t.UnixMilli() }

// mlRun is one run of the demo MLflow store.
type mlRun struct {
	name, commit, parent, status, ksb string
	start                             time.Time
	minutes                           int
	params                            map[string]string
	quality                           float64 // the run's final val_auc
	epochs                            int
}

func writeMLflow(root string, commits []string, rng *rand.Rand, end time.Time) ([]string, error) {
	pick := func(frac float64) string { return commits[int(frac*float64(len(commits)-1))] }
	day := func(daysBefore int) time.Time {
		return end.AddDate(0, 0, -daysBefore).Truncate(24 * time.Hour).Add(10 * time.Hour)
	}
	runs := []mlRun{
		{name: "baseline-logreg", commit: pick(0.35), status: "FINISHED", start: day(300), minutes: 4, epochs: 1, quality: 0.812,
			params: map[string]string{"model": "logistic_regression", "C": "1.0", "class_weight": "balanced", "data_version": "2025-12-01"}},
		{name: "xgb-first-try", commit: pick(0.45), status: "FAILED", start: day(260), minutes: 2, epochs: 3, quality: 0.5,
			params: map[string]string{"model": "xgboost", "max_depth": "12", "learning_rate": "0.3", "data_version": "2025-12-01"}},
		{name: "xgb-baseline", commit: pick(0.5), status: "FINISHED", start: day(255), minutes: 11, epochs: 40, quality: 0.873,
			params: map[string]string{"model": "xgboost", "max_depth": "6", "learning_rate": "0.1", "data_version": "2026-02-01"}},
		{name: "xgb-grid-search", commit: pick(0.7), status: "FINISHED", start: day(150), minutes: 95, epochs: 0, quality: 0.901, ksb: "S3, K4",
			params: map[string]string{"model": "xgboost", "search": "grid", "cv_folds": "5", "data_version": "2026-05-01"}},
	}
	depths, rates := []int{4, 6, 8}, []string{"0.05", "0.1"}
	for i, d := range depths {
		for j, lr := range rates {
			q := 0.86 + 0.012*float64(i) + 0.01*float64(j) - 0.008*float64(i*i*j)
			runs = append(runs, mlRun{name: fmt.Sprintf("trial-depth%d-lr%s", d, lr), commit: pick(0.7), parent: "xgb-grid-search", status: "FINISHED",
				start: day(150).Add(time.Duration(i*len(rates)+j) * 15 * time.Minute), minutes: 14, epochs: 60, quality: q,
				params: map[string]string{"model": "xgboost", "max_depth": fmt.Sprint(d), "learning_rate": lr, "data_version": "2026-05-01"}})
		}
	}
	runs = append(runs, mlRun{name: "xgb-release-candidate", commit: pick(0.9), status: "FINISHED", start: day(40), minutes: 18, epochs: 80, quality: 0.904, ksb: "S10",
		params: map[string]string{"model": "xgboost", "max_depth": "6", "learning_rate": "0.05", "data_version": "2026-09-01"}})

	const expID = "1"
	m := map[string]string{
		"0/meta.yaml": "artifact_location: file:///home/jdoe/fraud-model/mlruns/0\nexperiment_id: '0'\nlifecycle_stage: active\nname: Default\n",
		expID + "/meta.yaml": fmt.Sprintf("artifact_location: file:///home/jdoe/fraud-model/mlruns/%s\ncreation_time: %d\nexperiment_id: '%s'\nlast_update_time: %d\nlifecycle_stage: active\nname: fraud-detection\n",
			expID, ms(day(310)), expID, ms(day(40))),
	}
	ids := map[string]string{}
	var order []string
	for _, r := range runs {
		ids[r.name] = hexID(rng)
		order = append(order, ids[r.name])
	}
	for _, r := range runs {
		id := ids[r.name]
		base := expID + "/" + id + "/"
		status := map[string]int{"RUNNING": 1, "FINISHED": 3, "FAILED": 4}[r.status]
		endT := r.start.Add(time.Duration(r.minutes) * time.Minute)
		m[base+"meta.yaml"] = fmt.Sprintf("artifact_uri: file:///home/jdoe/fraud-model/mlruns/%s/%s/artifacts\nend_time: %d\nentry_point_name: ''\nexperiment_id: '%s'\nlifecycle_stage: active\nrun_id: %s\nrun_name: %s\nrun_uuid: %s\nsource_name: ''\nsource_type: 4\nsource_version: ''\nstart_time: %d\nstatus: %d\ntags: []\nuser_id: jdoe\n",
			expID, id, ms(endT), expID, id, r.name, id, ms(r.start), status)
		for k, v := range r.params {
			m[base+"params/"+k] = v
		}
		tags := map[string]string{
			"mlflow.runName": r.name, "mlflow.user": "jdoe", "mlflow.source.type": "LOCAL",
			"mlflow.source.name": "train.py", "mlflow.source.git.commit": r.commit,
		}
		if r.parent != "" {
			tags["mlflow.parentRunId"] = ids[r.parent]
		}
		if r.ksb != "" {
			tags["ksb"] = r.ksb
		}
		if r.status == "FAILED" {
			tags["failure"] = "OOM: max_depth 12 does not fit the 16 GB training node"
		}
		for k, v := range tags {
			m[base+"tags/"+k] = v
		}
		// Metric histories: a learning curve per epoch, then held-out metrics.
		var loss, val, auc strings.Builder
		for e := 0; e < r.epochs; e++ {
			t := ms(r.start.Add(time.Duration(e+1) * time.Duration(r.minutes) * time.Minute / time.Duration(r.epochs+1)))
			frac := float64(e+1) / float64(r.epochs)
			l := 0.15 + 0.5*math.Exp(-4*frac) + 0.004*rng.Float64()
			fmt.Fprintf(&loss, "%d %.6f %d\n", t, l, e)
			fmt.Fprintf(&val, "%d %.6f %d\n", t, l+0.02+0.03*frac*frac+0.004*rng.Float64(), e)
			fmt.Fprintf(&auc, "%d %.6f %d\n", t, r.quality-0.2*math.Exp(-5*frac)+0.002*rng.Float64(), e)
		}
		if r.epochs > 1 {
			m[base+"metrics/train_loss"] = loss.String()
			m[base+"metrics/val_loss"] = val.String()
			m[base+"metrics/val_auc"] = auc.String()
		}
		if r.status == "FINISHED" {
			m[base+"metrics/test_auc"] = fmt.Sprintf("%d %.6f 0\n", ms(endT), r.quality-0.004)
			m[base+"metrics/test_precision_at_1pct_fpr"] = fmt.Sprintf("%d %.6f 0\n", ms(endT), r.quality-0.21)
		}
		m[base+"artifacts/feature_importance.csv"] = "feature,importance\namount_zscore,0.31\nmerchant_risk,0.22\nhour_of_day,0.12\ndevice_age_days,0.09\n"
	}
	return order, files(root, m)
}

// TensorBoard: TFRecord framing (length, masked CRC32C of the length, data,
// masked CRC32C of the data) around tensorflow.Event protobufs.

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func maskedCRC(b []byte) uint32 {
	c := crc32.Checksum(b, castagnoli)
	return ((c >> 15) | (c << 17)) + 0xa282ead8
}

func appendRecord(b, data []byte) []byte {
	var hdr [12]byte
	binary.LittleEndian.PutUint64(hdr[:8], uint64(len(data)))
	binary.LittleEndian.PutUint32(hdr[8:], maskedCRC(hdr[:8]))
	b = append(b, hdr[:]...)
	b = append(b, data...)
	return binary.LittleEndian.AppendUint32(b, maskedCRC(data))
}

func pbBytes(b []byte, num protowire.Number, v []byte) []byte {
	return protowire.AppendBytes(protowire.AppendTag(b, num, protowire.BytesType), v)
}

func pbDouble(b []byte, num protowire.Number, x float64) []byte {
	return protowire.AppendFixed64(protowire.AppendTag(b, num, protowire.Fixed64Type), math.Float64bits(x))
}

func pbVarint(b []byte, num protowire.Number, v uint64) []byte {
	return protowire.AppendVarint(protowire.AppendTag(b, num, protowire.VarintType), v)
}

// event is a tensorflow.Event: wall_time 1, step 2, summary 5 (Summary.value 1).
func event(wall time.Time, step int64, values ...[]byte) []byte {
	b := pbDouble(nil, 1, float64(wall.UnixMilli())/1000)
	b = pbVarint(b, 2, uint64(step))
	var sum []byte
	for _, v := range values {
		sum = pbBytes(sum, 1, v)
	}
	return pbBytes(b, 5, sum)
}

// scalar is a Summary.Value with simple_value (tag 1, simple_value 2), as
// PyTorch Lightning writes it.
func scalar(tag string, x float64) []byte {
	b := pbBytes(nil, 1, []byte(tag))
	return protowire.AppendFixed32(protowire.AppendTag(b, 2, protowire.Fixed32Type), math.Float32bits(float32(x)))
}

// hparamsValue is a Summary.Value carrying the hparams plugin's data
// (metadata 9 → plugin_data 1 → plugin_name 1, content 2).
func hparamsValue(tag string, content []byte) []byte {
	pd := pbBytes(pbBytes(nil, 1, []byte("hparams")), 2, content)
	return pbBytes(pbBytes(nil, 1, []byte(tag)), 9, pbBytes(nil, 1, pd))
}

func sessionStart(hp map[string]any, group string, start time.Time) []byte {
	keys := make([]string, 0, len(hp))
	for k := range hp {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var ssi []byte
	for _, k := range keys {
		var val []byte
		switch v := hp[k].(type) {
		case float64:
			val = pbDouble(nil, 2, v)
		case string:
			val = pbBytes(nil, 3, []byte(v))
		}
		ssi = pbBytes(ssi, 1, pbBytes(pbBytes(nil, 1, []byte(k)), 2, val))
	}
	ssi = pbBytes(ssi, 4, []byte(group))
	ssi = pbDouble(ssi, 5, float64(start.Unix()))
	return hparamsValue("_hparams_/session_start_info", pbBytes(pbVarint(nil, 1, 0), 3, ssi))
}

func sessionEnd(status uint64, endT time.Time) []byte {
	sei := pbDouble(pbVarint(nil, 1, status), 2, float64(endT.Unix()))
	return hparamsValue("_hparams_/session_end_info", pbBytes(pbVarint(nil, 1, 0), 4, sei))
}

func writeTensorBoard(root string, rng *rand.Rand, end time.Time) error {
	type tbRun struct {
		version int
		hidden  float64
		lr      float64
		epochs  int
		failed  bool
		daysAgo int
	}
	for _, r := range []tbRun{
		{0, 64, 1e-3, 20, false, 120}, {1, 128, 1e-3, 25, false, 110}, {2, 256, 3e-3, 6, true, 100},
	} {
		start := end.AddDate(0, 0, -r.daysAgo).Truncate(24 * time.Hour).Add(14 * time.Hour)
		var b []byte
		b = appendRecord(b, pbBytes(pbDouble(nil, 1, float64(start.Unix())), 3, []byte("brain.Event:2")))
		b = appendRecord(b, event(start, 0, sessionStart(map[string]any{
			"hidden_size": r.hidden, "lr": r.lr, "optimizer": "adam", "sequence_length": 30.0,
		}, fmt.Sprintf("fraud-lstm/version_%d", r.version), start)))
		t := start
		var step int64
		for e := 0; e < r.epochs; e++ {
			for k := 0; k < 4; k++ {
				step += 50
				t = t.Add(40 * time.Second)
				l := 0.7*math.Exp(-float64(step)/(900+r.hidden*4)) + 0.12 + 0.02*rng.Float64()
				if r.failed && e >= 4 {
					l = math.Inf(1)
				}
				b = appendRecord(b, event(t, step, scalar("train_loss", l)))
			}
			vl := 0.2 + 0.4*math.Exp(-float64(e)/6) + 0.01*rng.Float64()
			auc := 0.93 - 0.25*math.Exp(-float64(e)/5) + r.hidden/1e4 + 0.003*rng.Float64()
			b = appendRecord(b, event(t, step, scalar("val_loss", vl), scalar("val_auc", auc), scalar("epoch", float64(e))))
		}
		status := uint64(1)
		if r.failed {
			status = 2
		}
		b = appendRecord(b, event(t, step, sessionEnd(status, t)))
		dir := filepath.Join(root, "fraud-lstm", fmt.Sprintf("version_%d", r.version))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		name := fmt.Sprintf("events.out.tfevents.%d.gpu-box-01.%d.0", start.Unix(), 4100+r.version)
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func writeLogs(root string, runIDs, commits []string, rng *rand.Rand, end time.Time) error {
	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }
	var dep strings.Builder
	type deploy struct {
		daysAgo int
		version int
		run     string
		failed  bool
	}
	rc := runIDs[len(runIDs)-1]
	for _, d := range []deploy{{250, 1, runIDs[2], false}, {140, 2, runIDs[3], false}, {38, 3, rc, true}, {37, 3, rc, false}} {
		t := end.AddDate(0, 0, -d.daysAgo).Truncate(24 * time.Hour).Add(15 * time.Hour)
		sha := commits[max(0, len(commits)*(300-d.daysAgo)/300-1)]
		fmt.Fprintf(&dep, "%s INFO deploy: Starting deployment of fraud-classifier model version: %d (MLflow run: %s, commit %s) to fraud-scoring-prod\n", ts(t), d.version, d.run, sha)
		fmt.Fprintf(&dep, "%s INFO deploy: pulling image registry.internal.corp.example/fraud-scoring:%s\n", ts(t.Add(20*time.Second)), sha[:12])
		fmt.Fprintf(&dep, "%s INFO deploy: feature store connection postgresql://fraud_svc:Tr0ub4dor-x9-fraud@db.internal.corp.example:5432/features\n", ts(t.Add(35*time.Second)))
		if d.failed {
			fmt.Fprintf(&dep, "%s ERROR deploy: readiness probe failed: model load took 312s (limit 300s)\n", ts(t.Add(6*time.Minute)))
			fmt.Fprintf(&dep, "%s ERROR deploy: Deployment failed: ProgressDeadlineExceeded for fraud-scoring-prod (model version: %d); rolling back to version %d\n", ts(t.Add(7*time.Minute)), d.version, d.version-1)
			fmt.Fprintf(&dep, "%s INFO deploy: rollback to version %d complete\n", ts(t.Add(9*time.Minute)), d.version-1)
			continue
		}
		fmt.Fprintf(&dep, "%s INFO deploy: canary at 10%% traffic, p95 latency 41ms\n", ts(t.Add(3*time.Minute)))
		fmt.Fprintf(&dep, "%s INFO deploy: Deployment completed successfully: fraud-classifier model version: %d serving 100%% traffic\n", ts(t.Add(8*time.Minute)), d.version)
	}
	// A debugging session pasted a token into the log, as happens.
	fmt.Fprintf(&dep, "%s WARN deploy: retrying GitHub release download with GITHUB_TOKEN=ghp_4fRq9ZsLx2VbN7tKcW1mY8pH3dJ6gA0eQuTz\n", ts(end.AddDate(0, 0, -37).Truncate(24*time.Hour).Add(16*time.Hour)))

	// TorchServe on the scoring host, the day after the last deployment.
	t0 := end.AddDate(0, 0, -36).Truncate(24 * time.Hour).Add(9 * time.Hour)
	tsf := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05,000") }
	var tslog, access, metrics, model strings.Builder
	fmt.Fprintf(&tslog, "%s [INFO ] main org.pytorch.serve.ModelServer - Loading initial models: fraud_classifier.mar\n", tsf(t0))
	fmt.Fprintf(&tslog, "%s [INFO ] main org.pytorch.serve.wlm.ModelManager - Model fraud_classifier loaded.\n", tsf(t0.Add(4*time.Second)))
	fmt.Fprintf(&tslog, "%s [INFO ] main org.pytorch.serve.wlm.ModelManager - updateModel: fraud_classifier, count: 4\n", tsf(t0.Add(5*time.Second)))
	fmt.Fprintf(&tslog, "%s [INFO ] main org.pytorch.serve.ModelServer - Inference API bind to: http://0.0.0.0:8080\n", tsf(t0.Add(6*time.Second)))
	t := t0.Add(10 * time.Second)
	for i := 0; i < 240; i++ {
		t = t.Add(time.Duration(5+rng.IntN(20)) * time.Second)
		code, lat := 200, 18+rng.Float64()*30
		if i%97 == 96 {
			code = 503
		}
		client := fmt.Sprintf("10.20.%d.%d", rng.IntN(4), 10+rng.IntN(200))
		if i == 117 {
			client = "203.0.113.45"
		}
		fmt.Fprintf(&access, "%s - /%s:%d \"POST /predictions/fraud_classifier HTTP/1.1\" %d %d\n", tsf(t), client, 30000+rng.IntN(30000), code, 40+rng.IntN(20))
		fmt.Fprintf(&model, "%s - PredictionTime.Milliseconds:%.2f|#ModelName:fraud_classifier,Level:Model|#hostname:scoring-1,requestID:%s,timestamp:%d\n", tsf(t), lat, hexID(rng)[:16], t.Unix())
		if i%30 == 0 {
			fmt.Fprintf(&metrics, "%s - CPUUtilization.Percent:%.1f|#Level:Host|#hostname:scoring-1,timestamp:%d\n", tsf(t), 20+rng.Float64()*40, t.Unix())
			fmt.Fprintf(&metrics, "%s - MemoryUsed.Megabytes:%.1f|#Level:Host|#hostname:scoring-1,timestamp:%d\n", tsf(t), 2100+rng.Float64()*300, t.Unix())
		}
		if code == 503 {
			fmt.Fprintf(&tslog, "%s [ERROR] W-9000-fraud_classifier_1.0 org.pytorch.serve.wlm.WorkerThread - Backend worker error: timeout after 2000ms\n", tsf(t))
		}
	}
	// A support ticket quoted into the application log, customer details and all.
	fmt.Fprintf(&tslog, "%s [WARN ] W-9001-fraud_classifier_1.0 MODEL_LOG - manual review requested for transaction 88213 by maria.lopez@gmail.com, call back on +44 7700 900123\n", tsf(t.Add(time.Second)))
	return files(root, map[string]string{
		"deployment.log":               dep.String(),
		"torchserve/ts_log.log":        tslog.String(),
		"torchserve/access_log.log":    access.String(),
		"torchserve/ts_metrics.log":    metrics.String(),
		"torchserve/model_metrics.log": model.String(),
	})
}

func writePrometheus(root string, rng *rand.Rand, end time.Time) error {
	type series struct {
		file, name string // the saved file; the recording rule queried
		value      func(i int) float64
	}
	start := end.AddDate(0, 0, -7).Truncate(24 * time.Hour)
	const step, n = 300, 2016 // a week at 5 minutes
	for _, s := range []series{
		{"p95_latency", "model:inference_latency_seconds:p95_5m", func(i int) float64 {
			v := 0.045 + 0.015*math.Sin(float64(i)/288*2*math.Pi) + 0.005*rng.Float64()
			if i >= 1300 && i < 1318 {
				v += 0.6 // an incident: a slow feature store
			}
			return v
		}},
		{"error_rate", "model:inference_errors:ratio_rate5m", func(i int) float64 {
			v := 0.001 + 0.001*rng.Float64()
			if i >= 1300 && i < 1318 {
				v = 0.04
			}
			return v
		}},
	} {
		vals := make([][2]any, n)
		for i := range vals {
			vals[i] = [2]any{float64(start.Unix() + int64(i*step)), fmt.Sprintf("%.6g", s.value(i))}
		}
		resp := map[string]any{"status": "success", "data": map[string]any{"resultType": "matrix", "result": []any{
			map[string]any{"metric": map[string]string{"__name__": s.name, "job": "fraud-scoring", "model": "fraud_classifier"}, "values": vals},
		}}}
		b, err := json.Marshal(resp)
		if err != nil {
			return err
		}
		if err := files(root, map[string]string{s.file + ".json": string(b) + "\n"}); err != nil {
			return err
		}
	}
	return nil
}

func writeWandb(root, commit string, rng *rand.Rand, end time.Time) error {
	start := end.AddDate(0, 0, -60).Truncate(24 * time.Hour).Add(11 * time.Hour)
	id := hexID(rng)[:8]
	dir := "offline-run-" + start.Format("20060102_150405") + "-" + id + "/files/"
	summary := fmt.Sprintf(`{"_runtime": 1312, "_step": 29, "_timestamp": %d, "val_auc": 0.9012, "val_loss": 0.231, "train_loss": 0.188}`, start.Add(1312*time.Second).Unix())
	return files(root, map[string]string{
		dir + "config.yaml":         "wandb_version: 1\n\n_wandb:\n  desc: null\n  value:\n    cli_version: 0.16.6\n    framework: xgboost\n    python_version: 3.11.9\nmax_depth:\n  desc: null\n  value: 6\nlearning_rate:\n  desc: null\n  value: 0.05\nsubsample:\n  desc: null\n  value: 0.8\nfeature_set:\n  desc: null\n  value: v3-merchant-risk\n",
		dir + "wandb-summary.json":  summary + "\n",
		dir + "wandb-metadata.json": fmt.Sprintf(`{"os": "Linux-6.8.0-x86_64", "python": "3.11.9", "startedAt": "%s", "program": "train.py", "host": "gpu-box-01", "username": "jdoe", "gpu": "NVIDIA A10G", "gpu_count": 1, "cpu_count": 8, "git": {"remote": "https://git.corp.example/fraud/fraud-model.git", "commit": "%s"}}`+"\n", start.Format("2006-01-02T15:04:05.000000"), commit),
	})
}
