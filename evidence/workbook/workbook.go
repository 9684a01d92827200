// Package workbook writes the assessor workbook: an .xlsx file with the
// sheets Summary (figures and a coverage chart), Matrix (KSB rows ×
// evidence columns), Evidence (the register: every field of every item),
// Gaps and Review (accept/reject/exclude/reviewer columns that
// ReadReview reads back).
//
// Every value that comes from a source (titles, summaries, messages,
// facts, URLs) is written as a string cell: a commit message starting
// with =, +, - or @ stays text and never becomes a formula. The large
// sheets (Matrix, Evidence, Review) are written with excelize's stream
// writer, so memory grows with the number of items, not the number of
// cells held.
package workbook

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/coverage"
	"github.com/ksbfolio/ksbfolio/evidence/ledger"
)

// Sheet names, in the workbook's order.
const (
	SheetSummary  = "Summary"
	SheetMatrix   = "Matrix"
	SheetEvidence = "Evidence"
	SheetGaps     = "Gaps"
	SheetReview   = "Review"
)

// Sheets lists the sheet names in order.
var Sheets = []string{SheetSummary, SheetMatrix, SheetEvidence, SheetGaps, SheetReview}

// MaxMatrixItems is how many evidence columns the Matrix holds at most
// (a spreadsheet has 16,384 columns); the Evidence sheet always lists
// every item.
const MaxMatrixItems = 16000

// MaxLinkedItems is how many items (the first, in the Evidence sheet's
// order) get clickable hyperlinks to their pack folder and web URL.
// Beyond it the path and the URL are still there, as text: each link
// costs excelize a scan of every link before it, so links are kept to a
// number a pack's selection fits in.
const MaxLinkedItems = 1000

// Review sheet column headers that ReadReview looks for (by name, so the
// columns may be moved).
const (
	ColItem     = "Item"
	ColAccept   = "Accept"
	ColReject   = "Reject"
	ColExclude  = "Exclude"
	ColReviewer = "Reviewer"
	ColRole     = "Role"
	ColNote     = "Note"
)

// ColDidNotApply is the column, on the Evidence and the Review sheets,
// that lists an item's decisions that did not apply (its review's
// Conflicts), one a line, in the words of ksbfolio show: "S10: Pat
// (coach) reject on 2026-03-01 09:00 stands over Ada (apprentice) accept
// on 2026-03-02 10:00". ReadReview ignores it.
const ColDidNotApply = "Decisions that did not apply"

// Input is what the workbook shows. Snapshot and Coverage must describe
// the same ledger read (pipeline.SnapshotCoverage of the snapshot).
type Input struct {
	Snapshot *ledger.Snapshot
	Coverage coverage.Report
	// ItemDir returns an item's folder in the pack, relative to the
	// workbook ("evidence/01-fix-drift-check"); the Evidence sheet links
	// it. Nil: DefaultItemDirs of the snapshot.
	ItemDir func(itemID string) string
	// Generated is the time printed on the Summary (zero: Coverage's
	// GeneratedAt).
	Generated time.Time
	// ShowConfidential writes the content of items a review marked
	// confidential. Without it they are listed as withheld: ID, kind,
	// source, dates, KSBs and status only, their title "(confidential:
	// withheld)" and every other field empty (the decisions that did not
	// apply too, since they name the reviewers).
	ShowConfidential bool
}

// Withheld is the title of a confidential item whose content is withheld.
const Withheld = "(confidential: withheld)"

// withhold returns v without the content of a confidential item, unless
// in shows it.
func (in Input) withhold(v ledger.View) ledger.View {
	if !v.Confidential || in.ShowConfidential {
		return v
	}
	it := v.Item
	v.Item = evidence.Item{Schema: it.Schema, ID: it.ID, Apprentice: it.Apprentice, Source: it.Source, SourceType: it.SourceType,
		Kind: it.Kind, Title: Withheld, OccurredAt: it.OccurredAt, CollectedAt: it.CollectedAt, Tags: bareTags(it.Tags)}
	v.Tags = bareTags(v.Tags)
	v.State.Conflicts = nil
	return v
}

// bareTags is tags without their reasons.
func bareTags(tags []evidence.Tag) []evidence.Tag {
	out := make([]evidence.Tag, len(tags))
	for i, t := range tags {
		out[i] = evidence.Tag{KSB: t.KSB, By: t.By, Confidence: t.Confidence, Catalogue: t.Catalogue}
	}
	return out
}

// DefaultItemDirs numbers the snapshot's items that are not excluded, in
// its order, as the pack lays them out: "evidence/NN-<slug>" with NN
// from 01 (wider when there are 100 items or more) and the slug of the
// title (lower-case letters, digits and dashes, at most 40; "item" when
// empty).
func DefaultItemDirs(snap *ledger.Snapshot) map[string]string {
	n := 0
	for _, v := range snap.Views {
		if !v.Excluded {
			n++
		}
	}
	width := max(2, len(fmt.Sprint(n)))
	out := make(map[string]string, n)
	i := 0
	for _, v := range snap.Views {
		if v.Excluded {
			continue
		}
		i++
		out[v.Item.ID] = fmt.Sprintf("evidence/%0*d-%s", width, i, Slug(v.Item.Title))
	}
	return out
}

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

// Slug is s in lower case with every run of other characters a dash, at
// most 40 characters, never empty ("item").
func Slug(s string) string {
	s = strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(s), "-"), "-")
	if len(s) > 40 {
		s = strings.TrimRight(s[:40], "-")
	}
	if s == "" {
		return "item"
	}
	return s
}

// Write writes the workbook of in to w.
func Write(w io.Writer, in Input) error {
	if in.Snapshot == nil {
		return fmt.Errorf("workbook: no snapshot")
	}
	f := excelize.NewFile()
	defer f.Close()
	dir := in.ItemDir
	if dir == nil {
		dirs := DefaultItemDirs(in.Snapshot)
		dir = func(id string) string { return dirs[id] }
	}
	b := &builder{f: f, in: in, dir: dir}
	if err := f.SetSheetName("Sheet1", SheetSummary); err != nil {
		return err
	}
	for _, s := range Sheets[1:] {
		if _, err := f.NewSheet(s); err != nil {
			return fmt.Errorf("add sheet %s: %w", s, err)
		}
	}
	steps := []struct {
		name string
		fn   func() error
	}{
		{SheetSummary, b.summary},
		{SheetMatrix, b.matrix},
		{SheetEvidence, b.evidence},
		{SheetGaps, b.gaps},
		{SheetReview, b.review},
	}
	for _, s := range steps {
		if err := s.fn(); err != nil {
			return fmt.Errorf("write sheet %s: %w", s.name, err)
		}
	}
	// The same ledger gives the same bytes (a pack is reproducible): the
	// document's times are the generation time, never the clock's.
	gen := in.Generated
	if gen.IsZero() {
		gen = in.Coverage.GeneratedAt
	}
	stamp := gen.UTC().Truncate(time.Second).Format(time.RFC3339)
	if err := f.SetDocProps(&excelize.DocProperties{Creator: "ksbfolio", Created: stamp, Modified: stamp}); err != nil {
		return fmt.Errorf("write workbook properties: %w", err)
	}
	// Summary, the first sheet, is the active one; SetActiveSheet would
	// read the streamed sheets back.
	var raw bytes.Buffer
	if _, err := f.WriteTo(&raw); err != nil {
		return fmt.Errorf("write workbook: %w", err)
	}
	return normalize(w, raw.Bytes(), gen)
}

// maxPart bounds the part of the workbook normalize reads back.
const maxPart = 1 << 30

// defaultType is one <Default …/> of [Content_Types].xml.
var defaultType = regexp.MustCompile(`<Default [^>]*>(?:</Default>)?`)

// sortDefaults puts the <Default> entries of [Content_Types].xml, which
// excelize writes in map order, in a fixed order.
func sortDefaults(b []byte) []byte {
	locs := defaultType.FindAllIndex(b, -1)
	if len(locs) < 2 {
		return b
	}
	parts := make([]string, len(locs))
	for i, l := range locs {
		parts[i] = string(b[l[0]:l[1]])
	}
	sort.Strings(parts)
	// The entries stand together: replace the run from the first to the
	// last with the sorted ones, keeping anything between them out of it.
	var out bytes.Buffer
	out.Write(b[:locs[0][0]])
	prev := locs[0][0]
	for i, l := range locs {
		out.Write(b[prev:l[0]])
		out.WriteString(parts[i])
		prev = l[1]
	}
	out.Write(b[prev:])
	return out.Bytes()
}

// normalize copies the XLSX zip in b to w with its parts in name order
// and every part's time set to t: excelize writes its parts in map order,
// so without this two workbooks of the same ledger differ in bytes. The
// parts are copied compressed, as excelize wrote them (the same content
// deflates to the same bytes); only [Content_Types].xml, whose entries
// excelize also writes in map order, is read and written again.
func normalize(w io.Writer, b []byte, t time.Time) error {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return fmt.Errorf("write workbook: reread: %w", err)
	}
	parts := slices.Clone(zr.File)
	slices.SortFunc(parts, func(a, b *zip.File) int { return strings.Compare(a.Name, b.Name) })
	zw := zip.NewWriter(w)
	date, clock := msDosTime(t)
	for _, p := range parts {
		if err := copyPart(zw, p, t, date, clock); err != nil {
			return fmt.Errorf("write workbook: %s: %w", p.Name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("write workbook: %w", err)
	}
	return nil
}

// copyPart copies p to zw, its time set to t (date and clock: t in
// MS-DOS form).
func copyPart(zw *zip.Writer, p *zip.File, t time.Time, date, clock uint16) error {
	if p.Name == "[Content_Types].xml" {
		rc, err := p.Open()
		if err != nil {
			return err
		}
		data, err := io.ReadAll(io.LimitReader(rc, maxPart))
		rc.Close()
		if err != nil {
			return err
		}
		hw, err := zw.CreateHeader(&zip.FileHeader{Name: p.Name, Method: zip.Deflate, Modified: t.UTC()})
		if err != nil {
			return err
		}
		_, err = hw.Write(sortDefaults(data))
		return err
	}
	raw, err := p.OpenRaw()
	if err != nil {
		return err
	}
	fh := p.FileHeader
	fh.Modified, fh.ModifiedDate, fh.ModifiedTime = t.UTC(), date, clock
	hw, err := zw.CreateRaw(&fh)
	if err != nil {
		return err
	}
	_, err = io.Copy(hw, raw)
	return err
}

// msDosTime is t (UTC) as a zip entry's MS-DOS date and time, which count
// from 1980 to 2107 in two-second steps; a t outside is the nearest end.
func msDosTime(t time.Time) (date, clock uint16) {
	t = t.UTC()
	switch {
	case t.Year() < 1980:
		t = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	case t.Year() > 2107:
		t = time.Date(2107, 12, 31, 23, 59, 58, 0, time.UTC)
	}
	date = uint16(t.Day() + int(t.Month())<<5 + (t.Year()-1980)<<9)
	clock = uint16(t.Second()/2 + t.Minute()<<5 + t.Hour()<<11)
	return date, clock
}

type builder struct {
	f   *excelize.File
	in  Input
	dir func(string) string
	// header is the bold header style.
	header int
}

func (b *builder) headerStyle() (int, error) {
	if b.header != 0 {
		return b.header, nil
	}
	id, err := b.f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true},
		Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDE4EE"}}})
	b.header = id
	return id, err
}

// str makes a string cell: never a formula, whatever s starts with.
func str(s string) excelize.Cell { return excelize.Cell{Value: s} }

func (b *builder) summary() error {
	f, r := b.f, b.in.Coverage
	gen := b.in.Generated
	if gen.IsZero() {
		gen = r.GeneratedAt
	}
	excluded := 0
	for _, v := range b.in.Snapshot.Views {
		if v.Excluded {
			excluded++
		}
	}
	s := r.Summary
	rows := [][2]any{
		{"Apprentice", b.in.Snapshot.Apprentice},
		{"Catalogue", r.Catalogue},
		{"Catalogue revision", r.Revision},
		{"Covers", r.Covers.Set},
		{"Generated", gen.UTC().Format(time.RFC3339)},
		{"Items", len(b.in.Snapshot.Views)},
		{"Items excluded by review", excluded},
		{"Ready for gateway", r.Ready},
		{"Readiness", r.ReadyReason},
		{"", ""},
		{"Status", "KSBs"},
		{coverage.Confirmed, s.Confirmed},
		{coverage.Claimed, s.Claimed},
		{coverage.Suggested, s.Suggested},
		{coverage.Gap, s.Gap},
		{"total", s.Total},
	}
	for i, row := range rows {
		for j, v := range row {
			cell, _ := excelize.CoordinatesToCellName(j+1, i+1)
			var err error
			if sv, ok := v.(string); ok {
				err = f.SetCellStr(SheetSummary, cell, sv)
			} else {
				err = f.SetCellValue(SheetSummary, cell, v)
			}
			if err != nil {
				return err
			}
		}
	}
	hs, err := b.headerStyle()
	if err != nil {
		return err
	}
	if err := f.SetCellStyle(SheetSummary, "A11", "B11", hs); err != nil {
		return err
	}
	if err := f.SetColWidth(SheetSummary, "A", "A", 26); err != nil {
		return err
	}
	if err := f.SetColWidth(SheetSummary, "B", "B", 40); err != nil {
		return err
	}
	return f.AddChart(SheetSummary, "D2", &excelize.Chart{
		Type: excelize.Col,
		Series: []excelize.ChartSeries{{
			Name:       "Summary!$B$11",
			Categories: "Summary!$A$12:$A$15",
			Values:     "Summary!$B$12:$B$15",
		}},
		Title:     []excelize.RichTextRun{{Text: "KSB coverage (" + r.Covers.Set + ")"}},
		Legend:    excelize.ChartLegend{Position: "none"},
		Dimension: excelize.ChartDimension{Width: 480, Height: 290},
	})
}

// matrixItems are the items shown as Matrix columns: those that evidence
// some KSB of the report, in snapshot order, at most MaxMatrixItems.
func (b *builder) matrixItems() (ids []string, titles map[string]string, truncated int) {
	in := map[string]bool{}
	for _, row := range b.in.Coverage.KSBs {
		for _, l := range [][]string{row.ConfirmedBy, row.ClaimedBy, row.SuggestedBy} {
			for _, id := range l {
				in[id] = true
			}
		}
	}
	titles = map[string]string{}
	for _, v := range b.in.Snapshot.Views {
		if !in[v.Item.ID] {
			continue
		}
		if len(ids) == MaxMatrixItems {
			truncated++
			continue
		}
		ids = append(ids, v.Item.ID)
		titles[v.Item.ID] = b.in.withhold(v).Item.Title
	}
	return ids, titles, truncated
}

func (b *builder) matrix() error {
	f := b.f
	ids, titles, truncated := b.matrixItems()
	sw, err := f.NewStreamWriter(SheetMatrix)
	if err != nil {
		return err
	}
	hs, err := b.headerStyle()
	if err != nil {
		return err
	}
	const fixed = 4 // KSB, Kind, Status, Statement
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, XSplit: fixed, YSplit: 2, TopLeftCell: "E3", ActivePane: "bottomRight"}); err != nil {
		return err
	}
	if err := sw.SetColWidth(4, 4, 50); err != nil {
		return err
	}
	// The item columns take the sheet's default width: a width set on
	// them would be one column entry each, which excelize scans for
	// every cell it streams (16,000 × the cells).
	itemWidth := 12.0
	if err := f.SetSheetProps(SheetMatrix, &excelize.SheetPropsOptions{DefaultColWidth: &itemWidth}); err != nil {
		return err
	}
	head := []any{excelize.Cell{StyleID: hs, Value: "KSB"}, excelize.Cell{StyleID: hs, Value: "Kind"},
		excelize.Cell{StyleID: hs, Value: "Status"}, excelize.Cell{StyleID: hs, Value: "Statement"}}
	titleRow := []any{str(""), str(""), str(""), str("item title →")}
	if truncated > 0 {
		titleRow[3] = str(fmt.Sprintf("item title → (%d more items evidence KSBs: see the Evidence sheet)", truncated))
	}
	for _, id := range ids {
		head = append(head, excelize.Cell{StyleID: hs, Value: id})
		titleRow = append(titleRow, str(titles[id]))
	}
	if err := sw.SetRow("A1", titleRow); err != nil {
		return err
	}
	if err := sw.SetRow("A2", head); err != nil {
		return err
	}
	col := make(map[string]int, len(ids))
	for i, id := range ids {
		col[id] = i
	}
	for i, row := range b.in.Coverage.KSBs {
		cell, _ := excelize.CoordinatesToCellName(1, i+3)
		if err := sw.SetRow(cell, matrixCells(row, col, len(ids))); err != nil {
			return err
		}
	}
	last := len(b.in.Coverage.KSBs) + 2
	lastCol, _ := excelize.ColumnNumberToName(fixed + max(len(ids), 1))
	if err := f.AutoFilter(SheetMatrix, fmt.Sprintf("A2:%s%d", lastCol, max(last, 3)), nil); err != nil {
		return err
	}
	if err := b.statusFormats(SheetMatrix, fmt.Sprintf("C3:%s%d", lastCol, max(last, 3))); err != nil {
		return err
	}
	return sw.Flush()
}

// matrixCells is the Matrix row of one KSB: its fixed columns, then the
// status of each evidence column (col: item ID → column index) that
// evidences it, nil (no cell) in the others.
func matrixCells(row coverage.Row, col map[string]int, n int) []any {
	const fixed = 4
	cells := make([]any, fixed+n)
	cells[0], cells[1], cells[2], cells[3] = str(row.KSB), str(row.Kind), str(row.Status), str(row.Statement)
	for _, l := range []struct {
		ids    []string
		status string
	}{{row.SuggestedBy, coverage.Suggested}, {row.ClaimedBy, coverage.Claimed}, {row.ConfirmedBy, coverage.Confirmed}} {
		for _, id := range l.ids {
			if j, ok := col[id]; ok {
				cells[fixed+j] = str(l.status)
			}
		}
	}
	return cells
}

// statusFormats colours the cells of ref by the status they hold.
func (b *builder) statusFormats(sheet, ref string) error {
	colours := []struct{ status, fill string }{
		{coverage.Confirmed, "C6EFCE"}, {coverage.Claimed, "DDEBF7"},
		{coverage.Suggested, "FFEB9C"}, {coverage.Gap, "FFC7CE"},
	}
	var opts []excelize.ConditionalFormatOptions
	for _, c := range colours {
		id, err := b.f.NewConditionalStyle(&excelize.Style{Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{c.fill}}})
		if err != nil {
			return err
		}
		opts = append(opts, excelize.ConditionalFormatOptions{Type: "cell", Criteria: "==", Format: &id, Value: `"` + c.status + `"`})
	}
	return b.f.SetConditionalFormat(sheet, ref, opts)
}

// evidenceHeaders are the Evidence sheet's columns.
var evidenceHeaders = []string{"ID", "Title", "Kind", "Source", "Source type", "Occurred at", "Collected at",
	"KSBs (reviewed)", "Status", "Excluded", "Confidential", "Pack folder", "Web URL", "Origin URI", "Native ID",
	"Summary", "Tags", "Artefacts", "Links", "Redactions", "Facts", "Decisions", ColDidNotApply}

// status is the best standing of any KSB on the item in the report.
func itemStatus(v ledger.View, confirmed, claimed map[string]bool) string {
	switch {
	case v.Excluded:
		return "excluded"
	case v.Confidential && v.Item.Title == Withheld:
		return "withheld"
	case confirmed[v.Item.ID]:
		return coverage.Confirmed
	case claimed[v.Item.ID]:
		return coverage.Claimed
	case len(v.Tags) > 0:
		return coverage.Suggested
	}
	return ""
}

func (b *builder) evidence() error {
	f := b.f
	confirmed, claimed := map[string]bool{}, map[string]bool{}
	for _, row := range b.in.Coverage.KSBs {
		for _, id := range row.ConfirmedBy {
			confirmed[id] = true
		}
		for _, id := range row.ClaimedBy {
			claimed[id] = true
		}
	}
	sw, err := f.NewStreamWriter(SheetEvidence)
	if err != nil {
		return err
	}
	hs, err := b.headerStyle()
	if err != nil {
		return err
	}
	link, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Color: "1265BE", Underline: "single"}})
	if err != nil {
		return err
	}
	if err := itemSheetLayout(sw); err != nil {
		return err
	}
	head := make([]any, len(evidenceHeaders))
	for i, h := range evidenceHeaders {
		head[i] = excelize.Cell{StyleID: hs, Value: h}
	}
	if err := sw.SetRow("A1", head); err != nil {
		return err
	}
	for i, v := range b.in.Snapshot.Views {
		it := v.Item
		r := i + 2
		linked := i < MaxLinkedItems
		style := 0
		if linked {
			style = link
		}
		row, dir, web := b.evidenceCells(b.in.withhold(v), confirmed, claimed, style)
		cell, _ := excelize.CoordinatesToCellName(1, r)
		if err := sw.SetRow(cell, row); err != nil {
			return err
		}
		if linked && dir != "" {
			if err := f.SetCellHyperLink(SheetEvidence, fmt.Sprintf("L%d", r), dir, "External"); err != nil {
				return fmt.Errorf("link item %s: %w", it.ID, err)
			}
		}
		if linked && web != "" {
			if err := f.SetCellHyperLink(SheetEvidence, fmt.Sprintf("M%d", r), web, "External"); err != nil {
				return fmt.Errorf("link item %s: %w", it.ID, err)
			}
		}
	}
	lastCol, _ := excelize.ColumnNumberToName(len(evidenceHeaders))
	if err := f.AutoFilter(SheetEvidence, fmt.Sprintf("A1:%s%d", lastCol, len(b.in.Snapshot.Views)+1), nil); err != nil {
		return err
	}
	return sw.Flush()
}

// evidenceCells is the Evidence row of v, its pack folder and its web
// URL (each "" when none); linkStyle styles those two cells (0: none).
func (b *builder) evidenceCells(v ledger.View, confirmed, claimed map[string]bool, linkStyle int) (row []any, dir, web string) {
	it := v.Item
	if !v.Excluded {
		dir = b.dir(it.ID)
		if dir != "" {
			dir += "/"
		}
	}
	web, _ = it.Facts["web_url"].(string)
	if !safeURL(web) {
		web = ""
	}
	var ksbs []string
	seen := map[string]bool{}
	for _, t := range v.Tags {
		if !seen[t.KSB] {
			seen[t.KSB] = true
			ksbs = append(ksbs, t.KSB)
		}
	}
	sort.Strings(ksbs)
	dirCell, webCell := str(dir), str(web)
	if dir != "" {
		dirCell.StyleID = linkStyle
	}
	if web != "" {
		webCell.StyleID = linkStyle
	}
	row = []any{str(it.ID), str(it.Title), str(string(it.Kind)), str(it.Source), str(it.SourceType),
		it.OccurredAt.UTC(), it.CollectedAt.UTC(),
		str(strings.Join(ksbs, ", ")), str(itemStatus(v, confirmed, claimed)), v.Excluded, v.Confidential,
		dirCell, webCell, str(it.Origin.URI), str(it.Origin.NativeID), str(it.Summary),
		str(tagsText(v.Tags)), str(artefactsText(it.Artefacts)), str(linksText(it.Links)),
		str(redactionsText(it.Redactions)), str(jsonText(it.Facts)), decisionCount(v.Review),
		str(conflictsText(v.State.Conflicts))}
	return row, dir, web
}

// safeURL reports whether u is a web address worth linking: http(s) only,
// so a source cannot plant a file: or javascript: link.
func safeURL(u string) bool {
	return (strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://")) && len(u) < 2000
}

func decisionCount(r *evidence.Review) int {
	if r == nil {
		return 0
	}
	return len(r.Decisions)
}

// conflictsText is the decisions that did not apply, one a line, as
// ksbfolio show words them (cut to what a cell holds).
func conflictsText(cs []evidence.Conflict) string {
	if len(cs) == 0 {
		return ""
	}
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.Describe(func(s string) string { return s })
	}
	return cellText(strings.Join(parts, "\n"))
}

func tagsText(tags []evidence.Tag) string {
	parts := make([]string, len(tags))
	for i, t := range tags {
		parts[i] = fmt.Sprintf("%s by %s (%.2f): %s", t.KSB, t.By, t.Confidence, t.Reason)
	}
	return strings.Join(parts, "\n")
}

func artefactsText(as []evidence.Artefact) string {
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = fmt.Sprintf("%s (%s, %d bytes, sha256 %s)", a.Name, a.MediaType, a.Size, a.SHA256)
	}
	return strings.Join(parts, "\n")
}

func linksText(ls []evidence.Link) string {
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = l.Rel + " " + l.Item
	}
	return strings.Join(parts, "\n")
}

func redactionsText(rs []evidence.Redaction) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = fmt.Sprintf("%s ×%d", r.Rule, r.Count)
	}
	return strings.Join(parts, "\n")
}

// jsonText is v as compact JSON, cut to a cell's 32,767 characters.
func jsonText(v any) string {
	if v == nil {
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return cellText(string(b))
}

// cellText cuts s to what a cell holds (32,767 characters).
func cellText(s string) string {
	const max = 32767
	if len(s) <= max {
		return s
	}
	r := []rune(s)
	if len(r) <= max {
		return s
	}
	return string(r[:max-1]) + "…"
}

func (b *builder) gaps() error {
	f := b.f
	heads := []string{"KSB", "Kind", "Status", "Counted", "Method", "Grade theme", "Statement"}
	hs, err := b.headerStyle()
	if err != nil {
		return err
	}
	for i, h := range heads {
		cell, _ := excelize.CoordinatesToCellName(i+1, 1)
		if err := f.SetCellStr(SheetGaps, cell, h); err != nil {
			return err
		}
	}
	if err := f.SetCellStyle(SheetGaps, "A1", "G1", hs); err != nil {
		return err
	}
	r := 2
	for _, row := range b.in.Coverage.KSBs {
		if row.Status != coverage.Gap && row.Status != coverage.Suggested && row.Status != coverage.NotInCatalogue {
			continue
		}
		vals := []string{row.KSB, row.Kind, row.Status, fmt.Sprint(row.Counted), row.Method, row.GradeTheme, row.Statement}
		for i, v := range vals {
			cell, _ := excelize.CoordinatesToCellName(i+1, r)
			if err := f.SetCellStr(SheetGaps, cell, v); err != nil {
				return err
			}
		}
		r++
	}
	if err := f.SetColWidth(SheetGaps, "G", "G", 80); err != nil {
		return err
	}
	if err := f.SetPanes(SheetGaps, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	if err := f.AutoFilter(SheetGaps, fmt.Sprintf("A1:G%d", max(r-1, 2)), nil); err != nil {
		return err
	}
	return b.statusFormats(SheetGaps, fmt.Sprintf("C2:C%d", max(r-1, 2)))
}

// ReviewHeaders are the Review sheet's columns; the first six describe
// the item (the sixth, ColDidNotApply, its decisions that did not apply),
// the rest are for the reviewer to fill in.
var ReviewHeaders = []string{ColItem, "Title", "Occurred at", "KSBs (reviewed)", "Suggested, unreviewed", ColDidNotApply,
	ColAccept, ColReject, ColExclude, ColReviewer, ColRole, ColNote}

// reviewCol is the column letter of the Review sheet header h.
func reviewCol(h string) string {
	name, _ := excelize.ColumnNumberToName(slices.Index(ReviewHeaders, h) + 1)
	return name
}

func (b *builder) review() error {
	f := b.f
	sw, err := f.NewStreamWriter(SheetReview)
	if err != nil {
		return err
	}
	hs, err := b.headerStyle()
	if err != nil {
		return err
	}
	if err := itemSheetLayout(sw); err != nil {
		return err
	}
	didNotApply, fill := slices.Index(ReviewHeaders, ColDidNotApply)+1, slices.Index(ReviewHeaders, ColAccept)+1
	if err := sw.SetColWidth(didNotApply, didNotApply, 40); err != nil {
		return err
	}
	if err := sw.SetColWidth(fill, len(ReviewHeaders), 14); err != nil {
		return err
	}
	head := make([]any, len(ReviewHeaders))
	for i, h := range ReviewHeaders {
		head[i] = excelize.Cell{StyleID: hs, Value: h}
	}
	if err := sw.SetRow("A1", head); err != nil {
		return err
	}
	for i, v := range b.in.Snapshot.Views {
		row := reviewCells(b.in.withhold(v))
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(cell, row); err != nil {
			return err
		}
	}
	n := len(b.in.Snapshot.Views) + 1
	dv := excelize.NewDataValidation(true)
	dv.Sqref = fmt.Sprintf("%[1]s2:%[1]s%[2]d", reviewCol(ColExclude), max(n, 2))
	if err := dv.SetDropList([]string{"yes", "no"}); err != nil {
		return err
	}
	if err := f.AddDataValidation(SheetReview, dv); err != nil {
		return err
	}
	roles := excelize.NewDataValidation(true)
	roles.Sqref = fmt.Sprintf("%[1]s2:%[1]s%[2]d", reviewCol(ColRole), max(n, 2))
	if err := roles.SetDropList(evidence.Roles); err != nil {
		return err
	}
	if err := f.AddDataValidation(SheetReview, roles); err != nil {
		return err
	}
	last, _ := excelize.ColumnNumberToName(len(ReviewHeaders))
	if err := f.AutoFilter(SheetReview, fmt.Sprintf("A1:%s%d", last, max(n, 2)), nil); err != nil {
		return err
	}
	return sw.Flush()
}

// reviewCells is the Review row of v: the item's columns, then the empty
// decision columns (in ReviewHeaders' order).
func reviewCells(v ledger.View) []any {
	var ksbs, pending []string
	seen := map[string]bool{}
	for _, t := range v.Tags {
		if !seen[t.KSB] {
			seen[t.KSB] = true
			ksbs = append(ksbs, t.KSB)
		}
	}
	seen = map[string]bool{}
	for _, t := range v.Item.Tags {
		k := evidence.NormalizeKSB(t.KSB)
		_, acc := v.State.Accepted[k]
		_, rej := v.State.Rejected[k]
		if t.IsRule() && !acc && !rej && !seen[k] {
			seen[k] = true
			pending = append(pending, k)
		}
	}
	return []any{str(v.Item.ID), str(v.Item.Title), v.Item.OccurredAt.UTC(), str(strings.Join(ksbs, ", ")),
		str(strings.Join(pending, ", ")), str(conflictsText(v.State.Conflicts)),
		str(""), str(""), str(""), str(""), str(""), str("")}
}

// itemSheetLayout freezes the header row and the ID column of a sheet with
// one item per row (Evidence, Review) and widens the ID and title columns.
func itemSheetLayout(sw *excelize.StreamWriter) error {
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, XSplit: 1, YSplit: 1, TopLeftCell: "B2", ActivePane: "bottomRight"}); err != nil {
		return err
	}
	if err := sw.SetColWidth(1, 1, 38); err != nil {
		return err
	}
	return sw.SetColWidth(2, 2, 48)
}
