package prometheus

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Chart geometry, in SVG user units.
const (
	chartWidth   = 800
	plotLeft     = 70
	plotRight    = 780
	plotTop      = 20
	plotBottom   = 240
	legendTop    = 275
	legendLine   = 16
	maxLegend    = 12 // series named in the legend; the rest are counted
	maxChartCols = 400
	// maxChartSeries bounds the paths drawn; the legend counts the rest.
	maxChartSeries = 50
)

var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"}

// chartSVG draws ss over [start, end] as a self-contained SVG: no
// script, no external reference, every text escaped; axes with the
// value range and the window's dates, one path per series (the first
// maxChartSeries), a dashed
// threshold line when th is set, and a legend. Each series is reduced to
// the minimum and maximum of each of maxChartCols columns, so spikes
// stay visible and the file stays small.
func chartSVG(title string, ss []series, start, end time.Time, th *threshold) []byte {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range ss {
		for _, p := range s.Points {
			if !math.IsNaN(p.V) && !math.IsInf(p.V, 0) {
				lo, hi = min(lo, p.V), max(hi, p.V)
			}
		}
	}
	if th != nil {
		lo, hi = min(lo, th.Value), max(hi, th.Value)
	}
	if math.IsInf(lo, 0) {
		lo, hi = 0, 1
	}
	if hi == lo {
		lo, hi = lo-1, hi+1
	}
	span := end.Sub(start)
	if span <= 0 {
		span = time.Second
	}
	x := func(t time.Time) float64 {
		return plotLeft + float64(t.Sub(start))/float64(span)*(plotRight-plotLeft)
	}
	y := func(v float64) float64 { return plotBottom - (v-lo)/(hi-lo)*(plotBottom-plotTop) }

	drawn := ss[:min(len(ss), maxChartSeries)]
	legend := min(len(drawn), maxLegend)
	height := legendTop + legendLine*(legend+1)
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n",
		chartWidth, height, chartWidth, height)
	b.WriteString("<title>")
	escape(&b, title)
	b.WriteString("</title>\n")
	fmt.Fprintf(&b, `<rect x="0" y="0" width="%d" height="%d" fill="#ffffff"/>`+"\n", chartWidth, height)
	// Axes and their labels.
	fmt.Fprintf(&b, `<g stroke="#333333" stroke-width="1"><line x1="%d" y1="%d" x2="%d" y2="%d"/><line x1="%d" y1="%d" x2="%d" y2="%d"/></g>`+"\n",
		plotLeft, plotTop, plotLeft, plotBottom, plotLeft, plotBottom, plotRight, plotBottom)
	for _, v := range []float64{lo, (lo + hi) / 2, hi} {
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">`, plotLeft-4, y(v)+4)
		escape(&b, formatValue(v))
		b.WriteString("</text>\n")
	}
	for i, t := range []time.Time{start, start.Add(span / 2), end} {
		anchor := [...]string{"start", "middle", "end"}[i]
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="%s">`, x(t), plotBottom+16, anchor)
		escape(&b, t.UTC().Format("2006-01-02 15:04"))
		b.WriteString("</text>\n")
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">time (UTC)</text>`+"\n", (plotLeft+plotRight)/2, plotBottom+30)
	if th != nil {
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#000000" stroke-dasharray="4 3"/>`+"\n", plotLeft, y(th.Value), plotRight, y(th.Value))
	}
	// One path per series.
	for i, s := range drawn {
		fmt.Fprintf(&b, `<path fill="none" stroke="%s" stroke-width="1.2" d="%s"/>`+"\n", palette[i%len(palette)], pathData(s.Points, start, span, x, y))
	}
	// Legend.
	for i := 0; i < legend; i++ {
		ly := legendTop + legendLine*i
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="10" height="10" fill="%s"/><text x="%d" y="%d">`, plotLeft, ly-9, palette[i%len(palette)], plotLeft+16, ly)
		escape(&b, clip(labelString(ss[i].Labels), 110))
		b.WriteString("</text>\n")
	}
	if more := len(ss) - legend; more > 0 {
		fmt.Fprintf(&b, `<text x="%d" y="%d">and %d more series`, plotLeft, legendTop+legendLine*legend, more)
		if hidden := len(ss) - len(drawn); hidden > 0 {
			fmt.Fprintf(&b, ` (%d not drawn)`, hidden)
		}
		b.WriteString("</text>\n")
	}
	if th != nil {
		fmt.Fprintf(&b, `<text x="%d" y="%d">dashed line: threshold `, plotLeft+400, legendTop+legendLine*legend)
		escape(&b, formatValue(th.Value))
		b.WriteString("</text>\n")
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
}

// pathData is a path's d attribute: each column's minimum and maximum,
// in time order; a NaN or a gap of several columns starts a new subpath.
func pathData(ps []point, start time.Time, span time.Duration, x func(time.Time) float64, y func(float64) float64) string {
	colWidth := span / maxChartCols
	var b bytes.Buffer
	move := true
	lastCol := int64(math.MinInt64)
	var cmin, cmax *point
	flush := func() {
		if cmin == nil {
			return
		}
		first, second := cmin, cmax
		if second.T.Before(first.T) {
			first, second = second, first
		}
		for _, p := range []*point{first, second} {
			if move {
				b.WriteByte('M')
				move = false
			} else {
				b.WriteByte('L')
			}
			fmt.Fprintf(&b, "%.1f %.1f ", x(p.T), y(p.V))
			if first == second {
				break
			}
		}
		cmin, cmax = nil, nil
	}
	for i := range ps {
		p := &ps[i]
		if math.IsNaN(p.V) || math.IsInf(p.V, 0) {
			flush()
			move = true
			continue
		}
		col := int64(0)
		if colWidth > 0 {
			col = int64(p.T.Sub(start) / colWidth)
		}
		if col != lastCol {
			flush()
			if col > lastCol+2 && lastCol != math.MinInt64 {
				move = true
			}
			lastCol = col
		}
		if cmin == nil || p.V < cmin.V {
			cmin = p
		}
		if cmax == nil || p.V > cmax.V {
			cmax = p
		}
	}
	flush()
	if b.Len() == 0 {
		return "M0 0"
	}
	return string(bytes.TrimSpace(b.Bytes()))
}

func escape(b *bytes.Buffer, s string) { _ = xml.EscapeText(b, []byte(s)) }

func formatValue(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }

// clip cuts s to at most n runes, marking the cut.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
