package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/postern-dev/postern/internal/cmdutil"
	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/store"
)

// DeviceApprovalOptions are the flags and argument of `device approve`
// and `device deny`.
type DeviceApprovalOptions struct {
	DB     StoreOptions
	ID     string
	By     string
	Reason string
	// Approve is true for approve, false for deny.
	Approve bool
}

// NewCmdDeviceApprove returns `device approve`: the administrator's
// answer to an enrollment held by enrollment.approve: manual. runF, when
// set, gets the options.
func NewCmdDeviceApprove(f *Factory, runF func(context.Context, *DeviceApprovalOptions) error) *cobra.Command {
	return newCmdDeviceApproval(f, true, runF)
}

// NewCmdDeviceDeny returns `device deny`, the other answer.
func NewCmdDeviceDeny(f *Factory, runF func(context.Context, *DeviceApprovalOptions) error) *cobra.Command {
	return newCmdDeviceApproval(f, false, runF)
}

func newCmdDeviceApproval(f *Factory, approve bool, runF func(context.Context, *DeviceApprovalOptions) error) *cobra.Command {
	opts := &DeviceApprovalOptions{Approve: approve}
	cmd := &cobra.Command{
		Use:   "approve ID --by NAME",
		Short: "Approve a device whose enrollment waits for approval (enrollment.approve: manual)",
		Long: `Approve a device whose enrollment is pending: its decisions are then made on
its posture like any other device's. A running server sees it within 30
seconds (its posture cache). Audited as device_approved.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			if opts.By == "" {
				return cmdutil.Usagef("--by is required")
			}
			if !opts.Approve && opts.Reason == "" {
				return cmdutil.Usagef("--reason is required")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return deviceApprovalRun(cmd.Context(), f, opts)
		},
	}
	if !approve {
		cmd.Use = "deny ID --reason TEXT --by NAME"
		cmd.Short = "Deny a device whose enrollment waits for approval: it is revoked and must enroll again"
		cmd.Long = `Deny a device whose enrollment is pending: it is revoked (its certificate is
refused at once) and its decisions say enrollment_denied. Audited as
device_denied.`
		cmd.Flags().StringVar(&opts.Reason, "reason", "", "why the enrollment is denied (required, audited)")
	}
	opts.DB.register(cmd.Flags())
	cmd.Flags().StringVar(&opts.By, "by", "", "who decides (required, audited)")
	return cmd
}

// ErrNotPending is returned for a device whose enrollment is not pending.
var ErrNotPending = errors.New("its enrollment is not waiting for approval")

func deviceApprovalRun(ctx context.Context, f *Factory, opts *DeviceApprovalOptions) error {
	return f.withStore(ctx, opts.DB, func(st *server) error {
		dev, err := st.Device(ctx, opts.ID)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no device %q", opts.ID)
		}
		if err != nil {
			return err
		}
		if !dev.Pending() {
			return fmt.Errorf("device %s: %w (approval %q)", opts.ID, ErrNotPending, dev.Approval)
		}
		now := f.Now()
		kind, word := audit.KindEnrollmentApproved, "approved"
		if opts.Approve {
			err = st.SetApproval(ctx, dev.ID, "")
		} else {
			kind, word = audit.KindEnrollmentDenied, "denied"
			if err = st.SetApproval(ctx, dev.ID, store.ApprovalDenied); err == nil {
				err = st.Revoke(ctx, dev.ID, now)
			}
		}
		if err != nil {
			return err
		}
		details := map[string]any{"hostname": dev.Info.Hostname, "org": dev.Org}
		if opts.Reason != "" {
			details["reason"] = opts.Reason
		}
		if _, err := st.audit.Append(ctx, audit.Entry{Actor: opts.By, Kind: kind, DeviceID: dev.ID, At: now, Details: details}); err != nil {
			return err
		}
		_, err = fmt.Fprintf(f.Out, "%s %s\n", word, dev.ID)
		return err
	})
}
