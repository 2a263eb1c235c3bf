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
	var configFile string
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create a new server (device CA and database) in an empty data directory, then exit",
		Long: `Create a new server in the data directory: the device CA (ca.pem, ca.key) and the
database. On a directory that already holds a server it changes nothing, so a
service may run it before every start. It never starts over: a database that
is missing or damaged next to an existing CA is refused as serve refuses it
(` + "`serve --init`" + ` is the explicit way to start over).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg := db.config(d)
			if configFile != "" {
				file, err := serve.LoadConfigFile(configFile)
				if err != nil {
					return err
				}
				f := cmd.Flags()
				if !f.Changed("data") {
					cfg.DataDir = file.DataDir
				}
				if !f.Changed("database") && !f.Changed("database-file") && d.getenv(serve.EnvDatabaseURL) == "" {
					cfg.Database, cfg.DatabaseFile = file.Database, file.DatabaseFile
				}
			}
			return initRun(cmd.Context(), d, cfg)
		},
	}
	db.register(cmd.Flags())
	cmd.Flags().StringVar(&configFile, "config", "", "serve's YAML configuration file, for its data directory and database")
	return cmd
}

func initRun(ctx context.Context, d *deps, cfg serve.Config) error {
	_, statErr := os.Stat(filepath.Join(cfg.DataDir, ca.CAFile))
	hadCA := statErr == nil
	if hadCA {
		// A damaged database is refused here as serve refuses it.
		if _, err := serve.CheckServerDir(cfg, false); err != nil {
			return err
		}
	}
	if _, err := serve.CheckServerDir(cfg, true); err != nil {
		return err
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
	if hadCA {
		_, err = fmt.Fprintf(d.stdout, "%s already holds a Postern server (device CA sha256 %s); nothing changed\n", cfg.DataDir, hex.EncodeToString(pin[:]))
		return err
	}
	// The audit key is part of a new server: every row, this one first,
	// is keyed.
	l := audit.New(st, d.now, nil)
	if err := l.OpenKeyed(ctx, cfg.DataDir); err != nil {
		return fmt.Errorf("audit key: %w", err)
	}
	d.auditKeys = l.Keys()
	if err := auditAdmin(ctx, d, st, audit.KindServerInit, map[string]any{"data_dir": cfg.DataDir, "ca_sha256": hex.EncodeToString(pin[:])}); err != nil {
		return err
	}
	_, err = fmt.Fprintf(d.stdout, "new Postern server in %s (device CA sha256 %s)\n", cfg.DataDir, hex.EncodeToString(pin[:]))
	return err
}
