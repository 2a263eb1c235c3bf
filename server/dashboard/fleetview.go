package dashboard

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/server/decision"
	"github.com/postern-dev/postern/server/store"
)

// Decider is the decision engine as the dashboard reads it, without
// counting or announcing anything; *decision.Engine implements it. Every
// page shows its decisions, so that none can disagree with the decision
// API.
type Decider interface {
	// Current is one device's decision now; store.ErrNotFound if none.
	Current(ctx context.Context, deviceID string) (decision.Decision, error)
	// All is every device's decision now, by device ID.
	All(ctx context.Context) (map[string]decision.Decision, error)
	// Fleet is every device's posture and decision now, by device ID.
	Fleet(ctx context.Context) ([]decision.Decided, error)
}

// deviceRow is a device of the list and the export with its decision.
type deviceRow struct {
	store.FleetDevice
	Decision decision.Decision
	Standing decision.Standing
	// Controls are the controls the decision names, as chips.
	Controls []controlChip
}

// controlChip is a control named by a decision: Kind is "fail",
// "unknown" (it could not be determined, denied for it or not), "waived"
// (an exception) or "warned" (failing in its grace period, or notify
// only).
type controlChip struct {
	Control checks.ControlID
	Kind    string
}

// statusOf is the dashboard status of a decision: why it denies for the
// device's lifecycle (revoked, inactive, stale), otherwise compliant when
// allowed and noncompliant when denied.
func statusOf(d decision.Decision) store.DeviceStatus {
	return decision.Status(d)
}

// statusRank orders statuses worst first when sorting by status.
var statusRank = map[store.DeviceStatus]int{store.StatusNoncompliant: 0, store.StatusStale: 1, store.StatusInactive: 2,
	store.StatusRevoked: 3, store.StatusCompliant: 4}

func chipsOf(d decision.Decision) []controlChip {
	var out []controlChip
	for _, r := range d.Reasons {
		switch r.Code {
		case decision.CodeControlFailed:
			out = append(out, controlChip{checks.ControlID(r.Control), "fail"})
		case decision.CodeControlUnknown:
			out = append(out, controlChip{checks.ControlID(r.Control), "unknown"})
		}
	}
	for _, w := range d.Warnings {
		switch {
		case w.Control == "":
		case w.Code == decision.CodeExceptionApplied:
			out = append(out, controlChip{checks.ControlID(w.Control), "waived"})
		case w.Code == decision.CodeControlUnknown:
			// Unknown within a grace period, or notify only: still
			// unknown, never a failure.
			out = append(out, controlChip{checks.ControlID(w.Control), "unknown"})
		default:
			out = append(out, controlChip{checks.ControlID(w.Control), "warned"})
		}
	}
	return out
}

func newDeviceRow(fd store.FleetDevice, d decision.Decision) deviceRow {
	fd.Status = statusOf(d)
	return deviceRow{FleetDevice: fd, Decision: d, Standing: decision.AccessOf(d), Controls: chipsOf(d)}
}

// fleetRows lists every device matching q's filters, in q's order, each
// with the engine's decision. It reads the fleet the engine decided
// (Decider.Fleet, in memory), not the store, so that filtering or sorting
// by the decisions' statuses over 10,000 devices costs no query; the
// filters and orders are the store's (FleetDevices) over the same fields.
func (d *Dashboard) fleetRows(ctx context.Context, q store.FleetQuery) ([]deviceRow, error) {
	fleet, err := d.cfg.Decisions.Fleet(ctx)
	if err != nil {
		return nil, err
	}
	search := strings.ToLower(q.Search)
	var rows []deviceRow
	for _, fd := range fleet {
		dev := fd.Posture.Device
		switch {
		case q.OS != "" && dev.Info.OS != q.OS,
			q.Org != "" && dev.Org != q.Org,
			q.Owner != "" && dev.Owner != q.Owner,
			search != "" && !strings.Contains(strings.ToLower(dev.Info.Hostname), search) &&
				!strings.Contains(strings.ToLower(dev.Owner), search) && !strings.Contains(strings.ToLower(dev.ID), search):
			continue
		}
		row := newDeviceRow(store.FleetDevice{Device: dev, LastReportAt: lastReportAt(fd.Posture)}, fd.Decision)
		if (q.Status == "" || row.Status == q.Status) && (q.Control == "" || row.names(q.Control)) {
			rows = append(rows, row)
		}
	}
	key := sortKeys[q.Sort]
	if key == nil {
		key = sortKeys[store.SortHostname]
	}
	slices.SortStableFunc(rows, func(a, b deviceRow) int {
		c := key(a, b)
		if c == 0 {
			c = strings.Compare(a.ID, b.ID)
		}
		if q.Desc {
			return -c
		}
		return c
	})
	return rows, nil
}

// lastReportAt is the posture time of the device's latest report, zero if
// none, as the store's list gives it.
func lastReportAt(p store.Posture) time.Time {
	if p.Latest == nil {
		return time.Time{}
	}
	return decision.PostureTime(p.Latest.CollectedAt, p.Latest.ReceivedAt)
}

// sortKeys are the list's orders (store.SortHostname...), compared as the
// store's ORDER BY compares them; ties go by device ID.
var sortKeys = map[string]func(a, b deviceRow) int{
	store.SortHostname: func(a, b deviceRow) int { return strings.Compare(a.Info.Hostname, b.Info.Hostname) },
	store.SortOwner:    func(a, b deviceRow) int { return strings.Compare(a.Owner, b.Owner) },
	store.SortOrg:      func(a, b deviceRow) int { return strings.Compare(a.Org, b.Org) },
	store.SortOS:       func(a, b deviceRow) int { return strings.Compare(a.Info.OS, b.Info.OS) },
	store.SortLastSeen: func(a, b deviceRow) int { return a.LastReportAt.Compare(b.LastReportAt) },
	store.SortStatus:   func(a, b deviceRow) int { return statusRank[a.Status] - statusRank[b.Status] },
}

// fleetPage is one page of the list and the number of devices matching.
// Without a filter or an order that needs the decisions (status,
// control), the store pages and counts, and only the page's devices are
// judged; otherwise every matching device is judged first (fleetRows).
func (d *Dashboard) fleetPage(ctx context.Context, q store.FleetQuery) ([]deviceRow, int, error) {
	if q.Status != "" || q.Control != "" || q.Sort == store.SortStatus {
		rows, err := d.fleetRows(ctx, q)
		if err != nil {
			return nil, 0, err
		}
		total := len(rows)
		return rows[min(q.Offset, total):min(q.Offset+q.Limit, total)], total, nil
	}
	decisions, err := d.cfg.Decisions.All(ctx)
	if err != nil {
		return nil, 0, err
	}
	page, err := d.st.FleetDevices(ctx, q)
	if err != nil {
		return nil, 0, err
	}
	rows := make([]deviceRow, 0, len(page.Devices))
	for _, fd := range page.Devices {
		dec, ok := decisions[fd.ID]
		if !ok {
			// Enrolled after the decisions were made.
			if dec, err = d.cfg.Decisions.Current(ctx, fd.ID); err != nil {
				continue
			}
		}
		rows = append(rows, newDeviceRow(fd, dec))
	}
	return rows, page.Total, nil
}

// names reports whether the row's decision names control as failing (or
// warned about) or unknown: what the overview's bar for it counts.
func (r deviceRow) names(control checks.ControlID) bool {
	for _, c := range r.Controls {
		if c.Control == control && c.Kind != "waived" {
			return true
		}
	}
	return false
}

// fleetSummary is the fleet as the decisions see it: devices by status,
// and by control the devices whose decision names it failing (denied or
// warned) or unknown.
type fleetSummary struct {
	byStatus         map[store.DeviceStatus]int
	failing, unknown map[checks.ControlID]int
	decisions        map[string]decision.Decision
}

// summarize counts the decisions of every device.
func (d *Dashboard) summarize(ctx context.Context) (fleetSummary, error) {
	decisions, err := d.cfg.Decisions.All(ctx)
	if err != nil {
		return fleetSummary{}, err
	}
	sum := fleetSummary{byStatus: make(map[store.DeviceStatus]int, len(store.DeviceStatuses)),
		failing: map[checks.ControlID]int{}, unknown: map[checks.ControlID]int{}, decisions: decisions}
	for _, dec := range decisions {
		sum.byStatus[statusOf(dec)]++
		seen := map[checks.ControlID]bool{}
		for _, c := range chipsOf(dec) {
			if seen[c.Control] {
				continue
			}
			switch c.Kind {
			case "fail", "warned":
				sum.failing[c.Control]++
			case "unknown":
				sum.unknown[c.Control]++
			default:
				continue
			}
			seen[c.Control] = true
		}
	}
	return sum, nil
}
