package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/postern-dev/postern/server/serve"
)

// ServeOptions are serve's flags; Config is resolved from them, the
// environment and --config before the command runs.
type ServeOptions struct {
	ConfigFile string
	Config     serve.Config
	// Init creates a server in an empty data directory, or starts over
	// next to a CA whose database is missing or damaged.
	Init bool
}

// NewCmdServe returns `serve`; runF, when set, gets the resolved options.
func NewCmdServe(f *Factory, runF func(context.Context, *ServeOptions) error) *cobra.Command {
	opts := &ServeOptions{Config: serve.DefaultConfig()}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the QUIC ingest endpoint and the HTTPS API",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := resolveServeConfig(cmd, f, opts)
			if err != nil {
				return err
			}
			opts.Config = cfg
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return serveRun(cmd.Context(), f, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.ConfigFile, "config", "", "YAML configuration file")
	fl.StringVar(&opts.Config.PolicyFile, "policy", "", "YAML policy file (default: the built-in Policy 550.04 profile)")
	fl.StringVar(&opts.Config.DataDir, "data", opts.Config.DataDir, "data directory (CA, certificates, SQLite database)")
	fl.BoolVar(&opts.Init, "init", false, "create a new server (CA and database) if the data directory holds none; start over with the same CA if its database is missing or damaged (the damaged file is kept aside)")
	databaseFlags(fl, &opts.Config.Database, &opts.Config.DatabaseFile)
	fl.StringVar(&opts.Config.QUICAddr, "quic", opts.Config.QUICAddr, "UDP address of the QUIC ingest endpoint")
	fl.StringVar(&opts.Config.HTTPSAddr, "https", opts.Config.HTTPSAddr, "TCP address of the HTTPS API")
	fl.StringArrayVar(&opts.Config.TrustedProxies, "trusted-proxy", nil, "CIDR of a reverse proxy allowed to forward client certificates (repeatable)")
	fl.StringArrayVar(&opts.Config.ServerNames, "server-name", nil, "extra DNS name or IP for the server certificate (repeatable)")
	fl.StringVar(&opts.Config.TLSCert, "tls-cert", "", "PEM `FILE` of the certificate (and chain) the HTTPS port serves, e.g. the department's; read again on SIGHUP (default: one from Postern's device CA)")
	fl.StringVar(&opts.Config.TLSKey, "tls-key", "", "PEM `FILE` of the key of --tls-cert")
	fl.StringVar(&opts.Config.GatewayURL, "gateway-url", "", "the EHR gateway's `URL` (https://host[:port]), sent to agents for the browsers' certificate policies")
	fl.StringVar(&opts.Config.MetricsAddr, "metrics", "", "TCP address serving /metrics over plain HTTP without a key (e.g. 127.0.0.1:9464)")
	fl.StringVar(&opts.Config.SQLiteSynchronous, "sqlite-synchronous", "", `SQLite durability: "full" (default; survives power loss) or "normal" (survives a crash; fewer fsyncs)`)
	fl.StringArrayVar(&opts.Config.Replicas, "replica", nil, "QUIC address (host:port) of a replica, this one included, handed to agents for failover (repeatable)")
	fl.StringVar(&opts.Config.LocalSignIn, "local-sign-in", "", `where local dashboard accounts may sign in with a password: "allowed" (default), "loopback" (break-glass through an SSH tunnel) or "off" (needs oidc: in the config file; docs/sso.md)`)
	fl.BoolVar(&opts.Config.AllowInsecureDataDir, "allow-insecure-data-dir", false, "start, with a warning, even if the data directory is writable by others or owned by another account")
	return cmd
}

func serveRun(ctx context.Context, f *Factory, opts *ServeOptions) error {
	return serve.Run(ctx, opts.Config, serve.Options{Logger: jsonLogger(f.ErrOut), Now: f.Now, Version: f.Version, Init: opts.Init})
}

// resolveServeConfig applies flags over the environment over the config
// file over defaults.
func resolveServeConfig(cmd *cobra.Command, fac *Factory, opts *ServeOptions) (serve.Config, error) {
	cfg := opts.Config
	f := cmd.Flags()
	if opts.ConfigFile != "" {
		var err error
		if cfg, err = serve.LoadConfigFile(opts.ConfigFile); err != nil {
			return cfg, err
		}
		if f.Changed("policy") {
			cfg.PolicyFile = opts.Config.PolicyFile
		}
		if f.Changed("data") {
			cfg.DataDir = opts.Config.DataDir
		}
		if f.Changed("quic") {
			cfg.QUICAddr = opts.Config.QUICAddr
		}
		if f.Changed("https") {
			cfg.HTTPSAddr = opts.Config.HTTPSAddr
		}
		if f.Changed("trusted-proxy") {
			cfg.TrustedProxies = opts.Config.TrustedProxies
		}
		if f.Changed("server-name") {
			cfg.ServerNames = opts.Config.ServerNames
		}
		if f.Changed("tls-cert") {
			cfg.TLSCert = opts.Config.TLSCert
		}
		if f.Changed("tls-key") {
			cfg.TLSKey = opts.Config.TLSKey
		}
		if f.Changed("gateway-url") {
			cfg.GatewayURL = opts.Config.GatewayURL
		}
		if f.Changed("sqlite-synchronous") {
			cfg.SQLiteSynchronous = opts.Config.SQLiteSynchronous
		}
		if f.Changed("replica") {
			cfg.Replicas = opts.Config.Replicas
		}
		if f.Changed("local-sign-in") {
			cfg.LocalSignIn = opts.Config.LocalSignIn
		}
		if f.Changed("allow-insecure-data-dir") {
			cfg.AllowInsecureDataDir = opts.Config.AllowInsecureDataDir
		}
		if f.Changed("metrics") {
			cfg.MetricsAddr = opts.Config.MetricsAddr
		}
	}
	// The database is chosen as a whole: a flag or the environment
	// replaces both of the file's fields.
	switch env := fac.Getenv(serve.EnvDatabaseURL); {
	case f.Changed("database") || f.Changed("database-file"):
		cfg.Database, cfg.DatabaseFile = opts.Config.Database, opts.Config.DatabaseFile
	case env != "":
		cfg.Database, cfg.DatabaseFile = env, ""
	}
	return cfg, cfg.Validate()
}
