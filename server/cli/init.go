package cli

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/ca"
	"github.com/postern-dev/postern/server/serve"
)

func newInitCmd(d *deps) *cobra.Command {
	var db storeOptions
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create a new server (device CA and database) in an empty data directory, then exit",
		Long: `Create a new server in the data directory: the device CA (ca.pem, ca.key) and the
database. On a directory that already holds a server it changes nothing. On a
database that is missing or damaged next to an existing CA it starts over with
the same CA and keeps the damaged file aside (postern.db.damaged-TIME).
` + "`serve --init`" + ` does the same and then serves.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return initRun(cmd.Context(), d, db)
		},
	}
	db.register(cmd.Flags())
	return cmd
}

func initRun(ctx context.Context, d *deps, o storeOptions) error {
	cfg := o.config(d)
	_, statErr := os.Stat(filepath.Join(cfg.DataDir, ca.CAFile))
	hadCA := statErr == nil
	note, err := serve.CheckServerDir(cfg, true)
	if err != nil {
		return err
	}
	if note != "" {
		fmt.Fprintln(d.stderr, "postern-server:", note)
	}
	st, _, err := serve.OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	authority, err := serve.LoadCA(ctx, st, cfg.DataDir, d.now())
	if err != nil {
		return err
	}
	pin := authority.Pin()
	if hadCA && note == "" {
		_, err = fmt.Fprintf(d.stdout, "%s already holds a Postern server (device CA sha256 %s); nothing changed\n", cfg.DataDir, hex.EncodeToString(pin[:]))
		return err
	}
	if err := auditAdmin(ctx, d, st, audit.KindServerInit, map[string]any{"data_dir": cfg.DataDir, "ca_sha256": hex.EncodeToString(pin[:]), "note": note}); err != nil {
		return err
	}
	_, err = fmt.Fprintf(d.stdout, "new Postern server in %s (device CA sha256 %s)\n", cfg.DataDir, hex.EncodeToString(pin[:]))
	return err
}
