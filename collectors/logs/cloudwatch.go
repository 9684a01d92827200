package logs

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/internal/textcap"
)

// CloudWatchConfig is a CloudWatch Logs log group to read. Credentials
// come from the AWS default chain (environment, shared config, SSO,
// instance role), never from ksbfolio.yaml.
type CloudWatchConfig struct {
	// Group is the log group name ("/aws/sagemaker/Endpoints/churn").
	Group string `yaml:"group" json:"group"`
	// Region is the group's AWS region ("eu-west-2").
	Region string `yaml:"region" json:"region"`
	// Endpoint overrides the service endpoint (a VPC endpoint, a test
	// server); optional.
	Endpoint string `yaml:"endpoint,omitempty" json:"endpoint,omitempty"`
	// StreamPrefix keeps only the streams whose name starts with it.
	StreamPrefix string `yaml:"stream_prefix,omitempty" json:"stream_prefix,omitempty"`
	// Since is how far back the first collection reads (default 720h).
	Since string `yaml:"since,omitempty" json:"since,omitempty"`
}

const defaultCloudWatchSince = 30 * 24 * time.Hour

func (cw *CloudWatchConfig) check() []problem {
	var ps []problem
	if strings.TrimSpace(cw.Group) == "" {
		ps = append(ps, problem{"cloudwatch.group", "required: the log group name"})
	}
	if strings.TrimSpace(cw.Region) == "" {
		ps = append(ps, problem{"cloudwatch.region", "required, e.g. eu-west-2"})
	}
	if cw.Since != "" {
		if d, err := time.ParseDuration(cw.Since); err != nil || d <= 0 {
			ps = append(ps, problem{"cloudwatch.since", fmt.Sprintf("%q: want a positive duration such as 720h", cw.Since)})
		}
	}
	return ps
}

// cloudWatchCursor is where a log group was left: the newest event time
// read and the IDs of the events at that time (FilterLogEvents's start
// time is inclusive).
type cloudWatchCursor struct {
	Group string   `json:"group"`
	Last  int64    `json:"last_ms"`
	IDs   []string `json:"ids,omitempty"`
}

// cwStream is the record assembler and extractor of one log stream.
type cwStream struct {
	t   target
	asm *assembler
	ex  *extractor
	n   int
}

// cloudwatch reads the configured log group with FilterLogEvents, page by
// page, from the cursor's time; the SDK's retryer retries throttling.
func (r *run) cloudwatch() error {
	cw := r.c.cfg.CloudWatch
	// The SDK's own client, with the timeouts of collectors.NewHTTPClient:
	// unlike a plain *http.Client it takes AWS_CA_BUNDLE.
	httpClient := awshttp.NewBuildableClient().WithTimeout(2 * time.Minute).
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = 10 * time.Second }).
		WithTransportOptions(func(t *http.Transport) {
			t.TLSHandshakeTimeout = 10 * time.Second
			t.ResponseHeaderTimeout = 30 * time.Second
		})
	awsCfg, err := awsconfig.LoadDefaultConfig(r.ctx, awsconfig.WithRegion(cw.Region),
		awsconfig.WithHTTPClient(httpClient), awsconfig.WithRetryMaxAttempts(5))
	if err != nil {
		return fmt.Errorf("cloudwatch %s: load the AWS config: %w", cw.Group, err)
	}
	client := cloudwatchlogs.NewFromConfig(awsCfg, func(o *cloudwatchlogs.Options) {
		if cw.Endpoint != "" {
			o.BaseEndpoint = aws.String(cw.Endpoint)
		}
	})
	var old cloudWatchCursor
	if r.old.CloudWatch != nil && r.old.CloudWatch.Group == cw.Group {
		old = *r.old.CloudWatch
	}
	start := old.Last
	if start == 0 {
		since := defaultCloudWatchSince
		if cw.Since != "" {
			since, _ = time.ParseDuration(cw.Since)
		}
		start = r.c.set.Now().Add(-since).UnixMilli()
	}
	in := &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(cw.Group), StartTime: aws.Int64(start)}
	if cw.StreamPrefix != "" {
		in.LogStreamNamePrefix = aws.String(cw.StreamPrefix)
	}
	streams := map[string]*cwStream{}
	next := cloudWatchCursor{Group: cw.Group, Last: old.Last, IDs: old.IDs}
	skip := map[string]bool{}
	for _, id := range old.IDs {
		skip[id] = true
	}
	p := cloudwatchlogs.NewFilterLogEventsPaginator(client, in)
	for p.HasMorePages() {
		page, err := p.NextPage(r.ctx)
		if err != nil {
			if r.ctx.Err() != nil {
				return r.ctx.Err()
			}
			var nf *types.ResourceNotFoundException
			if errors.As(err, &nf) {
				return fmt.Errorf("cloudwatch %s: filter log events: %w (%w)", cw.Group, collectors.ErrSourceMissing, err)
			}
			return fmt.Errorf("cloudwatch %s: filter log events: %w", cw.Group, err)
		}
		for _, e := range page.Events {
			ts, id := aws.ToInt64(e.Timestamp), aws.ToString(e.EventId)
			if ts < old.Last || ts == old.Last && skip[id] {
				continue
			}
			name := aws.ToString(e.LogStreamName)
			s := streams[name]
			if s == nil {
				s = r.newCWStream(cw.Group, name)
				streams[name] = s
			}
			for i, text := range strings.Split(strings.TrimRight(aws.ToString(e.Message), "\n"), "\n") {
				s.n++
				text = textcap.CutBeforeWord(text, r.c.maxLine)
				l := line{Start: ts, End: ts, Num: s.n, Closed: true, Fresh: i == 0, Time: time.UnixMilli(ts).UTC()}
				if err := s.asm.add(l, text); err != nil {
					return err
				}
			}
			switch {
			case ts > next.Last:
				next.Last, next.IDs = ts, []string{id}
			case ts == next.Last && !slices.Contains(next.IDs, id):
				next.IDs = append(next.IDs, id)
			}
		}
	}
	names := make([]string, 0, len(streams))
	for n := range streams {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s := streams[n]
		if err := s.asm.flush(); err != nil {
			return err
		}
		hold, err := s.ex.finish()
		if err != nil {
			return err
		}
		if hold >= 0 && hold <= next.Last {
			// An open deployment or window: read again from its first
			// event next time (same item IDs).
			next.Last, next.IDs = hold, nil
		}
	}
	r.next.CloudWatch = &next
	return nil
}

func (r *run) newCWStream(group, stream string) *cwStream {
	c := r.c
	sum := sha256.Sum256([]byte(group + "\x00" + stream))
	t := target{Path: "cloudwatch://" + group + "/" + stream}
	ex := &extractor{patterns: c.patterns, stems: c.stems, gap: c.gap, fp: hex.EncodeToString(sum[:]), fallback: c.set.Now().UTC()}
	ex.out = func(ev *event) error { return r.emit(ev, t) }
	format := c.format
	if format == formatAuto {
		format = formatText
	}
	return &cwStream{t: t, ex: ex, asm: &assembler{format: format, year: c.set.Now().Year(), stamped: true, emit: ex.record}}
}
