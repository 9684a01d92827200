package logs_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/collectors/collectortest"
	"github.com/ksbfolio/ksbfolio/collectors/logs"
	"github.com/ksbfolio/ksbfolio/evidence"
)

// fakeCloudWatch is a replay of CloudWatch Logs' FilterLogEvents, built
// from the shapes of AWS's API reference (JSON 1.1 protocol): it checks
// the X-Amz-Target and Content-Type headers and the shape of the SigV4
// Authorization header (not the signature itself), answers the first
// request of each collection with a ThrottlingException, and pages its
// events two at a time with nextToken.
type fakeCloudWatch struct {
	t        *testing.T
	mu       sync.Mutex
	events   []cwEvent
	requests int
	throttle bool
	starts   []int64
}

type cwEvent struct {
	EventID       string `json:"eventId"`
	IngestionTime int64  `json:"ingestionTime"`
	LogStreamName string `json:"logStreamName"`
	Message       string `json:"message"`
	Timestamp     int64  `json:"timestamp"`
}

var sigV4Re = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=AKIDLOGSTEST/\d{8}/eu-west-2/logs/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=[0-9a-f]{64}$`)

func (f *fakeCloudWatch) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	fail := func(code int, typ, msg string) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"__type":%q,"message":%q}`, typ, msg)
	}
	if r.Method != http.MethodPost || r.URL.Path != "/" || r.Header.Get("X-Amz-Target") != "Logs_20140328.FilterLogEvents" ||
		r.Header.Get("Content-Type") != "application/x-amz-json-1.1" {
		f.t.Errorf("request %s %s target %q type %q", r.Method, r.URL.Path, r.Header.Get("X-Amz-Target"), r.Header.Get("Content-Type"))
		fail(400, "UnknownOperationException", "")
		return
	}
	m := sigV4Re.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil || !strings.Contains(m[1], "host") || !strings.Contains(m[1], "x-amz-date") || len(r.Header.Get("X-Amz-Date")) != 16 {
		f.t.Errorf("authorization %q, date %q", r.Header.Get("Authorization"), r.Header.Get("X-Amz-Date"))
		fail(403, "UnrecognizedClientException", "The security token included in the request is invalid.")
		return
	}
	var in struct {
		LogGroupName string `json:"logGroupName"`
		StartTime    int64  `json:"startTime"`
		NextToken    string `json:"nextToken"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		fail(400, "SerializationException", err.Error())
		return
	}
	if in.LogGroupName != "/aws/sagemaker/Endpoints/churn" {
		fail(400, "ResourceNotFoundException", "The specified log group does not exist.")
		return
	}
	if f.throttle {
		f.throttle = false
		fail(400, "ThrottlingException", "Rate exceeded")
		return
	}
	if in.NextToken == "" {
		f.starts = append(f.starts, in.StartTime)
	}
	var match []cwEvent
	for _, e := range f.events {
		if e.Timestamp >= in.StartTime {
			match = append(match, e)
		}
	}
	sort.SliceStable(match, func(i, j int) bool { return match[i].Timestamp < match[j].Timestamp })
	from := 0
	fmt.Sscanf(in.NextToken, "page-%d", &from)
	to := min(from+2, len(match))
	out := map[string]any{"events": match[from:to], "searchedLogStreams": []any{}}
	if to < len(match) {
		out["nextToken"] = fmt.Sprintf("page-%d", to)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	json.NewEncoder(w).Encode(out)
}

func (f *fakeCloudWatch) add(stream string, at time.Time, msg string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, cwEvent{EventID: fmt.Sprintf("%056d", len(f.events)+1), IngestionTime: at.UnixMilli() + 5,
		LogStreamName: stream, Message: msg, Timestamp: at.UnixMilli()})
}

func TestCloudWatch(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDLOGSTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "c2VjcmV0LWZvci1hLXRlc3Qtc2VydmVyLW9ubHk")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	f := &fakeCloudWatch{t: t, throttle: true}
	at := fixedNow.Add(-48 * time.Hour)
	f.add("AllTraffic/i-0a", at, "Starting model deployment...")
	f.add("AllTraffic/i-0a", at.Add(time.Second), "Loading model from MLflow run: 5183fedfa78c48cbb36e6fee2581613a")
	f.add("AllTraffic/i-0b", at.Add(2*time.Second), "2025-09-01T10:00:00Z ERROR worker crashed\nTraceback (most recent call last):\n  File \"serve.py\", line 3\nRuntimeError: CUDA out of memory")
	f.add("AllTraffic/i-0a", at.Add(3*time.Second), "MODEL DEPLOYMENT SUCCESSFUL!")
	f.add("AllTraffic/i-0a", at.Add(4*time.Second), "Created version '3' of model 'churn'.")
	srv := httptest.NewServer(f)
	defer srv.Close()

	c := newCollector(t, logs.SourceConfig{CloudWatch: &logs.CloudWatchConfig{
		Group: "/aws/sagemaker/Endpoints/churn", Region: "eu-west-2", Endpoint: srv.URL}})
	s := &collectortest.Sink{}
	cur, err := c.Collect(context.Background(), nil, s)
	if err != nil {
		t.Fatal(err)
	}
	lines := goldenLines(s.Items())
	want := []string{
		"deployment | " + at.Format(time.RFC3339Nano) + " | Deployment completed | outcome=completed | mlflow_run_id=5183fedfa78c48cbb36e6fee2581613a",
		"incident | 2025-09-01T10:00:00Z | Incident: 1 error in i-0b | count=1",
		"model_version | " + at.Add(4*time.Second).Format(time.RFC3339Nano) + " | Model version registered: Created version '3' of model 'churn'. | model=churn | version=3",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("items:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	inc := byKind(s.Items(), evidence.KindIncident)
	if len(inc) == 1 {
		if samples, _ := inc[0].Facts["samples"].([]any); len(samples) != 1 || samples[0] != "RuntimeError: CUDA out of memory" {
			t.Errorf("incident samples %v", inc[0].Facts["samples"])
		}
	}
	if f.requests != 1+3 { // one throttled, then three pages of two
		t.Errorf("%d requests, want 4", f.requests)
	}
	// From the cursor: nothing new; then a new event is read.
	again := &collectortest.Sink{}
	cur, err = c.Collect(context.Background(), cur, again)
	if err != nil || len(again.Items()) != 0 {
		t.Fatalf("from the cursor: %v, %v", err, goldenLines(again.Items()))
	}
	if f.starts[1] != at.Add(4*time.Second).UnixMilli() {
		t.Errorf("second collection started at %d", f.starts[1])
	}
	f.add("AllTraffic/i-0a", at.Add(time.Hour), "Rolling back to revision 2")
	grown := &collectortest.Sink{}
	if _, err := c.Collect(context.Background(), cur, grown); err != nil {
		t.Fatal(err)
	}
	if g := goldenLines(grown.Items()); len(g) != 1 || !strings.HasPrefix(g[0], "rollback |") {
		t.Errorf("after a new event: %v", g)
	}
}

func TestCloudWatchMissingGroup(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDLOGSTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "c2VjcmV0LWZvci1hLXRlc3Qtc2VydmVyLW9ubHk")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	srv := httptest.NewServer(&fakeCloudWatch{t: t})
	defer srv.Close()
	c := newCollector(t, logs.SourceConfig{CloudWatch: &logs.CloudWatchConfig{Group: "/nope", Region: "eu-west-2", Endpoint: srv.URL}})
	_, err := c.Collect(context.Background(), nil, &collectortest.Sink{})
	if !errors.Is(err, collectors.ErrSourceMissing) || !strings.Contains(err.Error(), "cloudwatch /nope: filter log events") || !strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Errorf("err %v", err)
	}
}
