package dashboard

import (
	"context"
	"slices"

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
// "unknown" (it could not be determined), "waived" (an exception) or
// "warned" (in its grace period, or notify only).
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
// with the engine's decision; the status filter and sort apply to the
// decisions' statuses.
func (d *Dashboard) fleetRows(ctx context.Context, q store.FleetQuery) ([]deviceRow, error) {
	status, byStatus, desc := q.Status, q.Sort == store.SortStatus, q.Desc
	q.Status, q.All = "", true
	if byStatus {
		q.Sort, q.Desc = store.SortHostname, false
	}
	decisions, err := d.cfg.Decisions.All(ctx)
	if err != nil {
		return nil, err
	}
	page, err := d.st.FleetDevices(ctx, q)
	if err != nil {
		return nil, err
	}
	var rows []deviceRow
	for _, fd := range page.Devices {
		dec, ok := decisions[fd.ID]
		if !ok {
			// Enrolled after the decisions were made.
			if dec, err = d.cfg.Decisions.Current(ctx, fd.ID); err != nil {
				continue
			}
		}
		row := newDeviceRow(fd, dec)
		if status == "" || row.Status == status {
			rows = append(rows, row)
		}
	}
	if byStatus {
		slices.SortStableFunc(rows, func(a, b deviceRow) int {
			if desc {
				return statusRank[b.Status] - statusRank[a.Status]
			}
			return statusRank[a.Status] - statusRank[b.Status]
		})
	}
	return rows, nil
}

// fleetCounts counts the devices by the status of their decisions.
func (d *Dashboard) fleetCounts(ctx context.Context) (map[store.DeviceStatus]int, error) {
	decisions, err := d.cfg.Decisions.All(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[store.DeviceStatus]int, len(store.DeviceStatuses))
	for _, dec := range decisions {
		out[statusOf(dec)]++
	}
	return out, nil
}
