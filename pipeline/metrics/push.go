package metrics

import (
	"context"
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/push"
	dto "github.com/prometheus/client_model/go"
)

// Job is the Pushgateway job name of pushed runs.
const Job = "ksbfolio"

// Push sends what g gathers to the Pushgateway at url as the group
// job="ksbfolio", apprentice=<apprentice>, replacing that group (HTTP PUT):
// one group per apprentice, holding its last run. The apprentice label is
// taken off the metrics, since the group's key carries it.
func Push(ctx context.Context, url, apprentice string, g prometheus.Gatherer, client *http.Client) error {
	p := push.New(url, Job).Grouping("apprentice", apprentice).Gatherer(withoutLabel(g, "apprentice"))
	if client != nil {
		p = p.Client(client)
	}
	if err := p.PushContext(ctx); err != nil {
		return fmt.Errorf("push metrics to %s: %w", url, err)
	}
	return nil
}

// withoutLabel gathers from g with the label name removed from every metric.
func withoutLabel(g prometheus.Gatherer, name string) prometheus.Gatherer {
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		mfs, err := g.Gather()
		for _, mf := range mfs {
			for _, m := range mf.Metric {
				// A new slice: the registry shares m.Label with the metric.
				kept := make([]*dto.LabelPair, 0, len(m.Label))
				for _, l := range m.Label {
					if l.GetName() != name {
						kept = append(kept, l)
					}
				}
				m.Label = kept
			}
		}
		return mfs, err
	})
}
