package sagemaker_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// replay is a local stand-in for the SageMaker API: a replay built from
// the shapes that AWS's API reference documents for ListTrainingJobs,
// DescribeTrainingJob, ListEndpoints, DescribeEndpoint,
// DescribeEndpointConfig and DescribeModel (awsJson1_1 protocol: POST /,
// X-Amz-Target SageMaker.<Operation>, timestamps as epoch seconds, errors
// as {"__type", "message"} with HTTP 400). It is not a recording of a
// real account. Each request must carry a SigV4 Authorization header for
// the test credentials, region eu-west-2 and service sagemaker, whose
// signature it recomputes.
type replay struct {
	t *testing.T

	mu sync.Mutex
	// jobs are the ListTrainingJobs pages, in order, and describe the
	// DescribeTrainingJob answers by job name.
	pages    [][]map[string]any
	describe map[string]map[string]any
	// throttleOnce makes the first request for page 2 fail with a
	// ThrottlingException.
	throttleOnce bool
	throttled    int
	calls        map[string]int
	bad          []string // what the requests got wrong
}

const (
	testKey    = "AKIDEXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	testRegion = "eu-west-2"
	account    = "123456789012"
)

var authPattern = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=([A-Z0-9]+)/(\d{8})/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$`)

func (s *replay) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, "SageMaker.")
	if r.Method != http.MethodPost || r.URL.Path != "/" || !ok || r.Header.Get("Content-Type") != "application/x-amz-json-1.1" {
		s.bad = append(s.bad, fmt.Sprintf("%s %s target %q content type %q", r.Method, r.URL.Path, target, r.Header.Get("Content-Type")))
		awsError(w, 400, "UnknownOperationException", "")
		return
	}
	if why := checkSigV4(r, body); why != "" {
		s.bad = append(s.bad, op+": "+why)
		awsError(w, 403, "InvalidSignatureException", why)
		return
	}
	if s.calls == nil {
		s.calls = map[string]int{}
	}
	s.calls[op]++
	var in map[string]any
	if err := json.Unmarshal(body, &in); err != nil {
		s.bad = append(s.bad, op+": body is not JSON")
		awsError(w, 400, "SerializationException", "")
		return
	}
	switch op {
	case "ListTrainingJobs":
		page := 0
		if tok, _ := in["NextToken"].(string); tok != "" {
			if _, err := fmt.Sscanf(tok, "page-%d", &page); err != nil || page >= len(s.pages) {
				awsError(w, 400, "ValidationException", "invalid NextToken")
				return
			}
		}
		if in["MaxResults"] != 100.0 {
			s.bad = append(s.bad, fmt.Sprintf("MaxResults %v", in["MaxResults"]))
		}
		if page == 1 && s.throttleOnce {
			s.throttleOnce = false
			s.throttled++
			awsError(w, 400, "ThrottlingException", "Rate exceeded")
			return
		}
		var sums []map[string]any
		for _, js := range s.pages[page] {
			if nc, _ := in["NameContains"].(string); strings.Contains(js["TrainingJobName"].(string), nc) {
				sums = append(sums, js)
			}
		}
		out := map[string]any{"TrainingJobSummaries": sums}
		if page+1 < len(s.pages) {
			out["NextToken"] = fmt.Sprintf("page-%d", page+1)
		}
		writeJSON(w, out)
	case "DescribeTrainingJob":
		name, _ := in["TrainingJobName"].(string)
		d, ok := s.describe[name]
		if !ok {
			awsError(w, 400, "ResourceNotFound", "Requested resource not found.")
			return
		}
		writeJSON(w, d)
	case "ListEndpoints":
		writeJSON(w, map[string]any{"Endpoints": []any{map[string]any{
			"EndpointName": "fraud-endpoint", "EndpointArn": arn("endpoint", "fraud-endpoint"),
			"CreationTime": 1709460000.0, "LastModifiedTime": 1709463600.5, "EndpointStatus": "InService"}}})
	case "DescribeEndpoint":
		writeJSON(w, map[string]any{
			"EndpointName": "fraud-endpoint", "EndpointArn": arn("endpoint", "fraud-endpoint"),
			"EndpointConfigName": "fraud-endpoint-config-2024-03-03",
			"ProductionVariants": []any{map[string]any{
				"VariantName": "AllTraffic", "CurrentInstanceCount": 2, "DesiredInstanceCount": 2, "CurrentWeight": 1.0, "DesiredWeight": 1.0,
				"DeployedImages": []any{map[string]any{"SpecifiedImage": xgbImage, "ResolvedImage": xgbImage + "@sha256:" + strings.Repeat("ab", 32), "ResolutionTime": 1709460100.0}}}},
			"EndpointStatus": "InService", "CreationTime": 1709460000.0, "LastModifiedTime": 1709463600.5})
	case "DescribeEndpointConfig":
		writeJSON(w, map[string]any{
			"EndpointConfigName": "fraud-endpoint-config-2024-03-03", "EndpointConfigArn": arn("endpoint-config", "fraud-endpoint-config-2024-03-03"),
			"ProductionVariants": []any{map[string]any{"VariantName": "AllTraffic", "ModelName": "fraud-xgb-model",
				"InitialInstanceCount": 1, "InstanceType": "ml.m5.large", "InitialVariantWeight": 1.0}},
			"CreationTime": 1709459000.0})
	case "DescribeModel":
		writeJSON(w, map[string]any{
			"ModelName": "fraud-xgb-model", "ModelArn": arn("model", "fraud-xgb-model"),
			"PrimaryContainer": map[string]any{"Image": xgbImage, "ModelDataUrl": artefact("fraud-xgb-2024-03-01-10-00-00")},
			"ExecutionRoleArn": "arn:aws:iam::" + account + ":role/SageMakerRole", "CreationTime": 1709458000.0})
	default:
		awsError(w, 400, "UnknownOperationException", op)
	}
}

const xgbImage = "764974769150.dkr.ecr.eu-west-2.amazonaws.com/sagemaker-xgboost:1.7-1"

func arn(kind, name string) string {
	return "arn:aws:sagemaker:" + testRegion + ":" + account + ":" + kind + "/" + name
}

func artefact(job string) string {
	return "s3://fraud-ml-artefacts/models/" + job + "/output/model.tar.gz"
}

// checkSigV4 checks the Authorization header's shape and recomputes its
// signature from the request with the test credentials.
func checkSigV4(r *http.Request, body []byte) string {
	auth := r.Header.Get("Authorization")
	m := authPattern.FindStringSubmatch(auth)
	if m == nil {
		return fmt.Sprintf("Authorization %q is not AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…", auth)
	}
	date := r.Header.Get("X-Amz-Date")
	if m[1] != testKey || m[3] != testRegion || m[4] != "sagemaker" || !strings.HasPrefix(date, m[2]) {
		return fmt.Sprintf("credential scope %s/%s/%s/%s, X-Amz-Date %s", m[1], m[2], m[3], m[4], date)
	}
	signed := strings.Split(m[5], ";")
	for _, h := range []string{"host", "x-amz-date", "x-amz-target"} {
		if !contains(signed, h) {
			return "SignedHeaders lacks " + h
		}
	}
	at, err := time.Parse("20060102T150405Z", date)
	if err != nil {
		return "X-Amz-Date " + date + ": " + err.Error()
	}
	sum := sha256.Sum256(body)
	if got := r.Header.Get("X-Amz-Content-Sha256"); got != "" && got != hex.EncodeToString(sum[:]) {
		return "X-Amz-Content-Sha256 is not the body's hash"
	}
	re, _ := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body))
	for _, h := range signed {
		if h != "host" {
			re.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	err = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret},
		re, hex.EncodeToString(sum[:]), "sagemaker", testRegion, at)
	if err != nil {
		return "re-sign: " + err.Error()
	}
	if want := authPattern.FindStringSubmatch(re.Header.Get("Authorization")); want == nil || want[6] != m[6] {
		return "signature does not match the request"
	}
	return ""
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-RequestId", "5d3b1c7e-0000-4000-8000-000000000000")
	_ = json.NewEncoder(w).Encode(v)
}

func awsError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"__type": code, "message": msg})
}

// summaryOf is a TrainingJobSummary as ListTrainingJobs returns it.
func summaryOf(d map[string]any) map[string]any {
	s := map[string]any{}
	for _, k := range []string{"TrainingJobName", "TrainingJobArn", "CreationTime", "TrainingEndTime", "LastModifiedTime", "TrainingJobStatus", "SecondaryStatus"} {
		if v, ok := d[k]; ok {
			s[k] = v
		}
	}
	return s
}

// describeJob is a DescribeTrainingJob answer in the documented shape.
func describeJob(name, status string, start float64, extra map[string]any) map[string]any {
	d := map[string]any{
		"TrainingJobName":   name,
		"TrainingJobArn":    arn("training-job", name),
		"TrainingJobStatus": status,
		"SecondaryStatus":   map[string]string{"Completed": "Completed", "Failed": "Failed", "Stopped": "Stopped"}[status],
		"HyperParameters":   map[string]any{"max_depth": "6", "eta": "0.2", "objective": "binary:logistic", "num_round": "100"},
		"AlgorithmSpecification": map[string]any{"TrainingImage": xgbImage, "TrainingInputMode": "File",
			"MetricDefinitions": []any{map[string]any{"Name": "validation:auc", "Regex": ".*\\[[0-9]+\\].*#011validation-auc:([-+]?[0-9]*\\.?[0-9]+).*"}}},
		"RoleArn": "arn:aws:iam::" + account + ":role/SageMakerRole",
		"InputDataConfig": []any{
			map[string]any{"ChannelName": "train", "DataSource": map[string]any{"S3DataSource": map[string]any{"S3DataType": "S3Prefix", "S3Uri": "s3://fraud-ml-data/train/", "S3DataDistributionType": "FullyReplicated"}}, "ContentType": "text/csv"},
			map[string]any{"ChannelName": "validation", "DataSource": map[string]any{"S3DataSource": map[string]any{"S3DataType": "S3Prefix", "S3Uri": "s3://fraud-ml-data/validation/", "S3DataDistributionType": "FullyReplicated"}}, "ContentType": "text/csv"},
		},
		"OutputDataConfig":  map[string]any{"S3OutputPath": "s3://fraud-ml-artefacts/models/"},
		"ResourceConfig":    map[string]any{"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30},
		"StoppingCondition": map[string]any{"MaxRuntimeInSeconds": 86400},
		"CreationTime":      start - 120,
		"LastModifiedTime":  start + 900,
		"SecondaryStatusTransitions": []any{
			map[string]any{"Status": "Starting", "StartTime": start - 120, "EndTime": start - 20, "StatusMessage": "Preparing the instances for training"},
			map[string]any{"Status": "Downloading", "StartTime": start - 20, "EndTime": start, "StatusMessage": "Downloading input data"},
			map[string]any{"Status": "Training", "StartTime": start, "EndTime": start + 800, "StatusMessage": "Training image download completed. Training in progress."},
		},
		"EnableNetworkIsolation": false,
	}
	for k, v := range extra {
		d[k] = v
	}
	return d
}

// newReplay is the account of the tests: three pages of training jobs (a
// completed job whose model an endpoint serves, a failed one, a completed
// PyTorch job on two GPU instances, a stopped tuning job) and one
// endpoint.
func newReplay(t *testing.T) *replay {
	const t0 = 1709287200.0 // 2024-03-01T10:00:00Z
	completed := describeJob("fraud-xgb-2024-03-01-10-00-00", "Completed", t0, map[string]any{
		"TrainingStartTime": t0, "TrainingEndTime": t0 + 800, "TrainingTimeInSeconds": 800, "BillableTimeInSeconds": 800,
		"ModelArtifacts":      map[string]any{"S3ModelArtifacts": artefact("fraud-xgb-2024-03-01-10-00-00")},
		"FinalMetricDataList": []any{map[string]any{"MetricName": "validation:auc", "Value": 0.9423, "Timestamp": t0 + 790}, map[string]any{"MetricName": "train:logloss", "Value": 0.1375, "Timestamp": t0 + 790}},
	})
	failed := describeJob("fraud-xgb-2024-03-02-09-00-00", "Failed", t0+86400, map[string]any{
		"TrainingStartTime": t0 + 86400, "TrainingEndTime": t0 + 86460, "TrainingTimeInSeconds": 60, "BillableTimeInSeconds": 60,
		"FailureReason": "AlgorithmError: framework error: ValueError: feature_names mismatch",
	})
	delete(failed, "ModelArtifacts")
	gpu := describeJob("fraud-pytorch-2024-03-05-12-00-00", "Completed", t0+4*86400, map[string]any{
		"TrainingStartTime": t0 + 4*86400, "TrainingEndTime": t0 + 4*86400 + 3600, "TrainingTimeInSeconds": 3600, "BillableTimeInSeconds": 1440,
		"EnableManagedSpotTraining": true,
		"ResourceConfig":            map[string]any{"InstanceType": "ml.g5.2xlarge", "InstanceCount": 2, "VolumeSizeInGB": 100},
		"ModelArtifacts":            map[string]any{"S3ModelArtifacts": artefact("fraud-pytorch-2024-03-05-12-00-00")},
		"FinalMetricDataList":       []any{map[string]any{"MetricName": "val_loss", "Value": 0.21, "Timestamp": t0 + 4*86400 + 3500}},
	})
	gpu["AlgorithmSpecification"] = map[string]any{"TrainingImage": "763104351884.dkr.ecr.eu-west-2.amazonaws.com/pytorch-training:2.2.0-gpu-py310", "TrainingInputMode": "File"}
	stopped := describeJob("fraud-xgb-tuning-001-7f3a", "Stopped", t0+5*86400, map[string]any{
		"TrainingStartTime": t0 + 5*86400, "TrainingEndTime": t0 + 5*86400 + 30, "BillableTimeInSeconds": 30,
		"TuningJobArn": arn("hyper-parameter-tuning-job", "fraud-xgb-tuning"),
	})
	s := &replay{t: t, throttleOnce: true, describe: map[string]map[string]any{}}
	for _, d := range []map[string]any{completed, failed, gpu, stopped} {
		s.describe[d["TrainingJobName"].(string)] = d
	}
	s.pages = [][]map[string]any{{summaryOf(stopped), summaryOf(gpu)}, {summaryOf(failed)}, {summaryOf(completed)}}
	return s
}

// addJob adds a completed job to the last page.
func (s *replay) addJob(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := describeJob(name, "Completed", 1710000000, map[string]any{"TrainingStartTime": 1710000000.0, "TrainingEndTime": 1710000600.0})
	s.describe[name] = d
	last := len(s.pages) - 1
	s.pages[last] = append(s.pages[last], summaryOf(d))
}

func (s *replay) problems() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.bad...)
}

func startReplay(t *testing.T) (*replay, *httptest.Server) {
	s := newReplay(t)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		for _, p := range s.problems() {
			t.Errorf("request: %s", p)
		}
	})
	return s, srv
}

// alwaysThrottle answers every ListTrainingJobs call for page 2 with a
// ThrottlingException, counting them, and passes the rest on.
type alwaysThrottle struct {
	next *replay
	mu   sync.Mutex
	n    int
}

func (a *alwaysThrottle) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if r.Header.Get("X-Amz-Target") == "SageMaker.ListTrainingJobs" && bytes.Contains(body, []byte("page-1")) {
		a.mu.Lock()
		a.n++
		a.mu.Unlock()
		awsError(w, 400, "ThrottlingException", "Rate exceeded")
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	a.next.ServeHTTP(w, r)
}
