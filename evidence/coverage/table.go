package coverage

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/ksbfolio/ksbfolio/evidence/ksb"
	"github.com/ksbfolio/ksbfolio/internal/termsafe"
)

// excerptLen is the most runes of a statement the table shows.
const excerptLen = 60

// WriteTable writes the report for a person: one line per KSB (ID, kind,
// status, how many items evidence it and how many suggest it, and an
// excerpt of its statement, a label marked "[label]"), then a summary line
// and a readiness line. It returns the first write error.
func (r Report) WriteTable(w io.Writer) error {
	ew := &errWriter{w: w}
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KSB\tKIND\tSTATUS\tEVIDENCED\tSUGGESTED\tSTATEMENT")
	for _, row := range r.KSBs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\n", oneLine(row.KSB), oneLine(row.Kind), oneLine(string(row.Status)),
			len(row.EvidencedBy), len(row.SuggestedBy), excerpt(row))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write coverage table: %w", err)
	}
	catalogue := oneLine(r.Catalogue)
	if !r.Complete {
		catalogue += ", incomplete"
	}
	fmt.Fprintf(ew, "\n%d evidenced, %d suggested, %d gap, of %d KSBs (catalogue %s)\n",
		r.Summary.Evidenced, r.Summary.Suggested, r.Summary.Gap, r.Summary.Total, catalogue)
	if extra := len(r.KSBs) - r.Summary.Total; extra > 0 {
		fmt.Fprintf(ew, "%d tagged KSB(s) not in the catalogue\n", extra)
	}
	ready := "no"
	if r.Ready {
		ready = "yes"
	}
	fmt.Fprintf(ew, "gateway ready: %s — %s\n", ready, oneLine(r.ReadyReason))
	if ew.err != nil {
		return fmt.Errorf("write coverage table: %w", ew.err)
	}
	return nil
}

// excerpt is the statement column: the statement cut to excerptLen runes,
// or "[label] " and the label, or "-".
func excerpt(row Row) string {
	text := oneLine(row.Label)
	if rest, ok := strings.CutPrefix(text, ksb.LabelOnlyMarker); ok {
		text = "[label] " + strings.TrimSpace(rest)
	}
	if text == "" {
		return "-"
	}
	if utf8.RuneCountInString(text) <= excerptLen {
		return text
	}
	runes := []rune(text)
	return strings.TrimRight(string(runes[:excerptLen-1]), " ") + "…"
}

// oneLine folds runs of white space (tabs and newlines included) to one
// space, so that text from a catalogue cannot break the table, and
// escapes what a terminal would act on (termsafe.String).
func oneLine(s string) string {
	return termsafe.String(strings.Join(strings.Fields(s), " "))
}

// errWriter keeps the first error and drops later writes.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	if err != nil {
		e.err = err
	}
	return n, err
}
