package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/postern-dev/postern/checks"
)

// DeviceStatus is a device's standing on the dashboard.
type DeviceStatus string

// Dashboard statuses. A device that never reported counts as stale until
// it has been enrolled longer than the inactive threshold.
const (
	StatusCompliant    DeviceStatus = "compliant"
	StatusNoncompliant DeviceStatus = "noncompliant"
	StatusStale        DeviceStatus = "stale"
	StatusInactive     DeviceStatus = "inactive"
	StatusRevoked      DeviceStatus = "revoked"
)

// DeviceStatuses lists every status in display order.
var DeviceStatuses = []DeviceStatus{StatusCompliant, StatusNoncompliant, StatusStale, StatusInactive, StatusRevoked}

// Valid reports whether s is a known status.
func (s DeviceStatus) Valid() bool {
	for _, v := range DeviceStatuses {
		if v == s {
			return true
		}
	}
	return false
}

// Thresholds decide when a device is stale or inactive, at Now.
type Thresholds struct {
	Now time.Time
	// StaleAfter is the policy's maximum report age.
	StaleAfter time.Duration
	// InactiveAfter is how long without a report makes a device inactive.
	InactiveAfter time.Duration
}

// Sort keys of FleetQuery.
const (
	SortHostname = "hostname"
	SortOwner    = "owner"
	SortOrg      = "org"
	SortOS       = "os"
	SortLastSeen = "last_report"
	SortStatus   = "status"
)

var sortColumns = map[string]string{
	SortHostname: "x.hostname", SortOwner: "x.owner", SortOrg: "x.org", SortOS: "x.os",
	SortLastSeen: "x.pt", SortStatus: "x.status_rank",
}

// FleetQuery selects one page of the device list. Empty fields do not
// filter.
type FleetQuery struct {
	Thresholds
	Status  DeviceStatus
	Control checks.ControlID
	OS      string
	Org     string
	Owner   string
	// Search matches a substring of the hostname, owner or device ID,
	// ignoring ASCII case.
	Search string
	Sort   string
	Desc   bool
	Offset int
	// Limit is at most MaxPageSize; 0 means MaxPageSize.
	Limit int
	// All lists every matching device in one query, ignoring Offset and
	// Limit (Total is then the number listed): for callers that filter
	// or page the rows themselves, such as the dashboard, which judges
	// each device by its decision.
	All bool
}

// MaxPageSize bounds one page of FleetDevices; exports page through.
const MaxPageSize = 1000

// FleetDevice is a device row of the list.
type FleetDevice struct {
	Device
	Status DeviceStatus
	// LastReportAt is the posture time of the latest report; zero if none.
	LastReportAt time.Time
	Failing      []checks.ControlID
}

// FleetPage is one page and the number of devices matching in all.
type FleetPage struct {
	Devices []FleetDevice
	Total   int
}

// FleetCounts summarises the fleet for the overview.
type FleetCounts struct {
	ByStatus map[DeviceStatus]int
	// FailuresByControl counts non-revoked devices failing each control.
	FailuresByControl map[checks.ControlID]int
}

// Change is something that happened to a device, for "changed recently".
type Change struct {
	DeviceID, Hostname string
	At                 time.Time
	// Kind is "enrolled", "revoked" or "failing"; Control is set for failing.
	Kind    string
	Control checks.ControlID
}

// TrendPoint is one day's counts.
type TrendPoint struct {
	Day    time.Time
	Counts map[DeviceStatus]int
}

// TokenInfo is an enrollment token as listed (never its secret).
type TokenInfo struct {
	Token
	UsedAt   time.Time
	DeviceID string
}

// Fleet answers the dashboard's queries; part of Store.
type Fleet interface {
	FleetDevices(ctx context.Context, q FleetQuery) (FleetPage, error)
	FleetCounts(ctx context.Context, t Thresholds) (FleetCounts, error)
	// FleetFacets lists the distinct organizations and OSes, for filters.
	FleetFacets(ctx context.Context) (orgs, oses []string, err error)
	// RecentChanges lists up to limit changes since, newest first.
	RecentChanges(ctx context.Context, since time.Time, limit int) ([]Change, error)
	// RecordTrend stores the counts of the UTC day holding day.
	RecordTrend(ctx context.Context, day time.Time, counts map[DeviceStatus]int) error
	// Trend returns the recorded days from from on, oldest first.
	Trend(ctx context.Context, from time.Time) ([]TrendPoint, error)
	// Tokens lists enrollment tokens, newest first, up to limit.
	Tokens(ctx context.Context, limit int) ([]TokenInfo, error)
	// RevokeToken makes an unused token expire at at; ErrNotFound if there
	// is no such unused token.
	RevokeToken(ctx context.Context, hash string, at time.Time) error
}

// postureTime is decision.PostureTime in SQL.
const postureTime = `CASE WHEN l.collected_at > 0 AND l.collected_at < l.received_at THEN l.collected_at ELSE l.received_at END`

// statusSelect computes every device's status; its four placeholders are
// the inactive cutoff twice and the stale cutoff, in statusArgs order.
const statusSelect = `SELECT ` + deviceColumns + `, COALESCE(` + postureTime + `, 0) AS pt,
	CASE
		WHEN d.revoked_at <> 0 THEN 'revoked'
		WHEN l.device_id IS NULL THEN CASE WHEN d.enrolled_at < ? THEN 'inactive' ELSE 'stale' END
		WHEN ` + postureTime + ` < ? THEN 'inactive'
		WHEN ` + postureTime + ` < ? THEN 'stale'
		WHEN cf.device_id IS NOT NULL THEN 'noncompliant'
		ELSE 'compliant'
	END AS st
	FROM devices d LEFT JOIN latest_reports l ` + latestHint + ` ON l.device_id = d.id
	LEFT JOIN (SELECT DISTINCT device_id FROM control_failures) cf ON cf.device_id = d.id`

// latestHint makes SQLite read report times from the covering index
// instead of rows that also hold the report body, which is ten times
// slower over a large fleet. statusSQL drops it for other databases.
const latestHint = `INDEXED BY latest_reports_times`

// statusSQL is statusSelect for the store's database.
func (s *sqlStore) statusSQL() string {
	if s.style == placeholderQuestion {
		return statusSelect
	}
	return strings.Replace(statusSelect, latestHint, "", 1)
}

func statusArgs(t Thresholds) []any {
	inactive, stale := t.Now.Add(-t.InactiveAfter).UnixNano(), t.Now.Add(-t.StaleAfter).UnixNano()
	return []any{inactive, inactive, stale}
}

// rankSQL orders statuses worst first when sorting by status.
const rankSQL = `CASE s.st WHEN 'noncompliant' THEN 0 WHEN 'stale' THEN 1 WHEN 'inactive' THEN 2 WHEN 'revoked' THEN 3 ELSE 4 END`

func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(strings.ToLower(s)) + "%"
}

func (s *sqlStore) FleetDevices(ctx context.Context, q FleetQuery) (FleetPage, error) {
	if q.Limit <= 0 || q.Limit > MaxPageSize {
		q.Limit = MaxPageSize
	}
	q.Offset = max(q.Offset, 0)

	var where []string
	args := statusArgs(q.Thresholds)
	add := func(cond string, a ...any) { where = append(where, cond); args = append(args, a...) }
	if q.Status != "" {
		add(`x.st = ?`, string(q.Status))
	}
	if q.Control != "" {
		add(`EXISTS (SELECT 1 FROM control_failures f WHERE f.device_id = x.id AND f.control_id = ?)`, string(q.Control))
	}
	if q.OS != "" {
		add(`x.os = ?`, q.OS)
	}
	if q.Org != "" {
		add(`x.org = ?`, q.Org)
	}
	if q.Owner != "" {
		add(`x.owner = ?`, q.Owner)
	}
	if q.Search != "" {
		p := likePattern(q.Search)
		add(`(LOWER(x.hostname) LIKE ? ESCAPE '\' OR LOWER(x.owner) LIKE ? ESCAPE '\' OR LOWER(x.id) LIKE ? ESCAPE '\')`, p, p, p)
	}
	from := `FROM (SELECT s.*, ` + rankSQL + ` AS status_rank FROM (` + s.statusSQL() + `) s) x`
	if len(where) > 0 {
		from += ` WHERE ` + strings.Join(where, ` AND `)
	}
	var page FleetPage
	if !q.All {
		if err := s.r.QueryRowContext(ctx, s.q(`SELECT COUNT(*) `+from), args...).Scan(&page.Total); err != nil {
			return page, fmt.Errorf("count devices: %w", err)
		}
	}
	col, ok := sortColumns[q.Sort]
	if !ok {
		col = sortColumns[SortHostname]
	}
	dir := " ASC"
	if q.Desc {
		dir = " DESC"
	}
	cols := strings.ReplaceAll(deviceColumns, "d.", "x.")
	query := `SELECT ` + cols + `, x.pt, x.st ` + from + ` ORDER BY ` + col + dir + `, x.id` + dir
	if !q.All {
		query += ` LIMIT ? OFFSET ?`
		args = append(args, q.Limit, q.Offset)
	}
	rows, err := s.r.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return page, fmt.Errorf("list devices: %w", err)
	}
	defer rows.Close()
	index := map[string]int{}
	for rows.Next() {
		var pt int64
		var st string
		d, err := scanDevice(rows, &pt, &st)
		if err != nil {
			return page, err
		}
		index[d.ID] = len(page.Devices)
		page.Devices = append(page.Devices, FleetDevice{Device: d, Status: DeviceStatus(st), LastReportAt: fromNanos(pt)})
	}
	if err := rows.Err(); err != nil {
		return page, fmt.Errorf("list devices: %w", err)
	}
	if q.All {
		page.Total = len(page.Devices)
	}
	return page, s.fillFailing(ctx, page.Devices, index)
}

// fillFailing loads the failing controls of one page's devices.
func (s *sqlStore) fillFailing(ctx context.Context, devs []FleetDevice, index map[string]int) error {
	if len(devs) == 0 {
		return nil
	}
	ids := make([]any, len(devs))
	for i, d := range devs {
		ids[i] = d.ID
	}
	query := `SELECT device_id, control_id FROM control_failures WHERE device_id IN (?` + strings.Repeat(`, ?`, len(ids)-1) + `) ORDER BY control_id`
	if len(ids) > MaxPageSize {
		// Past a page, reading every failure is cheaper than a long IN
		// list, and stays within the databases' parameter limits.
		query, ids = `SELECT device_id, control_id FROM control_failures ORDER BY control_id`, nil
	}
	rows, err := s.r.QueryContext(ctx, s.q(query), ids...)
	if err != nil {
		return fmt.Errorf("read control failures: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var dev, ctl string
		if err := rows.Scan(&dev, &ctl); err != nil {
			return fmt.Errorf("read control failures: %w", err)
		}
		i, ok := index[dev]
		if !ok {
			continue // not listed
		}
		devs[i].Failing = append(devs[i].Failing, checks.ControlID(ctl))
	}
	return rows.Err()
}

func (s *sqlStore) FleetCounts(ctx context.Context, t Thresholds) (FleetCounts, error) {
	c := FleetCounts{ByStatus: map[DeviceStatus]int{}, FailuresByControl: map[checks.ControlID]int{}}
	// One pass with conditional sums: GROUP BY over the computed status
	// makes SQLite sort every row first.
	var sums []string
	dest := make([]any, len(DeviceStatuses))
	counts := make([]int, len(DeviceStatuses))
	for i, st := range DeviceStatuses {
		sums = append(sums, `COALESCE(SUM(CASE WHEN s.st = '`+string(st)+`' THEN 1 ELSE 0 END), 0)`)
		dest[i] = &counts[i]
	}
	err := s.r.QueryRowContext(ctx, s.q(`SELECT `+strings.Join(sums, `, `)+` FROM (`+s.statusSQL()+`) s`), statusArgs(t)...).Scan(dest...)
	if err != nil {
		return c, fmt.Errorf("count devices: %w", err)
	}
	for i, st := range DeviceStatuses {
		c.ByStatus[st] = counts[i]
	}
	rows, err := s.r.QueryContext(ctx, `SELECT f.control_id, COUNT(*) FROM control_failures f JOIN devices d ON d.id = f.device_id
		WHERE d.revoked_at = 0 GROUP BY f.control_id`)
	if err != nil {
		return c, fmt.Errorf("count failures: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return c, fmt.Errorf("count failures: %w", err)
		}
		c.FailuresByControl[checks.ControlID(id)] = n
	}
	return c, rows.Err()
}

func (s *sqlStore) FleetFacets(ctx context.Context) ([]string, []string, error) {
	orgs, err := s.distinct(ctx, `SELECT DISTINCT org FROM devices WHERE org <> '' ORDER BY org LIMIT 500`)
	if err != nil {
		return nil, nil, err
	}
	oses, err := s.distinct(ctx, `SELECT DISTINCT os FROM devices WHERE os <> '' ORDER BY os LIMIT 50`)
	return orgs, oses, err
}

func (s *sqlStore) distinct(ctx context.Context, query string) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("list facets: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("list facets: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
