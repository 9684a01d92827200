package prometheus

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkParseExposition parses a 4,000-series OpenMetrics snapshot
// (go test -run X -bench ParseExposition ./collectors/prometheus/).
func BenchmarkParseExposition(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("# TYPE model_requests counter\n")
	for i := range 4000 {
		fmt.Fprintf(&sb, "model_requests_total{model=\"m%d\",code=\"200\"} %d\nmodel_requests_created{model=\"m%d\",code=\"200\"} 1.7645e9\n", i, i, i)
	}
	sb.WriteString("# EOF\n")
	in := []byte(sb.String())
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		snap, err := ParseExposition(in)
		if err != nil || len(snap.Created) != 4000 {
			b.Fatalf("%v, %d created", err, len(snap.Created))
		}
	}
}
