package sagemaker

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors/trainrun"
	"github.com/ksbfolio/ksbfolio/evidence"
)

// RelDeploys links a deployment item to the training run item whose model
// artefact one of its production variants serves.
const RelDeploys = "deploys"

// job is what is kept of a DescribeTrainingJob answer, free of SDK types.
type job struct {
	Name, ARN               string
	Status, SecondaryStatus string
	FailureReason           string
	ModelArtifact           string // ModelArtifacts.S3ModelArtifacts
	TuningJob               string // TuningJobArn
	Image, Algorithm        string
	InstanceType            string
	InstanceCount           int
	Spot                    bool
	Created, Started, Ended time.Time
	BillableSeconds         int
	TrainingSeconds         int
	HyperParameters         map[string]string
	FinalMetrics            []finalMetric
	Transitions             []transition
	Channels                []channel
}

type finalMetric struct {
	Name  string
	Value float64
	At    time.Time
}

type transition struct {
	Status, Message string
	Start, End      time.Time
}

type channel struct{ Name, S3URI string }

// runStatus maps TrainingJobStatus onto the shared states.
func runStatus(s string) trainrun.Status {
	switch s {
	case "Completed":
		return trainrun.StatusFinished
	case "Failed":
		return trainrun.StatusFailed
	case "Stopped":
		return trainrun.StatusKilled
	case "InProgress", "Stopping":
		return trainrun.StatusRunning
	}
	return trainrun.StatusUnknown
}

// consoleURL is the job's or endpoint's page in the AWS console.
func consoleURL(region, kind, name string) string {
	return fmt.Sprintf("https://%s.console.aws.amazon.com/sagemaker/home?region=%s#/%s/%s",
		region, url.QueryEscape(region), kind, url.PathEscape(name))
}

// trainRun maps a training job to the shared training run. Its native ID
// is the job's ARN (account, region and name).
func trainRun(j job, region string) trainrun.Run {
	r := trainrun.Run{
		SourceType: SourceType,
		NativeID:   j.ARN,
		URI:        consoleURL(region, "jobs", j.Name),
		Name:       j.Name,
		Status:     runStatus(j.Status),
		StartTime:  j.Started,
		EndTime:    j.Ended,
		Params:     j.HyperParameters,
		Hardware:   trainrun.Hardware{InstanceType: j.InstanceType, InstanceCount: j.InstanceCount},
		SourceName: j.Image,
	}
	if r.StartTime.IsZero() {
		r.StartTime = j.Created // a job that failed before it started
	}
	if r.SourceName == "" {
		r.SourceName = j.Algorithm
	}
	for _, m := range j.FinalMetrics {
		r.Metrics = append(r.Metrics, trainrun.Metric{Key: m.Name, Points: []trainrun.Point{{Time: m.At, Value: m.Value}}})
	}
	for _, c := range j.Channels {
		r.Datasets = append(r.Datasets, trainrun.Dataset{Name: c.Name, Source: c.S3URI, SourceType: "s3", Context: c.Name})
	}
	extra := map[string]any{"job_status": j.Status}
	put := func(k, v string) {
		if v != "" {
			extra[k] = v
		}
	}
	put("secondary_status", j.SecondaryStatus)
	put("failure_reason", j.FailureReason)
	put("model_artifact", j.ModelArtifact)
	put("tuning_job", j.TuningJob)
	put("algorithm", j.Algorithm)
	if j.BillableSeconds > 0 {
		extra["billable_seconds"] = j.BillableSeconds
	}
	if j.TrainingSeconds > 0 {
		extra["training_seconds"] = j.TrainingSeconds
	}
	if j.Spot {
		extra["managed_spot"] = true
	}
	if !j.Created.IsZero() {
		extra["created_at"] = j.Created.UTC().Format(time.RFC3339)
	}
	if len(j.Transitions) > 0 {
		ts := make([]any, len(j.Transitions))
		for i, t := range j.Transitions {
			m := map[string]any{"status": t.Status}
			if !t.Start.IsZero() {
				m["start"] = t.Start.UTC().Format(time.RFC3339)
			}
			if !t.End.IsZero() {
				m["end"] = t.End.UTC().Format(time.RFC3339)
			}
			if t.Message != "" {
				m["message"] = t.Message
			}
			ts[i] = m
		}
		extra["status_transitions"] = ts
	}
	r.Extra = extra
	return r
}

// endpoint is what is kept of an endpoint and its configuration.
type endpoint struct {
	Name, ARN, Status string
	Config            string
	FailureReason     string
	Created, Modified time.Time
	Variants          []variant
}

type variant struct {
	Name, Model    string
	InstanceType   string
	InstanceCount  int // current, else the configured initial count
	Weight         float64
	ModelData      string // the model's ModelDataUrl
	Image          string
	TrainingJobARN string // the job whose artefact ModelData is; "" if unknown
}

// deploymentItem maps an endpoint to its deployment item, linked to the
// training run items of its variants' models.
func deploymentItem(ep endpoint, region string, m trainrun.Meta) evidence.Item {
	facts := map[string]any{"endpoint_name": ep.Name, "status": ep.Status, "endpoint_config": ep.Config}
	if ep.FailureReason != "" {
		facts["failure_reason"] = ep.FailureReason
	}
	if !ep.Created.IsZero() {
		facts["created_at"] = ep.Created.UTC().Format(time.RFC3339)
	}
	var links []evidence.Link
	var vs []any
	var lines []string
	for _, v := range ep.Variants {
		f := map[string]any{"name": v.Name}
		for k, s := range map[string]string{"model": v.Model, "instance_type": v.InstanceType, "model_data": v.ModelData, "image": v.Image} {
			if s != "" {
				f[k] = s
			}
		}
		if v.InstanceCount > 0 {
			f["instance_count"] = v.InstanceCount
		}
		f["weight"] = v.Weight
		if v.TrainingJobARN != "" {
			f["training_job"] = v.TrainingJobARN
			l := evidence.Link{Rel: RelDeploys, Item: trainrun.RunItemID(SourceType, v.TrainingJobARN)}
			if !containsLink(links, l) {
				links = append(links, l)
			}
		}
		vs = append(vs, f)
		lines = append(lines, fmt.Sprintf("  %s: model %s on %d × %s, weight %g", v.Name, v.Model, v.InstanceCount, v.InstanceType, v.Weight))
	}
	if vs != nil {
		facts["variants"] = vs
	}
	occurred := ep.Modified
	if occurred.IsZero() {
		occurred = ep.Created
	}
	sort.Strings(lines)
	summary := "Production variants:\n" + strings.Join(lines, "\n")
	if len(lines) == 0 {
		summary = "No production variants."
	}
	if ep.FailureReason != "" {
		summary += "\nFailure: " + ep.FailureReason
	}
	it := evidence.Item{
		Schema:      evidence.SchemaVersion,
		ID:          evidence.NewID(SourceType, ep.ARN),
		Apprentice:  m.Apprentice,
		Source:      m.Source,
		SourceType:  SourceType,
		Kind:        evidence.KindDeployment,
		Title:       fmt.Sprintf("SageMaker endpoint %s (%s)", ep.Name, ep.Status),
		Summary:     summary,
		OccurredAt:  occurred.UTC(),
		CollectedAt: m.CollectedAt.UTC(),
		Origin:      evidence.Origin{URI: consoleURL(region, "endpoints", ep.Name), NativeID: ep.ARN},
		Facts:       facts,
		Links:       links,
	}
	it.Normalize()
	return it
}

func containsLink(ls []evidence.Link, l evidence.Link) bool {
	for _, x := range ls {
		if x == l {
			return true
		}
	}
	return false
}
