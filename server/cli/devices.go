package cli

import (
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/decision"
	"github.com/postern-dev/postern/server/exceptions"
	"github.com/postern-dev/postern/server/store"
)

// Device lifecycle states shown by `device list`.
const (
	stateActive   = "active"
	stateInactive = "inactive"
	stateRevoked  = "revoked"
)

func deviceState(dev store.Device, now time.Time) string {
	switch {
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
	// Allow, Access and Reasons are the decision the server makes now
	// (decision.Engine over the same store and applied policy).
	Allow          bool              `json:"allow"`
	Access         decision.Access   `json:"access"`
	AccessDeadline *time.Time        `json:"access_deadline,omitempty"`
	Reasons        []decision.Reason `json:"reasons"`
	Warnings       []decision.Reason `json:"warnings,omitempty"`
}

func newDeviceCmd(d *deps) *cobra.Command {
	var db storeOptions
	cmd := &cobra.Command{Use: "device", Short: "List and revoke enrolled devices"}
	dataFlag(cmd, &db)
	var asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List devices with their state (active, inactive after 90 days without a report, or revoked) and the server's access decision now",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd.Context(), d, db, func(st store.Store) error {
				devs, err := st.Devices(cmd.Context())
				if err != nil {
					return err
				}
				eng, err := decision.ForStore(cmd.Context(), st, d.now)
				if err != nil {
					return err
				}
				decided, err := eng.All(cmd.Context())
				if err != nil {
					return err
				}
				now := d.now()
				if asJSON {
					out := make([]deviceJSON, 0, len(devs))
					for _, dev := range devs {
						j := deviceJSON{ID: dev.ID, Hostname: dev.Info.Hostname, OS: dev.Info.OS, Org: dev.Org, Owner: dev.Owner,
							State: deviceState(dev, now), EnrolledAt: dev.EnrolledAt, LastSeenAt: dev.LastSeenAt, CertExpiry: dev.CertNotAfter}
						if dev.Revoked() {
							t := dev.RevokedAt
							j.RevokedAt = &t
						}
						dec := decided[dev.ID]
						s := decision.AccessOf(dec)
						j.Allow, j.Access, j.Reasons, j.Warnings = dec.Allow, s.Access, dec.Reasons, dec.Warnings
						if !s.Deadline.IsZero() {
							j.AccessDeadline = &s.Deadline
						}
						out = append(out, j)
					}
					return printJSON(d, out)
				}
				tw := tabwriter.NewWriter(d.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tHOSTNAME\tOS\tORG\tOWNER\tSTATE\tACCESS\tLAST SEEN")
				for _, dev := range devs {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", dev.ID, dev.Info.Hostname, dev.Info.OS, dev.Org, dev.Owner,
						deviceState(dev, now), decision.AccessOf(decided[dev.ID]).Label(), dev.LastSeenAt.Format(time.RFC3339))
				}
				return tw.Flush()
			})
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")

	var reason, by string
	revoke := &cobra.Command{
		Use:   "revoke ID --reason TEXT --by NAME",
		Short: "Revoke a device: every decision denies it and its certificate is refused at once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if reason == "" || by == "" {
				return usageError{errors.New("--reason and --by are required")}
			}
			return withStore(cmd.Context(), d, db, func(st store.Store) error {
				id := args[0]
				dev, err := st.Device(cmd.Context(), id)
				if errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("no device %q", id)
				}
				if err != nil {
					return err
				}
				if dev.Revoked() {
					return fmt.Errorf("device %s was already revoked at %s", id, dev.RevokedAt.Format(time.RFC3339))
				}
				now := d.now()
				if err := st.Revoke(cmd.Context(), id, now); err != nil {
					return err
				}
				_, err = auditLog(d, st).Append(cmd.Context(), audit.Entry{Actor: by, Kind: audit.KindRevocation, DeviceID: id, At: now,
					Details: map[string]any{"reason": reason, "hostname": dev.Info.Hostname, "cert_sha256": dev.CertSHA256}})
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(d.stdout, "revoked %s\n", id)
				return err
			})
		},
	}
	revoke.Flags().StringVar(&reason, "reason", "", "why the device is revoked (required, audited)")
	revoke.Flags().StringVar(&by, "by", "", "who revokes it (required, audited)")
	cmd.AddCommand(list, NewCmdDeviceShow(d, nil), revoke)
	return cmd
}

func newAttestationCmd(d *deps) *cobra.Command {
	var db storeOptions
	var device, user, version, by string
	cmd := &cobra.Command{Use: "attestation", Short: "Record users' yearly attestations"}
	dataFlag(cmd, &db)
	record := &cobra.Command{
		Use:   "record --device ID --user NAME --statement-version V --by NAME",
		Short: "Record that a user accepted the remote-access statement for a device (taken on paper or by e-mail)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd.Context(), d, db, func(st store.Store) error {
				a, err := exceptions.NewService(st, auditLog(d, st), d.now).Attest(cmd.Context(), device, user, version, by)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintln(d.stdout, a.ID)
				return err
			})
		},
	}
	f := record.Flags()
	f.StringVar(&device, "device", "", "device ID (required)")
	f.StringVar(&user, "user", "", "the user who attests (required)")
	f.StringVar(&version, "statement-version", "", "version of the statement the user accepted (required)")
	f.StringVar(&by, "by", "", "administrator recording it (required)")
	for _, n := range []string{"device", "user", "statement-version", "by"} {
		record.MarkFlagRequired(n)
	}
	cmd.AddCommand(record)
	return cmd
}
