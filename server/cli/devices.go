package cli

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/postern-dev/postern/internal/cmdutil"
	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/decision"
	"github.com/postern-dev/postern/server/store"
)

// Device lifecycle states shown by `device list`.
const (
	stateActive   = "active"
	stateInactive = "inactive"
	stateRevoked  = "revoked"
	// statePending: the enrollment waits for an administrator's approval;
	// stateDenied: it was refused.
	statePending = "pending"
	stateDenied  = "denied"
)

func deviceState(dev store.Device, now time.Time) string {
	switch {
	case dev.Approval == store.ApprovalDenied:
		return stateDenied
	case dev.Pending():
		return statePending
	case dev.Revoked():
		return stateRevoked
	case decision.Inactive(dev.LastSeenAt, now):
		return stateInactive
	}
	return stateActive
}

type deviceJSON struct {
	ID         string     `json:"id"`
	Hostname   string     `json:"hostname"`
	OS         string     `json:"os"`
	Org        string     `json:"org"`
	Owner      string     `json:"owner"`
	State      string     `json:"state"`
	EnrolledAt time.Time  `json:"enrolled_at"`
	LastSeenAt time.Time  `json:"last_seen_at"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	CertExpiry time.Time  `json:"cert_not_after"`
	// AgentVersion is the version the device's agent last gave; empty
	// if it never did.
	AgentVersion string `json:"agent_version"`
	// Allow, Access and Reasons are the decision the server makes now
	// (decision.Engine over the same store and applied policy).
	Allow          bool              `json:"allow"`
	Access         decision.Access   `json:"access"`
	AccessDeadline *time.Time        `json:"access_deadline,omitempty"`
	Reasons        []decision.Reason `json:"reasons"`
	Warnings       []decision.Reason `json:"warnings,omitempty"`
}

// newDeviceJSON is dev with the engine's decision dec, as device list and
// device show print it.
func newDeviceJSON(dev store.Device, dec decision.Decision, now time.Time) deviceJSON {
	j := deviceJSON{ID: dev.ID, Hostname: dev.Info.Hostname, OS: dev.Info.OS, Org: dev.Org, Owner: dev.Owner,
		State: deviceState(dev, now), EnrolledAt: dev.EnrolledAt, LastSeenAt: dev.LastSeenAt, CertExpiry: dev.CertNotAfter,
		AgentVersion: dev.AgentVersion}
	if dev.Revoked() {
		t := dev.RevokedAt
		j.RevokedAt = &t
	}
	s := decision.AccessOf(dec)
	j.Allow, j.Access, j.Reasons, j.Warnings = dec.Allow, s.Access, dec.Reasons, dec.Warnings
	if !s.Deadline.IsZero() {
		j.AccessDeadline = &s.Deadline
	}
	return j
}

func newDeviceCmd(f *Factory) *cobra.Command {
	return group("device", "List, show and revoke enrolled devices",
		NewCmdDeviceList(f, nil), NewCmdDeviceShow(f, nil), NewCmdDeviceRevoke(f, nil),
		NewCmdDeviceApprove(f, nil), NewCmdDeviceDeny(f, nil))
}

// DeviceListOptions are the flags of `device list`.
type DeviceListOptions struct {
	DB   StoreOptions
	JSON bool
}

// NewCmdDeviceList returns `device list`; runF, when set, gets the
// options.
func NewCmdDeviceList(f *Factory, runF func(context.Context, *DeviceListOptions) error) *cobra.Command {
	opts := &DeviceListOptions{}
	cmd := &cobra.Command{
		Use:   "list [--json]",
		Short: "List devices with their state (active, inactive after 90 days without a report, or revoked) and the server's access decision now",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return deviceListRun(cmd.Context(), f, opts)
		},
	}
	opts.DB.register(cmd.Flags())
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON")
	return cmd
}

func deviceListRun(ctx context.Context, f *Factory, opts *DeviceListOptions) error {
	return f.withStore(ctx, opts.DB, func(st *server) error {
		devs, err := st.Devices(ctx)
		if err != nil {
			return err
		}
		eng, err := decision.ForStore(ctx, st, f.Now)
		if err != nil {
			return err
		}
		decided, err := eng.All(ctx)
		if err != nil {
			return err
		}
		now := f.Now()
		if opts.JSON {
			out := make([]deviceJSON, 0, len(devs))
			for _, dev := range devs {
				out = append(out, newDeviceJSON(dev, decided[dev.ID], now))
			}
			return f.printJSON(out)
		}
		tw := tabwriter.NewWriter(f.Out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tHOSTNAME\tOS\tORG\tOWNER\tSTATE\tACCESS\tLAST SEEN")
		for _, dev := range devs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", dev.ID, dev.Info.Hostname, dev.Info.OS, dev.Org, dev.Owner,
				deviceState(dev, now), decision.AccessOf(decided[dev.ID]).Label(), dev.LastSeenAt.Format(time.RFC3339))
		}
		return tw.Flush()
	})
}

// DeviceRevokeOptions are the flags and argument of `device revoke`.
type DeviceRevokeOptions struct {
	DB         StoreOptions
	ID         string
	Reason, By string
}

// NewCmdDeviceRevoke returns `device revoke`; runF, when set, gets the
// options.
func NewCmdDeviceRevoke(f *Factory, runF func(context.Context, *DeviceRevokeOptions) error) *cobra.Command {
	opts := &DeviceRevokeOptions{}
	cmd := &cobra.Command{
		Use:   "revoke ID --reason TEXT --by NAME",
		Short: "Revoke a device: every decision denies it and its certificate is refused at once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			if opts.Reason == "" || opts.By == "" {
				return cmdutil.Usagef("--reason and --by are required")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return deviceRevokeRun(cmd.Context(), f, opts)
		},
	}
	opts.DB.register(cmd.Flags())
	cmd.Flags().StringVar(&opts.Reason, "reason", "", "why the device is revoked (required, audited)")
	cmd.Flags().StringVar(&opts.By, "by", "", "who revokes it (required, audited)")
	return cmd
}

func deviceRevokeRun(ctx context.Context, f *Factory, opts *DeviceRevokeOptions) error {
	return f.withStore(ctx, opts.DB, func(st *server) error {
		id := opts.ID
		dev, err := st.Device(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no device %q", id)
		}
		if err != nil {
			return err
		}
		if dev.Revoked() {
			return fmt.Errorf("device %s was already revoked at %s", id, dev.RevokedAt.Format(time.RFC3339))
		}
		now := f.Now()
		if err := st.Revoke(ctx, id, now); err != nil {
			return err
		}
		_, err = st.audit.Append(ctx, audit.Entry{Actor: opts.By, Kind: audit.KindRevocation, DeviceID: id, At: now,
			Details: map[string]any{"reason": opts.Reason, "hostname": dev.Info.Hostname, "cert_sha256": dev.CertSHA256}})
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(f.Out, "revoked %s\n", id)
		return err
	})
}
