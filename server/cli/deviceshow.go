package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/postern-dev/postern/internal/cmdutil"
	"github.com/postern-dev/postern/server/decision"
	"github.com/postern-dev/postern/server/store"
)

// DeviceShowOptions are the flags and argument of `device show`.
type DeviceShowOptions struct {
	DB   StoreOptions
	ID   string
	JSON bool
}

// deviceShowJSON is `device show --json`: the device as `device list
// --json` shows it, and the whole decision as /v1/decision answers it.
type deviceShowJSON struct {
	deviceJSON
	Decision decision.Decision `json:"decision"`
}

// NewCmdDeviceShow returns `device show`. runF, when set, receives the
// parsed options instead of running them (tests).
func NewCmdDeviceShow(f *Factory, runF func(context.Context, *DeviceShowOptions) error) *cobra.Command {
	opts := &DeviceShowOptions{}
	cmd := &cobra.Command{
		Use:   "show ID [--json]",
		Short: "Show one device and the server's access decision now, with its reasons",
		Long: `Show one device and the access decision the server makes for it now: the
same engine, store and applied policy as GET /v1/decision, so the answer is
the gateway's.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			if len(opts.ID) > 128 {
				return cmdutil.UsageError{Err: errors.New("a device ID is at most 128 bytes")}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return deviceShowRun(cmd.Context(), f, opts)
		},
	}
	opts.DB.register(cmd.Flags())
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON")
	return cmd
}

func deviceShowRun(ctx context.Context, f *Factory, opts *DeviceShowOptions) error {
	return f.withStore(ctx, opts.DB, func(st *server) error {
		dev, err := st.Device(ctx, opts.ID)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no device %q", opts.ID)
		}
		if err != nil {
			return err
		}
		eng, err := decision.ForStore(ctx, st, f.Now)
		if err != nil {
			return err
		}
		dec, err := eng.Decide(ctx, decision.Lookup{DeviceID: dev.ID}, "")
		if err != nil {
			return err
		}
		j := newDeviceJSON(dev, dec, f.Now())
		s := decision.AccessOf(dec)
		if opts.JSON {
			return f.printJSON(deviceShowJSON{deviceJSON: j, Decision: dec})
		}
		return writeDeviceText(f.Out, j, s.Label())
	})
}

func writeDeviceText(w io.Writer, j deviceJSON, access string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "device     %s\n", j.ID)
	fmt.Fprintf(&b, "host       %s (%s)\n", j.Hostname, j.OS)
	fmt.Fprintf(&b, "org/owner  %s / %s\n", j.Org, j.Owner)
	fmt.Fprintf(&b, "state      %s\n", j.State)
	agent := j.AgentVersion
	if agent == "" {
		agent = "unknown (the agent has not said)"
	}
	fmt.Fprintf(&b, "agent      %s\n", agent)
	fmt.Fprintf(&b, "enrolled   %s\n", j.EnrolledAt.Format(time.RFC3339))
	if j.LastSeenAt.IsZero() {
		b.WriteString("last seen  never\n")
	} else {
		fmt.Fprintf(&b, "last seen  %s\n", j.LastSeenAt.Format(time.RFC3339))
	}
	fmt.Fprintf(&b, "access     %s\n", access)
	for _, r := range j.Reasons {
		fmt.Fprintf(&b, "  denied:  %s\n", reasonLine(r))
	}
	for _, r := range j.Warnings {
		fmt.Fprintf(&b, "  warning: %s\n", reasonLine(r))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func reasonLine(r decision.Reason) string {
	s := r.Code
	if r.Control != "" {
		s += " (" + r.Control + ")"
	}
	if r.Message != "" {
		s += ": " + r.Message
	}
	if !r.Until.IsZero() {
		s += " until " + r.Until.Format(time.RFC3339)
	}
	return s
}
