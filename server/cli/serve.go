package cli

import (
	"github.com/spf13/cobra"

	"github.com/postern-dev/postern/server/serve"
)

type serveOptions struct {
	configFile string
	cfg        serve.Config
}

func newServeCmd(d *deps) *cobra.Command {
	opts := serveOptions{cfg: serve.DefaultConfig()}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the QUIC ingest endpoint and the HTTPS API",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := resolveServeConfig(cmd, opts)
			if err != nil {
				return err
			}
			return serve.Run(cmd.Context(), cfg, serve.Options{Logger: jsonLogger(d.stderr), Now: d.now, Version: d.version})
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.configFile, "config", "", "YAML configuration file")
	f.StringVar(&opts.cfg.PolicyFile, "policy", "", "YAML policy file (default: the built-in Policy 550.04 profile)")
	f.StringVar(&opts.cfg.DataDir, "data", opts.cfg.DataDir, "data directory (CA, certificates, database)")
	f.StringVar(&opts.cfg.QUICAddr, "quic", opts.cfg.QUICAddr, "UDP address of the QUIC ingest endpoint")
	f.StringVar(&opts.cfg.HTTPSAddr, "https", opts.cfg.HTTPSAddr, "TCP address of the HTTPS API")
	f.StringArrayVar(&opts.cfg.TrustedProxies, "trusted-proxy", nil, "CIDR of a reverse proxy allowed to forward client certificates (repeatable)")
	f.StringArrayVar(&opts.cfg.ServerNames, "server-name", nil, "extra DNS name or IP for the server certificate (repeatable)")
	f.StringVar(&opts.cfg.MetricsAddr, "metrics", "", "TCP address serving /metrics over plain HTTP without a key (e.g. 127.0.0.1:9464)")
	return cmd
}

// resolveServeConfig applies flags over the config file over defaults.
func resolveServeConfig(cmd *cobra.Command, opts serveOptions) (serve.Config, error) {
	if opts.configFile == "" {
		return opts.cfg, opts.cfg.Validate()
	}
	cfg, err := serve.LoadConfigFile(opts.configFile)
	if err != nil {
		return cfg, err
	}
	f := cmd.Flags()
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
	if f.Changed("metrics") {
		cfg.MetricsAddr = opts.cfg.MetricsAddr
	}
	return cfg, cfg.Validate()
}
