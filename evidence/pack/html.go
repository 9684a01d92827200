package pack

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/coverage"
	"github.com/ksbfolio/ksbfolio/pipeline"
)

// maxText caps each source string shown on the page (facts, excerpts).
const maxText = 2000

// itemPage is one item's section.
type itemPage struct {
	*Chosen
	N         int
	Anchor    string
	Dir       string
	Artefacts []artefactView
	Facts     []kv
	Numbers   []kv // the numeric facts, for the discussion brief
	Tags      []tagView
	Links     []linkView
	Backlinks []linkView
	Reviews   []reviewView
	WebURL    string
}

type artefactView struct {
	evidence.Artefact
	Path string // inside the pack; "" when not copied
	Note string
	SVG  []byte
}

// DataURL is the artefact as an <img> source: only ever an SVG we copied,
// base64-encoded, which an <img> never runs scripts from.
func (a artefactView) DataURL() template.URL {
	return template.URL("data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString(a.SVG))
}

type kv struct{ K, V string }

type tagView struct {
	KSB   string
	Level string
	By    string
}

type linkView struct {
	Rel    string
	Item   string
	Anchor string // "" when the item is not in the pack
	Title  string
}

type reviewView struct {
	At, By, Role, Action, Note, Signature string
}

type ksbRow struct {
	ID, Kind, Statement, Level, Theme string
	Methods                           []string
	Items                             []ksbItem
}

type ksbItem struct {
	N       int
	Anchor  string
	Level   string
	Date    string
	Kind    string
	Title   string
	Numbers []kv
}

type theme struct {
	Name string
	KSBs []ksbRow
}

type bar struct {
	Label      string
	Count      int
	X, W, Y, H int
	Class      string
}

type page struct {
	Title, Apprentice, Employer, Standard, Catalogue, Revision string
	From, To, Generated                                        string
	Counts                                                     []bar
	Total                                                      int
	Uncovered                                                  []string
	Ledger                                                     coverage.Summary
	Matrix                                                     []ksbRow
	Themes                                                     []theme
	Project                                                    []ksbRow
	Items                                                      []itemPage
	Withheld                                                   []Withheld
	Excluded, MaxItems                                         int
}

func renderIndex(in Input, sel Selection, pages []itemPage, gen time.Time) ([]byte, error) {
	cat := in.Catalogue
	byID := map[string]*itemPage{}
	for i := range pages {
		pages[i].N = i + 1
		byID[pages[i].View.Item.ID] = &pages[i]
	}
	// Backlinks and titles come from the selected items only: an excluded
	// or withheld item shows nowhere, not even as the other end of a link.
	selected := make([]evidence.Item, len(pages))
	for i := range pages {
		selected[i] = pages[i].View.Item
	}
	back := pipeline.Backlinks(selected)
	link := func(l evidence.Link) linkView {
		lv := linkView{Rel: l.Rel, Item: l.Item, Title: "(not in this pack)"}
		if p := byID[l.Item]; p != nil {
			lv.Anchor = p.Anchor
			lv.Title = clip(p.View.Item.Title, 120)
		}
		return lv
	}
	var from, to time.Time
	for i := range pages {
		pg := &pages[i]
		it := &pg.View.Item
		if from.IsZero() || it.OccurredAt.Before(from) {
			from = it.OccurredAt
		}
		if it.OccurredAt.After(to) {
			to = it.OccurredAt
		}
		pg.Facts, pg.Numbers = facts(it.Facts)
		if u, ok := it.Facts["web_url"].(string); ok && (strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://")) {
			pg.WebURL = u
		}
		for _, k := range sortedLevels(pg.Levels) {
			by := []string{}
			for _, t := range it.Tags {
				if evidence.NormalizeKSB(t.KSB) == k {
					by = append(by, t.By)
				}
			}
			if vd, ok := pg.View.State.Accepted[k]; ok {
				by = append(by, "accepted by "+vd.Decision.Role+" "+vd.Decision.By)
			}
			pg.Tags = append(pg.Tags, tagView{KSB: k, Level: pg.Levels[k].String(), By: strings.Join(by, ", ")})
		}
		for _, l := range it.Links {
			pg.Links = append(pg.Links, link(l))
		}
		for _, l := range back[it.ID] {
			pg.Backlinks = append(pg.Backlinks, link(l))
		}
		if rv := pg.View.Review; rv != nil {
			for j, d := range rv.Decisions {
				r := reviewView{At: d.At.UTC().Format(time.RFC3339), By: d.By, Role: d.Role, Action: action(d), Note: clip(d.Note, maxText)}
				if j < len(pg.View.State.Checks) {
					r.Signature = string(pg.View.State.Checks[j].Status)
				}
				pg.Reviews = append(pg.Reviews, r)
			}
		}
	}
	p := page{
		Title: "Evidence portfolio", Apprentice: in.Who.Apprentice, Employer: in.Who.Employer,
		Standard:  strings.TrimSpace(fmt.Sprintf("%s %s, version %s", cat.Reference, cat.Title, cat.Version)),
		Catalogue: cat.ID, Revision: cat.Revision(), Generated: gen.Format("2006-01-02 15:04 UTC"),
		Uncovered: sel.Uncovered, Ledger: in.Coverage.Summary, Items: pages, Withheld: sel.Withheld,
		Excluded: sel.Excluded, MaxItems: sel.Max,
	}
	if p.Apprentice == "" {
		p.Apprentice = in.Snapshot.Apprentice
	}
	if !from.IsZero() {
		p.From, p.To = from.UTC().Format("2006-01-02"), to.UTC().Format("2006-01-02")
	}
	row := func(id string) ksbRow {
		k, _ := cat.Lookup(id)
		r := ksbRow{ID: id, Kind: k.Kind, Statement: k.Statement, Theme: k.GradeTheme, Methods: k.Methods, Level: sel.Covered[id].String()}
		if sel.Covered[id] == None {
			r.Level = "gap"
		}
		for i := range pages {
			pg := &pages[i]
			if l := pg.Levels[id]; l != None {
				r.Items = append(r.Items, ksbItem{N: pg.N, Anchor: pg.Anchor, Level: l.String(),
					Date: pg.View.Item.OccurredAt.UTC().Format("2006-01-02"), Kind: string(pg.View.Item.Kind),
					Title: clip(pg.View.Item.Title, 160), Numbers: pg.Numbers})
			}
		}
		return r
	}
	counts := map[string]int{}
	for _, id := range in.Coverage.Covers.KSBs {
		r := row(id)
		counts[r.Level]++
		p.Matrix = append(p.Matrix, r)
	}
	p.Total = len(p.Matrix)
	x := 0
	for _, s := range []string{"confirmed", "claimed", "suggested", "gap"} {
		w := 0
		if p.Total > 0 {
			w = counts[s] * 600 / p.Total
		}
		p.Counts = append(p.Counts, bar{Label: s, Count: counts[s], X: x, W: w, Y: 0, H: 28, Class: s})
		x += w
	}
	if m, ok := cat.Method(coverage.DefaultMethod); ok {
		for _, th := range m.Themes {
			t := theme{Name: th}
			for _, id := range cat.AssessedBy(coverage.DefaultMethod) {
				if k, _ := cat.Lookup(id); k.GradeTheme == th {
					t.KSBs = append(t.KSBs, row(id))
				}
			}
			p.Themes = append(p.Themes, t)
		}
	}
	for _, k := range cat.KSBs {
		if slices.Contains(k.Methods, "project") {
			p.Project = append(p.Project, row(k.ID))
		}
	}
	var b bytes.Buffer
	if err := indexTemplate.Execute(&b, p); err != nil {
		return nil, fmt.Errorf("render index.html: %w", err)
	}
	return b.Bytes(), nil
}

func sortedLevels(m map[string]Level) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.SortFunc(ks, evidence.CompareKSB)
	return ks
}

// facts renders an item's facts, sorted by name, and picks out the
// numeric ones.
func facts(m map[string]any) (all, nums []kv) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		var s string
		switch v := m[k].(type) {
		case string:
			s = v
		case float64:
			s = strconv.FormatFloat(v, 'g', -1, 64)
			nums = append(nums, kv{k, s})
		case int, int64:
			s = fmt.Sprint(v)
			nums = append(nums, kv{k, s})
		case bool:
			s = strconv.FormatBool(v)
		default:
			b, _ := json.Marshal(v)
			s = string(b)
		}
		all = append(all, kv{k, clip(s, maxText)})
	}
	return all, nums
}

func action(d evidence.Decision) string {
	var a []string
	if len(d.Accept) > 0 {
		a = append(a, "accept "+strings.Join(d.Accept, " "))
	}
	if len(d.Reject) > 0 {
		a = append(a, "reject "+strings.Join(d.Reject, " "))
	}
	if d.Exclude != nil {
		a = append(a, "exclude="+strconv.FormatBool(*d.Exclude))
	}
	if d.Confidential != nil {
		a = append(a, "confidential="+strconv.FormatBool(*d.Confidential))
	}
	return strings.Join(a, "; ")
}

// clip cuts s to at most n bytes on a rune boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

var indexTemplate = template.Must(template.New("index").Parse(indexHTML))
