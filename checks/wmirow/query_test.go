package wmirow

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks/host"
)

func TestQueryExplainsTimeoutsAndDenials(t *testing.T) {
	const ns, q = `root\cimv2`, "SELECT * FROM Win32_Service"
	for _, tt := range []struct {
		name     string
		err      error
		sentinel error
		want     string
	}{
		{"a timeout says how long it waited", host.ErrTimeout, host.ErrTimeout, `wmi query in root\cimv2 timed out after 5s`},
		{"a denial says who may read it", host.ErrPermission, host.ErrPermission, "access denied (the agent is not running as SYSTEM)"},
		{"anything else passes through", host.ErrNotFound, host.ErrNotFound, "not found"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := host.NewFake("windows", "amd64").AddWMI(ns, q, nil, tt.err)
			_, err := Query(context.Background(), h, ns, q, 5*time.Second, "the agent is not running as SYSTEM")
			if !errors.Is(err, tt.sentinel) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want %v mentioning %q", err, tt.sentinel, tt.want)
			}
		})
	}
	rows := []map[string]any{{"Name": "mpssvc"}}
	got, err := Query(context.Background(), host.NewFake("windows", "amd64").AddWMI(ns, q, rows, nil), ns, q, time.Second, "")
	if err != nil || len(got) != 1 {
		t.Errorf("rows: got %v, %v", got, err)
	}
}
