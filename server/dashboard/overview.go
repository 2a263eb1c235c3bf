package dashboard

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/server/store"
)

type statusCount struct {
	Status store.DeviceStatus
	Count  int
}

// controlBar is one control's devices whose decision names it: Failing
// (denied for it, or warned in a grace period or notify-only) and Unknown
// (it could not be determined), drawn as two bars end to end.
type controlBar struct {
	ID               checks.ControlID
	Failing, Unknown int
	// FailWidth and UnknownWidth are the bars' lengths in SVG units
	// (0-300 together).
	FailWidth, UnknownWidth int
}

type overviewView struct {
	Counts   []statusCount
	Total    int
	Controls []controlBar
	Chart    chart
	Changes  []changeRow
}

// changeRow is a recent change; a control that started failing by the
// stored reports is Unknown when the device's decision names it unknown
// (it could not be determined), so the list never calls that a failure.
type changeRow struct {
	store.Change
	Unknown bool
}

func (d *Dashboard) overview(w http.ResponseWriter, r *http.Request, s *signedIn) {
	ctx := r.Context()
	t := d.thresholds()
	// Every count is the decisions' (the one the gateways get), so that
	// an unknown control reads as unknown, never as a failure.
	sum, err := d.summarize(ctx)
	if err != nil {
		d.internal(w, r, s, err)
		return
	}
	trend, err := d.st.Trend(ctx, t.Now.AddDate(0, 0, -29))
	if err != nil {
		d.internal(w, r, s, err)
		return
	}
	changes, err := d.st.RecentChanges(ctx, t.Now.Add(-time.Hour), 25)
	if err != nil {
		d.internal(w, r, s, err)
		return
	}
	v := overviewView{}
	for _, c := range changes {
		row := changeRow{Change: c}
		if c.Kind == "failing" {
			for _, chip := range chipsOf(sum.decisions[c.DeviceID]) {
				row.Unknown = row.Unknown || (chip.Control == c.Control && chip.Kind == "unknown")
			}
		}
		v.Changes = append(v.Changes, row)
	}
	for _, st := range store.DeviceStatuses {
		v.Counts = append(v.Counts, statusCount{st, sum.byStatus[st]})
		v.Total += sum.byStatus[st]
	}
	most := 1
	for _, id := range checks.AllControlIDs {
		most = max(most, sum.failing[id]+sum.unknown[id])
	}
	for _, id := range checks.AllControlIDs {
		f, u := sum.failing[id], sum.unknown[id]
		v.Controls = append(v.Controls, controlBar{ID: id, Failing: f, Unknown: u, FailWidth: f * 300 / most, UnknownWidth: u * 300 / most})
	}
	// Today's point is live; earlier days are what was recorded.
	if len(trend) > 0 && sameDay(trend[len(trend)-1].Day, t.Now) {
		trend = trend[:len(trend)-1]
	}
	trend = append(trend, store.TrendPoint{Day: t.Now, Counts: sum.byStatus})
	v.Chart = buildChart(trend, t.Now)
	d.render(w, r, s, http.StatusOK, "overview", "Overview", v)
}

func sameDay(a, b time.Time) bool {
	ay, am, ad := a.UTC().Date()
	by, bm, bd := b.UTC().Date()
	return ay == by && am == bm && ad == bd
}

// chart is the 30-day compliance trend drawn as inline SVG: the share of
// active devices (not revoked, not inactive) that were compliant each day.
type chart struct {
	Width, Height int
	Line          string
	Area          string
	Points        []chartPoint
	YTicks        []chartTick
	XTicks        []chartTick
	Latest        string
	Empty         bool
}

type chartPoint struct {
	X, Y  int
	Label string
}

type chartTick struct {
	Pos   int
	Label string
}

const (
	chartW, chartH         = 720, 220
	chartLeft, chartRight  = 44, 12
	chartTop, chartBottom  = 12, 28
	chartDays              = 30
	chartPlotW, chartPlotH = chartW - chartLeft - chartRight, chartH - chartTop - chartBottom
)

func buildChart(trend []store.TrendPoint, now time.Time) chart {
	c := chart{Width: chartW, Height: chartH}
	for _, pct := range []int{0, 25, 50, 75, 100} {
		c.YTicks = append(c.YTicks, chartTick{Pos: chartTop + chartPlotH - pct*chartPlotH/100, Label: fmt.Sprintf("%d%%", pct)})
	}
	y, m, dd := now.UTC().Date()
	start := time.Date(y, m, dd, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -(chartDays - 1))
	for i := 0; i < chartDays; i += 7 {
		day := start.AddDate(0, 0, i)
		c.XTicks = append(c.XTicks, chartTick{Pos: chartLeft + i*chartPlotW/(chartDays-1), Label: day.Format("2 Jan")})
	}
	var line []string
	for _, p := range trend {
		active := p.Counts[store.StatusCompliant] + p.Counts[store.StatusNoncompliant] + p.Counts[store.StatusStale]
		if active == 0 {
			continue
		}
		idx := int(p.Day.Sub(start).Hours() / 24)
		if idx < 0 || idx >= chartDays {
			continue
		}
		pct := float64(p.Counts[store.StatusCompliant]) * 100 / float64(active)
		x := chartLeft + idx*chartPlotW/(chartDays-1)
		y := chartTop + chartPlotH - int(pct*float64(chartPlotH)/100+0.5)
		c.Points = append(c.Points, chartPoint{X: x, Y: y, Label: fmt.Sprintf("%s: %.0f%% compliant (%d of %d active)", p.Day.UTC().Format("2 Jan"), pct, p.Counts[store.StatusCompliant], active)})
		line = append(line, fmt.Sprintf("%d,%d", x, y))
		c.Latest = fmt.Sprintf("%.0f%%", pct)
	}
	if len(c.Points) == 0 {
		c.Empty = true
		return c
	}
	c.Line = strings.Join(line, " ")
	base := chartTop + chartPlotH
	c.Area = fmt.Sprintf("%d,%d %s %d,%d", c.Points[0].X, base, c.Line, c.Points[len(c.Points)-1].X, base)
	return c
}
