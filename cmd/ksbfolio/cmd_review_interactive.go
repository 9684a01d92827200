package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"golang.org/x/term"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/ledger"
	"github.com/ksbfolio/ksbfolio/internal/termsafe"
	"github.com/ksbfolio/ksbfolio/pipeline/workspace"
)

// maxNoteLen bounds a note typed in review -i.
const maxNoteLen = 1000

// prompt is one question of review -i: a pending suggestion of one KSB on
// one item.
type prompt struct {
	v   ledger.View
	ksb string
}

// session is one review -i walk: the prompts, where it is, and the means to
// record a decision.
type session struct {
	g     *globals
	ws    *workspace.Workspace
	rv    reviewer
	o     reviewOptions
	in    *bufio.Reader
	out   io.Writer // writes "\n" as "\r\n": the terminal is raw
	steps []prompt
	// excluded marks items excluded in this session: their other prompts
	// are passed over.
	excluded map[string]bool
	counts   map[string]int // what was recorded, by action
}

// crlf turns "\n" into "\r\n" for a terminal in raw mode.
type crlf struct{ w io.Writer }

func (c crlf) Write(p []byte) (int, error) {
	if _, err := c.w.Write([]byte(strings.ReplaceAll(string(p), "\n", "\r\n"))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// runInteractive is review -i: one pending suggestion at a time, one key
// per decision, each decision stored as it is made.
func runInteractive(g *globals, o reviewOptions) error {
	f, ok := g.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return usageErrorf("review -i needs a terminal; use review ITEM, or review --ksb IDS --accept-suggested")
	}
	want := map[string]bool(nil)
	if o.ksbs != "" {
		ks, err := splitKSBs(o.ksbs)
		if err != nil {
			return err
		}
		want = map[string]bool{}
		for _, k := range ks {
			want[k] = true
		}
	}
	ws, err := g.workspace("")
	if err != nil {
		return err
	}
	rv, err := newReviewer(g, ws, o)
	if err != nil {
		return err
	}
	snap, err := readSnapshot(g, ws)
	if err != nil {
		return err
	}
	s := &session{g: g, ws: ws, rv: rv, o: o, in: bufio.NewReader(f), excluded: map[string]bool{}, counts: map[string]int{}}
	for _, v := range snap.Views {
		if o.source != "" && v.Item.Source != o.source {
			continue
		}
		for _, k := range pendingSuggestions(v, want) {
			s.steps = append(s.steps, prompt{v, k})
		}
	}
	if len(s.steps) == 0 {
		fmt.Fprintln(g.stdout, "no unreviewed suggestions: nothing to review")
		return nil
	}
	old, err := term.MakeRaw(int(f.Fd()))
	if err != nil {
		return fmt.Errorf("review -i: put the terminal in raw mode: %w", err)
	}
	s.out = crlf{g.stdout}
	err = s.walk()
	_ = term.Restore(int(f.Fd()), old)
	fmt.Fprintln(g.stdout, s.summary())
	if s.total() > 0 {
		if herr := g.hold(ws, "review", o.wait, func(ctx context.Context) error { updateCoverage(ctx, g, ws); return nil }); herr != nil {
			g.log.Warn("coverage not updated", "err", herr)
		}
	}
	return err
}

const interactiveHelp = `y - accept this KSB on this item
n - reject it
s - skip it for now (no decision)
e - exclude the whole item from the portfolio
c - mark the item confidential
m - add a note to the item
b - go back to the previous suggestion
q - quit; what was decided is kept
? - this help
`

// walk asks every prompt in turn until the last is answered or q.
func (s *session) walk() error {
	shownItem := ""
	for i := 0; i < len(s.steps); {
		p := s.steps[i]
		if s.excluded[p.v.Item.ID] {
			i++
			continue
		}
		if p.v.Item.ID != shownItem {
			s.showItem(i, p.v)
			shownItem = p.v.Item.ID
		}
		fmt.Fprintf(s.out, "(%d/%d) Accept %s on this item [y,n,s,e,c,m,b,q,?]? ", i+1, len(s.steps), p.ksb)
		key, err := s.in.ReadByte()
		if err != nil {
			fmt.Fprintln(s.out)
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("review -i: read the terminal: %w", err)
		}
		fmt.Fprintf(s.out, "%s\n", printable(key))
		switch key {
		case 'y':
			err = s.record(p.v, evidence.Decision{Accept: []string{p.ksb}}, "accepted")
			i++
		case 'n':
			err = s.record(p.v, evidence.Decision{Reject: []string{p.ksb}}, "rejected")
			i++
		case 's':
			i++
		case 'e':
			yes := true
			err = s.record(p.v, evidence.Decision{Exclude: &yes}, "excluded")
			s.excluded[p.v.Item.ID] = true
			i++
		case 'c':
			yes := true
			err = s.record(p.v, evidence.Decision{Confidential: &yes}, "marked confidential")
		case 'm':
			var note string
			if note, err = s.readLine("note: "); err == nil && strings.TrimSpace(note) != "" {
				err = s.record(p.v, evidence.Decision{Note: strings.TrimSpace(note)}, "noted")
			}
		case 'b':
			j := i - 1
			for j >= 0 && s.excluded[s.steps[j].v.Item.ID] {
				j--
			}
			if j < 0 {
				fmt.Fprintln(s.out, "this is the first suggestion")
				continue
			}
			delete(s.excluded, s.steps[j].v.Item.ID)
			i, shownItem = j, ""
		case 'q', 3, 4: // q, Ctrl-C, Ctrl-D
			return nil
		default:
			fmt.Fprint(s.out, interactiveHelp)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// showItem prints an item for the reviewer: title, date, source, the
// evidence in brief and each pending suggestion with its statement and the
// rule's reason.
func (s *session) showItem(i int, v ledger.View) {
	q := termsafe.String
	it := v.Item
	fmt.Fprintf(s.out, "\n%s\n%s\n%s  %s (%s)  %s\n", q(it.ID), truncate(it.Title, 100), it.OccurredAt.UTC().Format("2006-01-02"),
		q(it.Source), q(it.SourceType), q(string(it.Kind)))
	if brief := evidenceBrief(it); brief != "" {
		fmt.Fprintf(s.out, "evidence: %s\n", brief)
	}
	fmt.Fprintln(s.out, "suggested:")
	for j := i; j < len(s.steps) && s.steps[j].v.Item.ID == it.ID; j++ {
		k := s.steps[j].ksb
		statement := "[label only]"
		if e, ok := s.ws.Catalogue.Lookup(k); ok && e.Statement != "" {
			statement = e.Statement
		}
		reason := ""
		for _, t := range it.Tags {
			if t.IsRule() && evidence.NormalizeKSB(t.KSB) == k {
				reason = t.Reason
				break
			}
		}
		fmt.Fprintf(s.out, "  %s  %s\n      because: %s\n", q(k), truncate(statement, 100), truncate(reason, 100))
	}
}

// evidenceBrief is one line of what the item holds: its changed paths, or
// its metrics, or the first line of its summary.
func evidenceBrief(it evidence.Item) string {
	const shown = 5
	list := func(xs []string) string {
		more := ""
		if len(xs) > shown {
			more = fmt.Sprintf(" (+%d more)", len(xs)-shown)
			xs = xs[:shown]
		}
		return truncate(strings.Join(xs, ", "), 120) + more
	}
	if files, ok := it.Facts["files"].([]any); ok && len(files) > 0 {
		var paths []string
		for _, f := range files {
			if m, ok := f.(map[string]any); ok {
				if p, ok := m["path"].(string); ok {
					paths = append(paths, p)
				}
			}
		}
		if len(paths) > 0 {
			return "changed " + list(paths)
		}
	}
	if ms, ok := it.Facts["metrics"].(map[string]any); ok && len(ms) > 0 {
		var kv []string
		for k, v := range ms {
			kv = append(kv, fmt.Sprintf("%s=%v", k, v))
		}
		sort.Strings(kv)
		return "metrics " + list(kv)
	}
	first, _, _ := strings.Cut(it.Summary, "\n")
	return truncate(first, 120)
}

// record stores one decision on v at once, under the lease.
func (s *session) record(v ledger.View, d evidence.Decision, what string) error {
	d = s.rv.decide(s.ws, v.Item, d)
	err := s.g.hold(s.ws, "review", s.o.wait, func(ctx context.Context) error {
		_, err := s.ws.Ledger.AddDecision(ctx, v.Item.ID, d)
		return err
	})
	if err != nil {
		return fmt.Errorf("review -i: record the decision on %s: %w", v.Item.ID, err)
	}
	s.counts[what]++
	fmt.Fprintf(s.out, "  %s\n", what)
	return nil
}

// readLine reads a line of text in raw mode: Enter ends it, Backspace
// deletes, Ctrl-C or Escape cancels (""), and printable text is echoed.
func (s *session) readLine(label string) (string, error) {
	fmt.Fprint(s.out, label)
	var b []rune
	for {
		r, _, err := s.in.ReadRune()
		if err != nil {
			return "", fmt.Errorf("review -i: read the note: %w", err)
		}
		switch {
		case r == '\r' || r == '\n':
			fmt.Fprintln(s.out)
			return string(b), nil
		case r == 3 || r == 27:
			fmt.Fprintln(s.out, " (cancelled)")
			return "", nil
		case r == 127 || r == 8:
			if len(b) > 0 {
				b = b[:len(b)-1]
				fmt.Fprint(s.out, "\b \b")
			}
		case r >= 0x20 && len(b) < maxNoteLen:
			b = append(b, r)
			fmt.Fprint(s.out, termsafe.String(string(r)))
		}
	}
}

func printable(b byte) string {
	if b >= 0x20 && b < 0x7f {
		return string(b)
	}
	return fmt.Sprintf("^%c", b+'@')
}

func (s *session) total() int {
	n := 0
	for _, c := range s.counts {
		n += c
	}
	return n
}

func (s *session) summary() string {
	if s.total() == 0 {
		return "nothing recorded"
	}
	var parts []string
	for _, what := range []string{"accepted", "rejected", "excluded", "marked confidential", "noted"} {
		if n := s.counts[what]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, what))
		}
	}
	return fmt.Sprintf("recorded %s: %s", termsafe.Plural(s.total(), "decision", "decisions"), strings.Join(parts, ", "))
}
