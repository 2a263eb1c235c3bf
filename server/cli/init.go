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

// InitOptions are init's flags; Config is the data directory and database
// they select, with serve's --config file under them.
type InitOptions struct {
	DB         StoreOptions
	ConfigFile string
	Config     serve.Config
}

// NewCmdInit returns `init`; runF, when set, gets the resolved options.
func NewCmdInit(f *Factory, runF func(context.Context, *InitOptions) error) *cobra.Command {
	opts := &InitOptions{}
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
			opts.Config = opts.DB.config(f)
			if opts.ConfigFile != "" {
				file, err := serve.LoadConfigFile(opts.ConfigFile)
				if err != nil {
					return err
				}
				fl := cmd.Flags()
				if !fl.Changed("data") {
					opts.Config.DataDir = file.DataDir
				}
				if !fl.Changed("database") && !fl.Changed("database-file") && f.Getenv(serve.EnvDatabaseURL) == "" {
					opts.Config.Database, opts.Config.DatabaseFile = file.Database, file.DatabaseFile
				}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return initRun(cmd.Context(), f, opts)
		},
	}
	opts.DB.register(cmd.Flags())
	cmd.Flags().StringVar(&opts.ConfigFile, "config", "", "serve's YAML configuration file, for its data directory and database")
	return cmd
}

func initRun(ctx context.Context, f *Factory, opts *InitOptions) error {
	cfg := opts.Config
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
	authority, err := serve.LoadCA(ctx, st, cfg.DataDir, f.Now())
	if err != nil {
		return err
	}
	pin := authority.Pin()
	if hadCA {
		_, err = fmt.Fprintf(f.Out, "%s already holds a Postern server (device CA sha256 %s); nothing changed\n", cfg.DataDir, hex.EncodeToString(pin[:]))
		return err
	}
	// The audit key is part of a new server: every row, this one first,
	// is keyed.
	l := audit.New(st, f.Now, nil)
	if err := l.OpenKeyed(ctx, cfg.DataDir); err != nil {
		return fmt.Errorf("audit key: %w", err)
	}
	s := &server{Store: st, dataDir: cfg.DataDir, audit: l}
	if err := s.auditAdmin(ctx, audit.KindServerInit, map[string]any{"data_dir": cfg.DataDir, "ca_sha256": hex.EncodeToString(pin[:])}); err != nil {
		return err
	}
	_, err = fmt.Fprintf(f.Out, "new Postern server in %s (device CA sha256 %s)\n", cfg.DataDir, hex.EncodeToString(pin[:]))
	return err
}
