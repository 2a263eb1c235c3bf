package cli

import (
	"github.com/spf13/cobra"

	"github.com/postern-dev/postern/server/serve"
)

type serveOptions struct {
	configFile string
	cfg        serve.Config
	init       bool
}

func newServeCmd(d *deps) *cobra.Command {
	return newServeCmdWith(d, func(cmd *cobra.Command, cfg serve.Config, init bool) error {
		return serve.Run(cmd.Context(), cfg, serve.Options{Logger: jsonLogger(d.stderr), Now: d.now, Version: d.version, Init: init})
	})
}

// newServeCmdWith is newServeCmd running runF with the resolved
// configuration, so that tests can see it.
func newServeCmdWith(d *deps, runF func(*cobra.Command, serve.Config, bool) error) *cobra.Command {
	opts := serveOptions{cfg: serve.DefaultConfig()}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the QUIC ingest endpoint and the HTTPS API",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := resolveServeConfig(cmd, d, opts)
			if err != nil {
				return err
			}
			return runF(cmd, cfg, opts.init)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.configFile, "config", "", "YAML configuration file")
	f.StringVar(&opts.cfg.PolicyFile, "policy", "", "YAML policy file (default: the built-in Policy 550.04 profile)")
	f.StringVar(&opts.cfg.DataDir, "data", opts.cfg.DataDir, "data directory (CA, certificates, SQLite database)")
	f.BoolVar(&opts.init, "init", false, "create a new server (CA and database) if the data directory holds none; start over with the same CA if its database is missing or damaged (the damaged file is kept aside)")
	databaseFlags(f, &opts.cfg.Database, &opts.cfg.DatabaseFile)
	f.StringVar(&opts.cfg.QUICAddr, "quic", opts.cfg.QUICAddr, "UDP address of the QUIC ingest endpoint")
	f.StringVar(&opts.cfg.HTTPSAddr, "https", opts.cfg.HTTPSAddr, "TCP address of the HTTPS API")
	f.StringArrayVar(&opts.cfg.TrustedProxies, "trusted-proxy", nil, "CIDR of a reverse proxy allowed to forward client certificates (repeatable)")
	f.StringArrayVar(&opts.cfg.ServerNames, "server-name", nil, "extra DNS name or IP for the server certificate (repeatable)")
	f.StringVar(&opts.cfg.TLSCert, "tls-cert", "", "PEM `FILE` of the certificate (and chain) the HTTPS port serves, e.g. the department's; read again on SIGHUP (default: one from Postern's device CA)")
	f.StringVar(&opts.cfg.TLSKey, "tls-key", "", "PEM `FILE` of the key of --tls-cert")
	f.StringVar(&opts.cfg.GatewayURL, "gateway-url", "", "the EHR gateway's `URL` (https://host[:port]), sent to agents for the browsers' certificate policies")
	f.StringVar(&opts.cfg.MetricsAddr, "metrics", "", "TCP address serving /metrics over plain HTTP without a key (e.g. 127.0.0.1:9464)")
	f.StringVar(&opts.cfg.SQLiteSynchronous, "sqlite-synchronous", "", `SQLite durability: "full" (default; survives power loss) or "normal" (survives a crash; fewer fsyncs)`)
	f.StringArrayVar(&opts.cfg.Replicas, "replica", nil, "QUIC address (host:port) of a replica, this one included, handed to agents for failover (repeatable)")
	f.BoolVar(&opts.cfg.AllowInsecureDataDir, "allow-insecure-data-dir", false, "start, with a warning, even if the data directory is writable by others or owned by another account")
	return cmd
}

// resolveServeConfig applies flags over the environment over the config
// file over defaults.
func resolveServeConfig(cmd *cobra.Command, d *deps, opts serveOptions) (serve.Config, error) {
	cfg := opts.cfg
	f := cmd.Flags()
	if opts.configFile != "" {
		var err error
		if cfg, err = serve.LoadConfigFile(opts.configFile); err != nil {
			return cfg, err
		}
		if f.Changed("policy") {
			cfg.PolicyFile = opts.cfg.PolicyFile
		}
		if f.Changed("data") {
			cfg.DataDir = opts.cfg.DataDir
		}
		if f.Changed("quic") {
			cfg.QUICAddr = opts.cfg.QUICAddr
		}
		if f.Changed("https") {
			cfg.HTTPSAddr = opts.cfg.HTTPSAddr
		}
		if f.Changed("trusted-proxy") {
			cfg.TrustedProxies = opts.cfg.TrustedProxies
		}
		if f.Changed("server-name") {
			cfg.ServerNames = opts.cfg.ServerNames
		}
		if f.Changed("tls-cert") {
			cfg.TLSCert = opts.cfg.TLSCert
		}
		if f.Changed("tls-key") {
			cfg.TLSKey = opts.cfg.TLSKey
		}
		if f.Changed("gateway-url") {
			cfg.GatewayURL = opts.cfg.GatewayURL
		}
		if f.Changed("sqlite-synchronous") {
			cfg.SQLiteSynchronous = opts.cfg.SQLiteSynchronous
		}
		if f.Changed("replica") {
			cfg.Replicas = opts.cfg.Replicas
		}
		if f.Changed("allow-insecure-data-dir") {
			cfg.AllowInsecureDataDir = opts.cfg.AllowInsecureDataDir
		}
		if f.Changed("metrics") {
			cfg.MetricsAddr = opts.cfg.MetricsAddr
		}
	}
	// The database is chosen as a whole: a flag or the environment
	// replaces both of the file's fields.
	switch env := d.getenv(serve.EnvDatabaseURL); {
	case f.Changed("database") || f.Changed("database-file"):
		cfg.Database, cfg.DatabaseFile = opts.cfg.Database, opts.cfg.DatabaseFile
	case env != "":
		cfg.Database, cfg.DatabaseFile = env, ""
	}
	return cfg, cfg.Validate()
}
