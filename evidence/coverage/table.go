package coverage

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/ksbfolio/ksbfolio/internal/termsafe"
)

// excerptLen is the most runes of a statement the table shows.
const excerptLen = 60

// WriteTable writes the report for a person. KSBs come in groups: first
// those the portfolio covers, then the catalogue's others ("also shown,
// not counted"), then tagged KSBs the catalogue lacks; within the first
// two, one group per assessment method and grade theme, in the order of
// the report's Methods. Each line
// has the KSB's ID, kind, status, how many items confirm, claim and
// suggest it,
// and an excerpt of its statement. Then come the summary, the version of
// the standard that applies, overruled decisions, signatures that do not
// verify, stale tags and readiness. It returns the
// first write error.
func (r Report) WriteTable(w io.Writer) error {
	ew := &termsafe.ErrWriter{W: w}
	widths := [3]int{len("KSB"), len("KIND"), len("STATUS")}
	for _, row := range r.KSBs {
		for i, s := range []string{oneLine(row.KSB), oneLine(row.Kind), row.Status} {
			widths[i] = max(widths[i], utf8.RuneCountInString(s))
		}
	}
	line := func(id, kind, status, co, cl, su, text string) {
		fmt.Fprintf(ew, "%-*s  %-*s  %-*s  %-9s  %-7s  %-9s  %s\n", widths[0], id, widths[1], kind, widths[2], status, co, cl, su, text)
	}
	rows := func(pick func(Row) bool) {
		for _, g := range groups(r, pick) {
			if g.title != "" {
				fmt.Fprintf(ew, "· %s\n", g.title)
			}
			for _, row := range g.rows {
				line(oneLine(row.KSB), oneLine(row.Kind), row.Status, fmt.Sprint(len(row.ConfirmedBy)),
					fmt.Sprint(len(row.ClaimedBy)), fmt.Sprint(len(row.SuggestedBy)), excerpt(row))
			}
		}
	}
	inCatalogue := func(row Row) bool { return row.Status != NotInCatalogue }
	fmt.Fprintf(ew, "The portfolio covers the %d KSBs %s:\n", r.Summary.Total, oneLine(r.Covers.Name))
	line("KSB", "KIND", "STATUS", "CONFIRMED", "CLAIMED", "SUGGESTED", "STATEMENT")
	rows(func(row Row) bool { return inCatalogue(row) && row.Counted })
	if r.Others.Total > 0 {
		fmt.Fprintf(ew, "\nAlso shown, not counted: the other %d KSBs%s\n", r.Others.Total, othersWhy(r))
		rows(func(row Row) bool { return inCatalogue(row) && !row.Counted })
	}
	if extra := len(r.KSBs) - r.Summary.Total - r.Others.Total; extra > 0 {
		fmt.Fprintf(ew, "\nTagged on evidence but not in catalogue %s:\n", oneLine(r.Catalogue))
		rows(func(row Row) bool { return !inCatalogue(row) })
	}

	catalogue := ""
	if r.Covers.Set != CoversAll {
		catalogue = " of catalogue " + oneLine(r.Catalogue)
	}
	if !r.Complete {
		catalogue += " (incomplete)"
	}
	fmt.Fprintf(ew, "\n%d confirmed, %d claimed, %d suggested, %d gap, of %d KSBs %s%s\n",
		r.Summary.Confirmed, r.Summary.Claimed, r.Summary.Suggested, r.Summary.Gap, r.Summary.Total, oneLine(r.Covers.Name), catalogue)
	if o := r.Others; o.Total > 0 {
		fmt.Fprintf(ew, "also: %d confirmed, %d claimed of the other %d KSBs (%d suggested, %d gap)\n", o.Confirmed, o.Claimed, o.Total, o.Suggested, o.Gap)
	}
	if n := len(r.Conflicts); n > 0 {
		fmt.Fprintf(ew, "%s not apply (ksbfolio show ITEM lists them and why):\n", termsafe.Plural(n, "decision did", "decisions did"))
		for i, c := range r.Conflicts {
			if i == maxListed {
				fmt.Fprintf(ew, "  … and %d more\n", n-maxListed)
				break
			}
			fmt.Fprintf(ew, "  %s %s\n", oneLine(c.Item), c.Describe(oneLine))
		}
	}
	if r.Unverified > 0 {
		fmt.Fprintf(ew, "%s not verify and counted no higher than claimed: run `ksbfolio verify-reviews`\n",
			termsafe.Plural(r.Unverified, "signed decision does", "signed decisions do"))
	}
	if extra := len(r.KSBs) - r.Summary.Total - r.Others.Total; extra > 0 {
		fmt.Fprintf(ew, "%s not in the catalogue\n", termsafe.Plural(extra, "tagged KSB", "tagged KSBs"))
	}
	if r.Version != nil {
		fmt.Fprintf(ew, "standard: %s\n", oneLine(r.Version.Note))
	}
	if r.StaleItems > 0 {
		fmt.Fprintf(ew, "%s tagged against another catalogue or an earlier revision of %s: run `ksbfolio retag`\n",
			termsafe.Plural(r.StaleItems, "item was", "items were"), oneLine(r.Catalogue))
	}
	ready := "no"
	if r.Ready {
		ready = "yes"
	}
	fmt.Fprintf(ew, "gateway ready: %s — %s\n", ready, oneLine(r.ReadyReason))
	if ew.Err != nil {
		return fmt.Errorf("write coverage table: %w", ew.Err)
	}
	return nil
}

// othersWhy says why the other KSBs are not counted: ", assessed by the
// project:" when they share one method, ":" otherwise.
func othersWhy(r Report) string {
	method := ""
	for _, row := range r.KSBs {
		if row.Status == NotInCatalogue || row.Counted {
			continue
		}
		if row.Method == "" || method != "" && row.Method != method {
			return ":"
		}
		method = row.Method
	}
	name := strings.ReplaceAll(method, "_", " ")
	for _, m := range r.Methods {
		if m.ID == method && m.Name != "" {
			name = m.Name
		}
	}
	return ", assessed by the " + oneLine(name) + ":"
}

// group is one block of the table.
type group struct {
	title string
	rank  int
	rows  []Row
}

// groups splits the rows pick selects by method and grade theme. Groups
// come in the report's order of methods (the covers set's method first) and
// of themes within a method; rows with a method or theme the report does
// not list come after, in order of appearance; rows keep their order
// within a group.
func groups(r Report, pick func(Row) bool) []group {
	type key struct{ method, theme string }
	rank := map[key]int{}
	names := map[string]string{}
	methods := slices.Clone(r.Methods)
	slices.SortStableFunc(methods, func(a, b Method) int {
		return boolRank(a.ID != r.Covers.Set) - boolRank(b.ID != r.Covers.Set)
	})
	for _, m := range methods {
		names[m.ID] = m.Name
		for _, th := range m.Themes {
			if _, ok := rank[key{m.ID, th}]; !ok {
				rank[key{m.ID, th}] = len(rank)
			}
		}
	}
	var out []group
	index := map[key]int{}
	for _, row := range r.KSBs {
		if !pick(row) {
			continue
		}
		k := key{row.Method, row.GradeTheme}
		i, ok := index[k]
		if !ok {
			g := group{rank: len(r.KSBs) + len(out)}
			if rk, ok := rank[k]; ok {
				g.rank = rk
			}
			name := names[k.method]
			if name == "" {
				name = strings.ReplaceAll(k.method, "_", " ")
			}
			var parts []string
			for _, p := range []string{oneLine(name), oneLine(k.theme)} {
				if p != "" {
					parts = append(parts, p)
				}
			}
			g.title = strings.Join(parts, " — ")
			i = len(out)
			index[k] = i
			out = append(out, g)
		}
		out[i].rows = append(out[i].rows, row)
	}
	slices.SortStableFunc(out, func(a, b group) int { return a.rank - b.rank })
	return out
}

// plural writes n and the singular or the plural.
func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// excerpt is the statement column: the statement cut to excerptLen runes,
// or "-".
func excerpt(row Row) string {
	text := oneLine(row.Statement)
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
// space, so that text from a catalogue cannot break the table.
func oneLine(s string) string {
	return termsafe.String(strings.Join(strings.Fields(s), " "))
}
