package trainrun

import (
	"bytes"
	"fmt"
	"html"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Chart geometry, in SVG user units.
const (
	chartW, chartH = 640, 360
	plotX0, plotY0 = 60, 30   // top-left of the plot area
	plotX1, plotY1 = 460, 320 // bottom-right
	legendX        = 475
	maxChartPoints = 2000 // points drawn per series; longer series are thinned
	maxLegendRunes = 28
)

var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"}

// Chart draws up to maxSeries of metrics as line curves against their
// step, on shared axes, with a legend: a self-contained SVG (no script, no
// external reference, every text escaped). It plots the metrics with at
// least two finite points, those whose names say loss or accuracy first,
// then the longest; each plotted series is exactly one <path>. It returns
// nil when no metric has two points.
func Chart(title string, metrics []Metric, maxSeries int) []byte {
	type series struct {
		key string
		pts []Point
	}
	var all []series
	for _, m := range metrics {
		if pts := finite(m.Points); len(pts) >= 2 && m.Key != "" {
			all = append(all, series{m.Key, pts})
		}
	}
	if len(all) == 0 || maxSeries <= 0 {
		return nil
	}
	rank := func(k string) int {
		k = strings.ToLower(k)
		switch {
		case strings.Contains(k, "loss"):
			return 0
		case strings.Contains(k, "acc"):
			return 1
		}
		return 2
	}
	sort.SliceStable(all, func(i, j int) bool {
		if ri, rj := rank(all[i].key), rank(all[j].key); ri != rj {
			return ri < rj
		}
		if len(all[i].pts) != len(all[j].pts) {
			return len(all[i].pts) > len(all[j].pts)
		}
		return all[i].key < all[j].key
	})
	if len(all) > maxSeries {
		all = all[:maxSeries]
	}
	xmin, xmax := math.Inf(1), math.Inf(-1)
	ymin, ymax := math.Inf(1), math.Inf(-1)
	for _, s := range all {
		for i, p := range s.pts {
			x := xOf(p, i)
			xmin, xmax = math.Min(xmin, x), math.Max(xmax, x)
			ymin, ymax = math.Min(ymin, p.Value), math.Max(ymax, p.Value)
		}
	}
	if xmax == xmin {
		xmax = xmin + 1
	}
	if ymax == ymin {
		ymin, ymax = ymin-0.5, ymax+0.5
	}
	sx := func(x float64) float64 { return plotX0 + (x-xmin)/(xmax-xmin)*(plotX1-plotX0) }
	sy := func(y float64) float64 { return plotY1 - (y-ymin)/(ymax-ymin)*(plotY1-plotY0) }

	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n", chartW, chartH, chartW, chartH)
	fmt.Fprintf(&b, "<title>%s</title>\n", esc(title))
	fmt.Fprintf(&b, `<rect x="0" y="0" width="%d" height="%d" fill="#ffffff"/>`+"\n", chartW, chartH)
	// Axes, with the range of each at its ends.
	fmt.Fprintf(&b, `<g class="axes" stroke="#333333" stroke-width="1"><line x1="%d" y1="%d" x2="%d" y2="%d"/><line x1="%d" y1="%d" x2="%d" y2="%d"/></g>`+"\n",
		plotX0, plotY1, plotX1, plotY1, plotX0, plotY0, plotX0, plotY1)
	fmt.Fprintf(&b, `<g class="ticks" fill="#333333">`)
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">%s</text>`, plotX0, plotY1+14, esc(formatValue(xmin)))
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">%s</text>`, plotX1, plotY1+14, esc(formatValue(xmax)))
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`, plotX0-4, plotY1, esc(formatValue(ymin)))
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`, plotX0-4, plotY0+4, esc(formatValue(ymax)))
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">step</text>`, (plotX0+plotX1)/2, plotY1+28)
	fmt.Fprintf(&b, `<text x="14" y="%d" text-anchor="middle" transform="rotate(-90 14 %d)">value</text>`, (plotY0+plotY1)/2, (plotY0+plotY1)/2)
	b.WriteString("</g>\n")
	for i, s := range all {
		color := palette[i%len(palette)]
		step := 1
		if len(s.pts) > maxChartPoints {
			step = (len(s.pts) + maxChartPoints - 1) / maxChartPoints
		}
		d := make([]byte, 0, 16*min(len(s.pts), maxChartPoints))
		point := func(cmd byte, j int) {
			d = append(d, cmd)
			d = strconv.AppendFloat(d, sx(xOf(s.pts[j], j)), 'f', 1, 64)
			d = append(d, ' ')
			d = strconv.AppendFloat(d, sy(s.pts[j].Value), 'f', 1, 64)
			d = append(d, ' ')
		}
		for j := 0; j < len(s.pts); j += step {
			cmd := byte('L')
			if j == 0 {
				cmd = 'M'
			}
			point(cmd, j)
		}
		if last := len(s.pts) - 1; last%step != 0 {
			point('L', last)
		}
		fmt.Fprintf(&b, `<path class="series" d="%s" fill="none" stroke="%s" stroke-width="1.5"><title>%s</title></path>`+"\n",
			strings.TrimSpace(string(d)), color, esc(s.key))
		y := plotY0 + 16*i
		fmt.Fprintf(&b, `<g class="legend"><rect x="%d" y="%d" width="12" height="3" fill="%s"/><text x="%d" y="%d">%s</text></g>`+"\n",
			legendX, y+4, color, legendX+18, y+8, esc(cutRunes(s.key, maxLegendRunes)))
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
}

// xOf is a point's x: its step, or its index when every step is 0 (a
// source that logs no steps).
func xOf(p Point, i int) float64 {
	if p.Step == 0 && i > 0 {
		return float64(i)
	}
	return float64(p.Step)
}

func esc(s string) string {
	// XML 1.0 forbids most control characters even escaped; drop them.
	s = strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0xFFFE || r == 0xFFFF {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	return html.EscapeString(s)
}

func cutRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func bytesOpener(b []byte) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
}
