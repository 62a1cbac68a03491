package report

import (
	_ "embed"
	"html/template"
	"io"
	"math"
	"strconv"
)

//go:embed report.html.tmpl
var htmlSource string

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"ms":      fmtMS,
	"pct":     fmtPct,
	"share":   share,
	"optInt":  optInt,
	"optNum":  optNum,
	"quota":   quotaText,
	"when":    fmtTime,
	"sorted":  sortedKeys,
	"verdict": func(f Figures, v string) int64 { return f.Verdicts[v] },
}).Parse(htmlSource))

// verdictColors are the chart colours, one per verdict in Verdicts order.
var verdictColors = []string{"#c0392b", "#e67e22", "#27ae60", "#95a5a6"}

// htmlView is the template's data: the report plus chart geometry.
type htmlView struct {
	*Report
	Bars    barChart
	Latency latencyChart
	Donut   donut
	Legend  []legendItem
}

type legendItem struct {
	Label, Color string
	N            int64
	Share        string
}

// barChart is the daily volume chart: one stacked bar per day.
type barChart struct {
	Width, Height, Base int
	Bars                []bar
	Max                 int64
}

type bar struct {
	X, W, LabelX int
	Date, Total  string
	TotalY       int
	Segs         []rect
}

type rect struct {
	X, Y, W, H int
	Color      string
	Title      string
}

// latencyChart has one row per provider with a p50 and a p95 bar.
type latencyChart struct {
	Width, Height int
	Rows          []latencyRow
	Empty         bool
}

type latencyRow struct {
	Y, TextY       int
	Name           string
	P50W, P95W     int
	P50, P95       string
	P50TX, P95TX   int
	P50Y, P95Y     int
	P50Set, P95Set bool
}

// donut is the verdict distribution as dashed circle strokes.
type donut struct {
	R, C  float64 // radius and circumference
	Total int64
	Arcs  []arc
}

type arc struct {
	Color, Dash, Offset, Title string
}

func writeHTML(w io.Writer, r *Report) error {
	v := htmlView{Report: r, Bars: bars(r.Current), Latency: latency(r.Current), Donut: verdictDonut(r.Current)}
	for i, vd := range Verdicts {
		n := r.Current.Verdicts[string(vd)]
		v.Legend = append(v.Legend, legendItem{Label: string(vd), Color: verdictColors[i], N: n, Share: share(n, r.Current.IOCs.Total)})
	}
	return htmlTemplate.Execute(w, v)
}

func bars(f Figures) barChart {
	c := barChart{Width: 560, Height: 220, Base: 190}
	for _, d := range f.Daily {
		c.Max = max(c.Max, d.IOCs)
	}
	n := max(1, len(f.Daily))
	slot := (c.Width - 20) / n
	for i, d := range f.Daily {
		b := bar{X: 10 + i*slot + slot/6, W: slot * 2 / 3, Date: d.Date[5:], Total: strconv.FormatInt(d.IOCs, 10)}
		b.LabelX = b.X + b.W/2
		y := c.Base
		for j, vd := range Verdicts {
			n := d.Verdicts[string(vd)]
			if n == 0 || c.Max == 0 {
				continue
			}
			h := int(math.Round(float64(n) / float64(c.Max) * 160))
			y -= h
			b.Segs = append(b.Segs, rect{X: b.X, Y: y, W: b.W, H: h, Color: verdictColors[j],
				Title: d.Date + ": " + strconv.FormatInt(n, 10) + " " + string(vd)})
		}
		b.TotalY = y - 4
		c.Bars = append(c.Bars, b)
	}
	return c
}

func latency(f Figures) latencyChart {
	c := latencyChart{Width: 560}
	var top float64
	for _, p := range f.Providers {
		if p.P95MS != nil {
			top = max(top, *p.P95MS)
		}
		if p.P50MS != nil {
			top = max(top, *p.P50MS)
		}
	}
	const left, span = 110, 360
	// A log scale: one slow outlier (a 30 s timeout) must not flatten
	// every other provider's bars.
	scale := func(x *float64) int {
		if x == nil || top == 0 {
			return 0
		}
		return max(1, int(math.Round(math.Log10(1+*x)/math.Log10(1+top)*span)))
	}
	y := 10
	for _, p := range f.Providers {
		if p.P50MS == nil && p.P95MS == nil {
			continue
		}
		row := latencyRow{Y: y, TextY: y + 17, Name: p.Name, P50W: scale(p.P50MS), P95W: scale(p.P95MS),
			P50: "p50 " + fmtMS(p.P50MS), P95: "p95 " + fmtMS(p.P95MS), P50Set: p.P50MS != nil, P95Set: p.P95MS != nil}
		row.P50Y, row.P95Y = y, y+12
		row.P50TX, row.P95TX = left+row.P50W+4, left+row.P95W+4
		c.Rows = append(c.Rows, row)
		y += 34
	}
	c.Height = y + 6
	c.Empty = len(c.Rows) == 0
	if c.Empty {
		c.Height = 40
	}
	return c
}

func verdictDonut(f Figures) donut {
	d := donut{R: 70, Total: f.IOCs.Total}
	d.C = 2 * math.Pi * d.R
	var done float64
	for i, v := range Verdicts {
		n := f.Verdicts[string(v)]
		if n == 0 || d.Total == 0 {
			continue
		}
		l := float64(n) / float64(d.Total) * d.C
		d.Arcs = append(d.Arcs, arc{
			Color:  verdictColors[i],
			Dash:   num(l) + " " + num(d.C-l),
			Offset: num(-done),
			Title:  string(v) + ": " + strconv.FormatInt(n, 10) + " (" + share(n, d.Total) + ")",
		})
		done += l
	}
	return d
}

func num(x float64) string {
	x = round(x, 2)
	if x == 0 {
		x = 0 // not -0
	}
	return strconv.FormatFloat(x, 'f', -1, 64)
}
