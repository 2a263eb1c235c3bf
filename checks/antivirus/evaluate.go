package antivirus

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/postern-dev/postern/checks"
)

// Evaluate passes when at least one product is running in a protecting
// mode, scans in real time or on a schedule, and has definitions no older
// than the policy's max_definition_age measured to in.Now. It is pure.
func Evaluate(in checks.EvalInput) checks.Result { return evaluator.Evaluate(in) }

var evaluator = checks.Evaluator[Facts, Thresholds]{What: "anti-virus", Defaults: DefaultThresholds, Judge: evaluateFacts}

// evaluateFacts is Evaluate after checks.Evaluator decoded the facts and took the
// thresholds.
func evaluateFacts(in checks.EvalInput, f *Facts, t *Thresholds) checks.Result {
	ev := map[string]any{"max_definition_age_hours": hours(t.MaxDefinitionAge)}
	if len(f.Notes) > 0 {
		ev["notes"] = f.Notes
	}
	if len(f.Products) == 0 {
		if len(f.Notes) > 0 {
			r := checks.Unknown("no anti-virus product was found, but not every source could be read: " + strings.Join(f.Notes, "; "))
			r.Evidence = ev
			return r
		}
		return checks.Result{
			Status:      checks.StatusFail,
			Summary:     "no anti-virus product was found",
			Evidence:    ev,
			Remediation: installRemediation(in.OS),
		}
	}
	js := make([]judgement, len(f.Products))
	lines := make([]string, len(f.Products))
	for i, p := range f.Products {
		js[i] = judge(p, t, in.CollectedAt, in.Now)
		lines[i] = p.Name + ": " + js[i].line()
	}
	ev["products"] = lines
	if i, ok := first(js, checks.StatusPass); ok {
		ev["protecting_product"] = f.Products[i].Name
		if js[i].age != nil {
			ev["definitions_age_hours"] = *js[i].age
		}
		return checks.Result{Status: checks.StatusPass, Summary: f.Products[i].Name + ": " + js[i].line(), Evidence: ev}
	}
	if i, ok := first(js, checks.StatusUnknown); ok {
		r := checks.Unknown(f.Products[i].Name + ": " + js[i].line())
		r.Evidence = ev
		return r
	}
	return checks.Result{
		Status:      checks.StatusFail,
		Summary:     strings.Join(lines, "; "),
		Evidence:    ev,
		Remediation: remediation(in.OS, f.Products[0], js[0]),
	}
}

// judgement is one product's outcome: pass, fail or unknown, why, and the
// definitions' age in hours when known.
type judgement struct {
	status   checks.Status
	fails    []string
	unknowns []string
	oks      []string
	age      *float64
}

func (j judgement) line() string {
	switch j.status {
	case checks.StatusFail:
		return strings.Join(j.fails, ", ")
	case checks.StatusUnknown:
		return strings.Join(j.unknowns, ", ")
	}
	return strings.Join(j.oks, ", ")
}

func first(js []judgement, s checks.Status) (int, bool) {
	for i, j := range js {
		if j.status == s {
			return i, true
		}
	}
	return 0, false
}

// judge decides one product. A fail needs positive evidence (off, passive,
// old); anything not reported is unknown, never a pass.
func judge(p Product, t *Thresholds, collectedAt, now time.Time) judgement {
	var j judgement
	if p.Unreadable != "" {
		j.unknowns = append(j.unknowns, "installed, but its state could not be read: "+p.Unreadable)
	}
	if p.Running != nil && !p.Running.Value {
		j.fails = append(j.fails, "not running ("+p.Running.Source+")")
	}
	if p.Healthy != nil && !p.Healthy.Value {
		j.fails = append(j.fails, "reports itself unhealthy ("+p.Healthy.Source+")")
	}
	if p.Mode != nil {
		if p.Mode.Protecting {
			j.oks = append(j.oks, "mode "+p.Mode.Name)
		} else {
			j.fails = append(j.fails, fmt.Sprintf("running in %s, which does not block threats", p.Mode.Name))
		}
	}
	judgeScanning(p, &j)
	judgeDefinitions(p, t, collectedAt, now, &j)
	switch {
	case len(j.fails) > 0:
		j.status = checks.StatusFail
	case len(j.unknowns) > 0:
		j.status = checks.StatusUnknown
	default:
		j.status = checks.StatusPass
	}
	return j
}

func judgeScanning(p Product, j *judgement) {
	rt, sc := p.RealTime, p.Scheduled
	switch {
	case rt != nil && rt.Value:
		j.oks = append(j.oks, "real-time scanning on")
	case sc != nil && sc.Value:
		j.oks = append(j.oks, "scheduled scanning on")
	case rt != nil && sc != nil:
		j.fails = append(j.fails, "neither real-time nor scheduled scanning is on")
	case rt != nil:
		j.fails = append(j.fails, "real-time scanning is off and no scheduled scan was found")
	case sc != nil:
		j.unknowns = append(j.unknowns, "no scheduled scan was found and real-time scanning was not reported")
	default:
		j.unknowns = append(j.unknowns, "scanning state not reported")
	}
}

// maxFutureSkew is how far after the check a product's definitions date
// may lie and still be read as "just updated": clocks and time zones are
// often off by hours. A date further ahead says nothing about the age.
const maxFutureSkew = 24 * time.Hour

func judgeDefinitions(p Product, t *Thresholds, collectedAt, now time.Time, j *judgement) {
	limit := hours(t.MaxDefinitionAge)
	if d := p.Definitions; d != nil {
		ref := now
		if !collectedAt.IsZero() && collectedAt.Before(now) {
			ref = collectedAt
		}
		for _, at := range []*time.Time{d.Updated, d.Checked} {
			if at != nil && at.Sub(ref) > maxFutureSkew {
				j.unknowns = append(j.unknowns, fmt.Sprintf("the definitions are dated %s, %s h after the check (%s): the device's clock or the product's date is wrong",
					at.UTC().Format(time.RFC3339), fmtHours(hours(at.Sub(ref))), d.Source))
				return
			}
		}
	}
	if age, ok := definitionAge(p.Definitions, collectedAt, now); ok {
		h := hours(age)
		j.age = &h
		desc := fmt.Sprintf("definitions %s h old", fmtHours(h))
		if d := p.Definitions; d.Checked != nil && (d.Updated == nil || d.Checked.After(*d.Updated)) {
			desc = fmt.Sprintf("definitions current as of a check %s h ago", fmtHours(h))
		}
		if d := p.Definitions; d.Updated == nil && d.AgeResolutionMinutes != nil && *d.AgeResolutionMinutes > 0 {
			// Only a rounded-down age is known: the definitions are at
			// least age and less than age plus one unit old.
			upper := age + time.Duration(*d.AgeResolutionMinutes)*time.Minute
			switch {
			case upper <= t.MaxDefinitionAge:
				j.oks = append(j.oks, fmt.Sprintf("definitions under %s h old (%s)", fmtHours(hours(upper)), d.Source))
			case age >= t.MaxDefinitionAge && age > 0:
				j.fails = append(j.fails, fmt.Sprintf("definitions at least %s h old (%s; limit %s h)", fmtHours(h), d.Source, fmtHours(limit)))
			default:
				j.unknowns = append(j.unknowns, fmt.Sprintf("definitions between %s h and %s h old (%s), around the %s h limit", fmtHours(h), fmtHours(hours(upper)), d.Source, fmtHours(limit)))
			}
			return
		}
		if age > t.MaxDefinitionAge {
			j.fails = append(j.fails, fmt.Sprintf("%s (limit %s h)", desc, fmtHours(limit)))
		} else {
			j.oks = append(j.oks, desc)
		}
		return
	}
	switch u := p.UpToDate; {
	case u != nil && !u.Value:
		j.fails = append(j.fails, "definitions out of date ("+u.Source+")")
	case u != nil && t.AcceptUpToDateFlag && p.Caveat == agentNoDefinitions:
		j.oks = append(j.oks, "no local definitions to age (cloud-delivered detection); the agent reports itself working ("+u.Source+")")
	case u != nil && t.AcceptUpToDateFlag:
		j.oks = append(j.oks, "definitions reported up to date without a time ("+u.Source+")")
	case u != nil:
		j.unknowns = append(j.unknowns, "definitions reported up to date without a time, and the policy requires a measured age")
	default:
		j.unknowns = append(j.unknowns, "the definitions' age could not be read")
	}
}

// definitionAge measures the definitions' age to now, crediting a later
// successful update check. A reported age counts from collection time.
func definitionAge(d *Definitions, collectedAt, now time.Time) (time.Duration, bool) {
	if d == nil {
		return 0, false
	}
	var newest time.Time
	switch {
	case d.Updated != nil:
		newest = *d.Updated
	case d.AgeMinutes != nil && !collectedAt.IsZero():
		newest = collectedAt.Add(-time.Duration(*d.AgeMinutes) * time.Minute)
	case d.AgeMinutes != nil:
		newest = now.Add(-time.Duration(*d.AgeMinutes) * time.Minute)
	}
	if d.Checked != nil && d.Checked.After(newest) {
		newest = *d.Checked
	}
	if newest.IsZero() {
		return 0, false
	}
	age := now.Sub(newest)
	if age < 0 {
		age = 0
	}
	return age, true
}

func hours(d time.Duration) float64 { return math.Round(d.Hours()*10) / 10 }

func fmtHours(h float64) string {
	if h == math.Trunc(h) {
		return fmt.Sprintf("%.0f", h)
	}
	return fmt.Sprintf("%.1f", h)
}
