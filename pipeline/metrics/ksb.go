package metrics

import (
	"bufio"
	"compress/gzip"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"google.golang.org/protobuf/proto"

	"github.com/ksbfolio/ksbfolio/evidence/coverage"
)

// The per-KSB metrics are most of the series (seven per KSB and
// apprentice: 280 for one apprentice of ST1398, 280,000 for a provider's
// thousand), too many to hold as client_golang metrics (about 700 bytes
// each) or to gather as protobuf messages on each scrape. They are held
// compactly instead (a few numbers per KSB) and written straight out in
// the text format by Handler; Gatherer gives them as messages for the
// small cases (a push of one apprentice, tests).
const (
	ksbStatusName   = "ksbfolio_ksb_status"
	ksbStatusHelp   = "1 for the KSB's current status (confirmed, claimed, suggested or gap), 0 for the others."
	ksbEvidenceName = "ksbfolio_ksb_evidence_items"
	ksbEvidenceHelp = "Items evidencing the KSB, by how (status confirmed, claimed or suggested)."
)

// evidenceStatuses are the status label values of ksbfolio_ksb_evidence_items.
var evidenceStatuses = []string{"confirmed", "claimed", "suggested"}

// ksbRow is what the per-KSB metrics say of one counted KSB.
type ksbRow struct {
	ksb, kind, status string
	evidence          [3]int // items confirming, claiming, suggesting it (evidenceStatuses)
}

// ksbTable holds every apprentice's rows. A slice stored is never changed
// (SetCoverage stores a new one), so a scrape writes a snapshot without
// holding the lock.
type ksbTable struct {
	mu   sync.Mutex
	rows map[string][]ksbRow // by apprentice
}

func (t *ksbTable) set(apprentice string, rep coverage.Report) {
	rows := make([]ksbRow, 0, len(rep.KSBs))
	for _, r := range rep.KSBs {
		if r.Counted {
			rows = append(rows, ksbRow{ksb: r.KSB, kind: r.Kind, status: r.Status,
				evidence: [3]int{len(r.ConfirmedBy), len(r.ClaimedBy), len(r.SuggestedBy)}})
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.rows == nil {
		t.rows = map[string][]ksbRow{}
	}
	t.rows[apprentice] = rows
}

func (t *ksbTable) delete(apprentice string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.rows, apprentice)
}

// snapshot returns the apprentices (sorted) and their rows.
func (t *ksbTable) snapshot() ([]string, map[string][]ksbRow) {
	t.mu.Lock()
	defer t.mu.Unlock()
	rows := make(map[string][]ksbRow, len(t.rows))
	ids := make([]string, 0, len(t.rows))
	for id, r := range t.rows {
		rows[id] = r
		if len(r) > 0 {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, rows
}

// each calls fn for every sample of the family name, in order: the
// labels apprentice, kind, ksb, status and the value.
func each(name string, ids []string, rows map[string][]ksbRow, fn func(apprentice, kind, ksb, status string, v float64)) {
	for _, id := range ids {
		for _, r := range rows[id] {
			if name == ksbStatusName {
				for _, s := range statuses {
					fn(id, r.kind, r.ksb, s, boolValue(r.status == s))
				}
				continue
			}
			for i, s := range evidenceStatuses {
				fn(id, r.kind, r.ksb, s, float64(r.evidence[i]))
			}
		}
	}
}

var ksbFamilies = []struct{ name, help string }{{ksbStatusName, ksbStatusHelp}, {ksbEvidenceName, ksbEvidenceHelp}}

// gather returns the per-KSB families as messages.
func (t *ksbTable) gather() []*dto.MetricFamily {
	ids, rows := t.snapshot()
	if len(ids) == 0 {
		return nil
	}
	var mfs []*dto.MetricFamily
	for _, f := range ksbFamilies {
		mf := &dto.MetricFamily{Name: proto.String(f.name), Help: proto.String(f.help), Type: dto.MetricType_GAUGE.Enum()}
		each(f.name, ids, rows, func(apprentice, kind, ksb, status string, v float64) {
			mf.Metric = append(mf.Metric, &dto.Metric{Gauge: &dto.Gauge{Value: proto.Float64(v)}, Label: []*dto.LabelPair{
				{Name: proto.String("apprentice"), Value: proto.String(apprentice)},
				{Name: proto.String("kind"), Value: proto.String(kind)},
				{Name: proto.String("ksb"), Value: proto.String(ksb)},
				{Name: proto.String("status"), Value: proto.String(status)},
			}})
		})
		mfs = append(mfs, mf)
	}
	return mfs
}

// labelValue escapes a label value for the text format.
var labelValue = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// writeText writes the per-KSB families in the text format.
func (t *ksbTable) writeText(w *bufio.Writer) {
	ids, rows := t.snapshot()
	if len(ids) == 0 {
		return
	}
	var num []byte
	for _, f := range ksbFamilies {
		w.WriteString("# HELP " + f.name + " " + f.help + "\n# TYPE " + f.name + " gauge\n")
		each(f.name, ids, rows, func(apprentice, kind, ksb, status string, v float64) {
			w.WriteString(f.name + `{apprentice="`)
			labelValue.WriteString(w, apprentice)
			w.WriteString(`",kind="`)
			labelValue.WriteString(w, kind)
			w.WriteString(`",ksb="`)
			labelValue.WriteString(w, ksb)
			w.WriteString(`",status="` + status + `"} `)
			num = strconv.AppendFloat(num[:0], v, 'g', -1, 64)
			w.Write(num)
			w.WriteByte('\n')
		})
	}
}

// Gatherer returns what reg (the registry given to New) gathers plus the
// per-KSB metrics: every metric, as messages. For pushes and tests; serve
// answers scrapes with Handler.
func (m *Metrics) Gatherer(reg prometheus.Gatherer) prometheus.Gatherer {
	return prometheus.Gatherers{reg, prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return m.ksb.gather(), nil })}
}

// Handler answers a scrape with what Gatherer(reg) gathers, in the text
// format (gzip-compressed when the client accepts it), the per-KSB metrics
// written straight from memory.
func (m *Metrics) Handler(reg prometheus.Gatherer) http.Handler {
	format := expfmt.NewFormat(expfmt.TypeTextPlain)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mfs, err := reg.Gather()
		if err != nil {
			http.Error(w, "gather metrics: "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", string(format))
		var out io.Writer = w
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			w.Header().Set("Content-Encoding", "gzip")
			gz, _ := gzip.NewWriterLevel(w, gzip.BestSpeed) // a valid level: no error
			defer gz.Close()
			out = gz
		}
		bw := bufio.NewWriterSize(out, 64<<10)
		enc := expfmt.NewEncoder(bw, format)
		for _, mf := range mfs {
			if err := enc.Encode(mf); err != nil {
				return // the client went away
			}
		}
		m.ksb.writeText(bw)
		_ = bw.Flush() // an error: the client went away
	})
}
