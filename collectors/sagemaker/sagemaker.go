// Package sagemaker collects Amazon SageMaker training jobs, as
// training_run items, and endpoints with their production variants, as
// deployment items linked to the training jobs whose model they serve.
// It calls the SageMaker API with aws-sdk-go-v2; no SDK type leaves the
// package.
package sagemaker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	sm "github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/aws/smithy-go"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/collectors/trainrun"
)

// maxAttempts is how many times one call is tried (throttling, 5xx,
// network errors), with the SDK's exponential backoff with jitter.
const maxAttempts = 6

const cursorVersion = 1

// cursorState lets a collection skip what has not changed: each job and
// endpoint, keyed by the hex SHA-256 of its ARN, maps to its last
// modification time and status; Artefacts maps the hash of a model
// artefact URI to the ARN of the job that wrote it, so that endpoints
// collected later still link to their job.
type cursorState struct {
	Version   int               `json:"version"`
	Jobs      map[string]string `json:"jobs"`
	Endpoints map[string]string `json:"endpoints"`
	Artefacts map[string]string `json:"artefacts"`
}

func key(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:16])
}

func stamp(t *time.Time, status string) string {
	return fmt.Sprintf("%d|%s", aws.ToTime(t).UnixMilli(), status)
}

// Collector collects one sagemaker source.
type Collector struct {
	cfg Config
	set collectors.Settings
	// backoff, when set, replaces the SDK's retry delays (tests).
	backoff retry.BackoffDelayer
}

// New returns the collector of cfg; set gives its logger and clock (the
// SDK makes its own HTTP client, see httpClient). It touches no network.
func New(cfg Config, set collectors.Settings) (*Collector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("sagemaker source %q: %w", cfg.Name, err)
	}
	if set.Logger == nil {
		set.Logger = slog.New(slog.DiscardHandler)
	}
	if set.Now == nil {
		set.Now = time.Now
	}
	return &Collector{cfg: cfg, set: set}, nil
}

// httpClient is the SDK's own HTTP client (so that the chain's CA bundle,
// AWS_CA_BUNDLE, can be applied to it) with the timeouts of
// collectors.NewHTTPClient: nothing hangs.
func httpClient() *awshttp.BuildableClient {
	return awshttp.NewBuildableClient().
		WithTimeout(2 * time.Minute).
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = 10 * time.Second }).
		WithTransportOptions(func(t *http.Transport) {
			t.TLSHandshakeTimeout = 10 * time.Second
			t.ResponseHeaderTimeout = 30 * time.Second
		})
}

// client builds the SageMaker client from the standard credential chain.
func (c *Collector) client(ctx context.Context) (*sm.Client, string, error) {
	opts := []func(*awsconfig.LoadOptions) error{awsconfig.WithHTTPClient(httpClient())}
	if c.cfg.Region != "" {
		opts = append(opts, awsconfig.WithRegion(c.cfg.Region))
	}
	if c.cfg.Profile != "" {
		opts = append(opts, awsconfig.WithSharedConfigProfile(c.cfg.Profile))
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, "", fmt.Errorf("load AWS configuration: %w", err)
	}
	if awsCfg.Region == "" {
		return nil, "", errors.New("no AWS region: set region in the source or AWS_REGION")
	}
	client := sm.NewFromConfig(awsCfg, func(o *sm.Options) {
		if c.cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(c.cfg.Endpoint)
		}
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = maxAttempts
			// No client-side retry quota: a long collection that meets
			// throttling keeps retrying each call (with backoff) instead
			// of failing fast once the quota's tokens are spent.
			so.RateLimiter = ratelimit.None
			if c.backoff != nil {
				so.Backoff = c.backoff
			}
		})
	})
	return client, awsCfg.Region, nil
}

// Collect implements collectors.Collector: every training job (filtered by
// name_contains) new or modified since the cursor is described and
// emitted, then every new or modified endpoint. A job or endpoint that
// cannot be described is skipped and counted; a list that cannot be read
// fails the collection.
func (c *Collector) Collect(ctx context.Context, cursor collectors.Cursor, sink collectors.Sink) (collectors.Cursor, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	prev := decodeCursor(cursor, c.set.Logger)
	client, region, err := c.client(ctx)
	if err != nil {
		return nil, err
	}
	next := cursorState{Version: cursorVersion, Jobs: map[string]string{}, Endpoints: map[string]string{}, Artefacts: map[string]string{}}
	for k, v := range prev.Artefacts {
		next.Artefacts[k] = v
	}
	var skips collectors.Skips
	skip := func(what string, err error) {
		sk := collectors.Skipped{What: what, Reason: err.Error()}
		sink.Skip(sk)
		skips.Add(sk)
	}
	meta := trainrun.Meta{Apprentice: c.cfg.Apprentice, Source: c.cfg.Name, CollectedAt: c.set.Now()}

	in := &sm.ListTrainingJobsInput{MaxResults: aws.Int32(100)}
	if c.cfg.NameContains != "" {
		in.NameContains = aws.String(c.cfg.NameContains)
	}
	jobs := sm.NewListTrainingJobsPaginator(client, in)
	for jobs.HasMorePages() {
		page, err := jobs.NextPage(ctx)
		if err != nil {
			return nil, callErr(ctx, "list training jobs", err)
		}
		for _, s := range page.TrainingJobSummaries {
			arn, st := aws.ToString(s.TrainingJobArn), stamp(s.LastModifiedTime, string(s.TrainingJobStatus))
			if prev.Jobs[key(arn)] == st {
				next.Jobs[key(arn)] = st
				continue
			}
			out, err := client.DescribeTrainingJob(ctx, &sm.DescribeTrainingJobInput{TrainingJobName: s.TrainingJobName})
			if err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				skip("training job "+aws.ToString(s.TrainingJobName), callErr(ctx, "describe", err))
				continue
			}
			j := jobOf(out)
			e, err := trainrun.Build(trainRun(j, region), meta)
			if err != nil {
				skip("training job "+j.Name, err)
				continue
			}
			if err := sink.Emit(ctx, e); err != nil {
				return nil, err
			}
			next.Jobs[key(arn)] = st
			if j.ModelArtifact != "" {
				next.Artefacts[key(j.ModelArtifact)] = j.ARN
			}
		}
	}
	if c.cfg.Endpoints == nil || *c.cfg.Endpoints {
		if err := c.endpoints(ctx, client, region, prev, next, meta, sink, skip); err != nil {
			return nil, err
		}
	}
	b, err := json.Marshal(next)
	if err != nil {
		return nil, fmt.Errorf("encode cursor: %w", err)
	}
	return b, skips.Err()
}

func (c *Collector) endpoints(ctx context.Context, client *sm.Client, region string, prev, next cursorState,
	meta trainrun.Meta, sink collectors.Sink, skip func(string, error)) error {
	models := map[string]*sm.DescribeModelOutput{}
	pages := sm.NewListEndpointsPaginator(client, &sm.ListEndpointsInput{MaxResults: aws.Int32(100)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return callErr(ctx, "list endpoints", err)
		}
		for _, s := range page.Endpoints {
			arn, st := aws.ToString(s.EndpointArn), stamp(s.LastModifiedTime, string(s.EndpointStatus))
			if prev.Endpoints[key(arn)] == st {
				next.Endpoints[key(arn)] = st
				continue
			}
			ep, err := describeEndpoint(ctx, client, aws.ToString(s.EndpointName), models)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				skip("endpoint "+aws.ToString(s.EndpointName), err)
				continue
			}
			for i, v := range ep.Variants {
				if v.ModelData != "" {
					ep.Variants[i].TrainingJobARN = next.Artefacts[key(v.ModelData)]
				}
			}
			if err := sink.Emit(ctx, collectors.Emission{Item: deploymentItem(ep, region, meta)}); err != nil {
				return err
			}
			next.Endpoints[key(arn)] = st
		}
	}
	return nil
}

// describeEndpoint reads an endpoint, its configuration and the models of
// its variants (cached by name across endpoints).
func describeEndpoint(ctx context.Context, client *sm.Client, name string, models map[string]*sm.DescribeModelOutput) (endpoint, error) {
	out, err := client.DescribeEndpoint(ctx, &sm.DescribeEndpointInput{EndpointName: aws.String(name)})
	if err != nil {
		return endpoint{}, callErr(ctx, "describe", err)
	}
	ep := endpoint{Name: aws.ToString(out.EndpointName), ARN: aws.ToString(out.EndpointArn), Status: string(out.EndpointStatus),
		Config: aws.ToString(out.EndpointConfigName), FailureReason: aws.ToString(out.FailureReason),
		Created: aws.ToTime(out.CreationTime), Modified: aws.ToTime(out.LastModifiedTime)}
	current := map[string]types.ProductionVariantSummary{}
	for _, v := range out.ProductionVariants {
		current[aws.ToString(v.VariantName)] = v
	}
	if ep.Config == "" {
		return ep, nil
	}
	cfg, err := client.DescribeEndpointConfig(ctx, &sm.DescribeEndpointConfigInput{EndpointConfigName: out.EndpointConfigName})
	if err != nil {
		return endpoint{}, callErr(ctx, "describe endpoint config "+ep.Config, err)
	}
	for _, pv := range cfg.ProductionVariants {
		v := variant{Name: aws.ToString(pv.VariantName), Model: aws.ToString(pv.ModelName), InstanceType: string(pv.InstanceType),
			InstanceCount: int(aws.ToInt32(pv.InitialInstanceCount)), Weight: float64(aws.ToFloat32(pv.InitialVariantWeight))}
		if cur, ok := current[v.Name]; ok {
			if cur.CurrentInstanceCount != nil {
				v.InstanceCount = int(*cur.CurrentInstanceCount)
			}
			if cur.CurrentWeight != nil {
				v.Weight = float64(*cur.CurrentWeight)
			}
		}
		if v.Model != "" {
			m, ok := models[v.Model]
			if !ok {
				m, err = client.DescribeModel(ctx, &sm.DescribeModelInput{ModelName: aws.String(v.Model)})
				if err != nil {
					return endpoint{}, callErr(ctx, "describe model "+v.Model, err)
				}
				models[v.Model] = m
			}
			c := m.PrimaryContainer
			if c == nil && len(m.Containers) > 0 {
				c = &m.Containers[0]
			}
			if c != nil {
				v.ModelData, v.Image = aws.ToString(c.ModelDataUrl), aws.ToString(c.Image)
				if v.ModelData == "" && c.ModelDataSource != nil && c.ModelDataSource.S3DataSource != nil {
					v.ModelData = aws.ToString(c.ModelDataSource.S3DataSource.S3Uri)
				}
			}
		}
		ep.Variants = append(ep.Variants, v)
	}
	return ep, nil
}

// jobOf copies what the items need out of the SDK's answer.
func jobOf(o *sm.DescribeTrainingJobOutput) job {
	j := job{Name: aws.ToString(o.TrainingJobName), ARN: aws.ToString(o.TrainingJobArn), Status: string(o.TrainingJobStatus),
		SecondaryStatus: string(o.SecondaryStatus), FailureReason: aws.ToString(o.FailureReason), TuningJob: aws.ToString(o.TuningJobArn),
		Created: aws.ToTime(o.CreationTime), Started: aws.ToTime(o.TrainingStartTime), Ended: aws.ToTime(o.TrainingEndTime),
		BillableSeconds: int(aws.ToInt32(o.BillableTimeInSeconds)), TrainingSeconds: int(aws.ToInt32(o.TrainingTimeInSeconds)),
		Spot: aws.ToBool(o.EnableManagedSpotTraining), HyperParameters: o.HyperParameters}
	if o.ModelArtifacts != nil {
		j.ModelArtifact = aws.ToString(o.ModelArtifacts.S3ModelArtifacts)
	}
	if a := o.AlgorithmSpecification; a != nil {
		j.Image, j.Algorithm = aws.ToString(a.TrainingImage), aws.ToString(a.AlgorithmName)
	}
	if r := o.ResourceConfig; r != nil {
		j.InstanceType, j.InstanceCount = string(r.InstanceType), int(aws.ToInt32(r.InstanceCount))
		for _, g := range r.InstanceGroups { // heterogeneous clusters
			if j.InstanceType == "" {
				j.InstanceType = string(g.InstanceType)
			}
			j.InstanceCount += int(aws.ToInt32(g.InstanceCount))
		}
	}
	for _, m := range o.FinalMetricDataList {
		j.FinalMetrics = append(j.FinalMetrics, finalMetric{Name: aws.ToString(m.MetricName), Value: float64(aws.ToFloat32(m.Value)), At: aws.ToTime(m.Timestamp)})
	}
	for _, t := range o.SecondaryStatusTransitions {
		j.Transitions = append(j.Transitions, transition{Status: string(t.Status), Message: aws.ToString(t.StatusMessage),
			Start: aws.ToTime(t.StartTime), End: aws.ToTime(t.EndTime)})
	}
	for _, ch := range o.InputDataConfig {
		c := channel{Name: aws.ToString(ch.ChannelName)}
		if ch.DataSource != nil && ch.DataSource.S3DataSource != nil {
			c.S3URI = aws.ToString(ch.DataSource.S3DataSource.S3Uri)
		}
		j.Channels = append(j.Channels, c)
	}
	return j
}

// callErr words an API error: the context's error when cancelled, else
// what was being done and the service's error code and message.
func callErr(ctx context.Context, doing string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "AccessDeniedException" {
		return fmt.Errorf("%s: access denied (check the IAM permissions in the README): %w", doing, err)
	}
	if strings.Contains(err.Error(), "failed to retrieve credentials") {
		return fmt.Errorf("%s: no AWS credentials found in the standard chain: %w", doing, err)
	}
	return fmt.Errorf("%s: %w", doing, err)
}

func decodeCursor(b []byte, log *slog.Logger) cursorState {
	var st cursorState
	if len(b) == 0 || string(b) == "null" {
		return st
	}
	if err := json.Unmarshal(b, &st); err != nil || st.Version != cursorVersion {
		log.Warn("sagemaker cursor unusable; reading everything", "err", err, "version", st.Version)
		return cursorState{}
	}
	return st
}
