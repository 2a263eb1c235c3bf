package cli

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/postern-dev/postern/server/alerts"
	"github.com/postern-dev/postern/server/serve"
)

// alertAuditBreak sends the audit chain's break through the alerts of
// the server configuration in file, as the server's daily check would,
// and marks it alerted so the server does not repeat it.
func alertAuditBreak(ctx context.Context, f *Factory, st *server, file string) error {
	cfg, err := serve.LoadConfigFile(file)
	if err != nil {
		return err
	}
	chans, err := cfg.Alerts.Channels(f.Now)
	if err != nil {
		return err
	}
	if len(chans) == 0 {
		return fmt.Errorf("%s configures no alerts", file)
	}
	log := slog.New(slog.NewTextHandler(f.ErrOut, &slog.HandlerOptions{Level: slog.LevelWarn}))
	d := alerts.New(alerts.Config{Channels: chans, Now: f.Now, Attempts: 3, Logger: log})
	raised := 0
	w := alerts.NewWatcher(alerts.WatchConfig{Store: st, Audit: st.audit, Now: f.Now, Logger: log,
		Raise: func(a alerts.Alert) { raised++; d.Raise(a) }})
	if err := w.VerifyAudit(ctx); err != nil {
		return err
	}
	if raised == 0 {
		fmt.Fprintln(f.ErrOut, "this break was alerted before")
		return nil
	}
	d.Flush(ctx)
	if n := d.Pending(); n > 0 {
		return fmt.Errorf("alert not delivered to %d of %d channel(s)", n, len(chans))
	}
	fmt.Fprintf(f.ErrOut, "alert sent to %d channel(s)\n", len(chans))
	return nil
}
