package serve

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/postern-dev/postern/server/store"

	"gopkg.in/yaml.v3"

	pb "github.com/postern-dev/postern/proto"
	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/policy"
)

// Defaults of Config.
const (
	DefaultQUICAddr         = ":4433"
	DefaultHTTPSAddr        = ":8443"
	DefaultHistoryRetention = 90 * 24 * time.Hour
	maxConfigSize           = 1 << 20
)

// Config is postern-server's configuration. Flags override the file.
type Config struct {
	// DataDir holds the CA, the server certificate and, unless Database
	// or DatabaseFile is set, the SQLite database.
	DataDir string `yaml:"data_dir"`
	// Database is a PostgreSQL connection string (postgres://... or
	// key=value pairs); empty means the embedded SQLite database. Prefer
	// DatabaseFile or EnvDatabaseURL when it holds a password.
	Database string `yaml:"database"`
	// DatabaseFile names a file holding Database, readable only by the
	// server's account.
	DatabaseFile string `yaml:"database_file"`
	// PolicyFile is a YAML policy (checks.ParsePolicy); empty means the
	// built-in Policy 550.04 profile.
	PolicyFile string `yaml:"policy"`
	QUICAddr   string `yaml:"quic"`
	HTTPSAddr  string `yaml:"https"`
	// TrustedProxies are CIDRs whose requests to /v1/authz may carry a
	// client certificate in a header.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// ServerNames are extra DNS names or IPs in the server certificate.
	ServerNames []string `yaml:"server_names"`
	// TLSCert and TLSKey are PEM files of the certificate (with its
	// chain) and key the HTTPS port serves, typically the department's,
	// so that browsers trust the console; read again on SIGHUP. Unset,
	// the HTTPS port serves a certificate of Postern's device CA. The QUIC
	// port always serves the device CA's, which agents pin.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// GatewayURL is the EHR gateway's address (https://host[:port]),
	// sent to agents at enrollment so that browsers present
	// the device certificate to it without asking (docs/identity.md).
	GatewayURL string `yaml:"gateway_url"`
	// TPMEKCAFile is a PEM file of the TPM manufacturer CAs (roots, and
	// the intermediates that issued EK certificates) whose TPMs this
	// server trusts to hold hardware device keys. None by default: TPM
	// keys are then checked but recorded as software (docs/identity-keys.md).
	TPMEKCAFile string `yaml:"tpm_ek_ca_file"`
	// HistoryRetention is how long reports are kept in the history.
	HistoryRetention time.Duration `yaml:"history_retention"`
	// AuditRetention is how long audit rows are kept: at least a year
	// (audit.MinRetention); audit.DefaultRetention when unset.
	AuditRetention time.Duration `yaml:"audit_retention"`
	// MassFailureShare is the share of active devices (0 < x <= 1) a
	// policy change may flip to deny before it is held;
	// policy.DefaultMaxDenyShare when unset.
	MassFailureShare float64 `yaml:"mass_failure_share"`
	// MetricsAddr, if set, serves /metrics without an API key on this TCP
	// address (plain HTTP: bind it to loopback or a management network).
	// /metrics on the HTTPS address always needs a key.
	MetricsAddr string `yaml:"metrics"`
	// Webhooks receive every decision-change event, signed with HMAC.
	Webhooks []WebhookConfig `yaml:"webhooks"`
	// Alerts send email and Slack or Teams messages when something needs
	// people (docs/alerts.md).
	Alerts AlertsConfig `yaml:"alerts"`
	// SQLiteSynchronous is "full" (the default: acknowledged reports
	// survive a power loss) or "normal" (a process crash only; fewer
	// fsyncs). See docs/postgresql.md, "SQLite durability".
	SQLiteSynchronous string `yaml:"sqlite_synchronous"`
	// Replicas are the QUIC addresses (host:port, as agents reach them)
	// of every replica sharing the database, this one included; agents
	// get them at enrollment and at every connection, and fail over
	// between them (docs/postgresql.md).
	Replicas []string `yaml:"replicas"`
	// LockoutDuration is how long a dashboard account stays locked after
	// five failed sign-ins before the next sign-in lifts the lock (an
	// administrator may unlock sooner); users.DefaultLockFor when unset.
	LockoutDuration time.Duration `yaml:"lockout_duration"`
	// RequireMFA requires a second factor of every local dashboard
	// account whatever the dashboard's setting, which then cannot be
	// switched off (docs/mfa.md).
	RequireMFA bool `yaml:"require_mfa"`
	// Enrollment says how new devices are admitted.
	Enrollment EnrollmentConfig `yaml:"enrollment"`
	// OIDC, when set, offers dashboard sign-in through an OpenID provider
	// (docs/sso.md); LocalSignIn says where local accounts may sign in
	// with a password: allowed (the default), loopback (the break-glass
	// way in through an SSH tunnel) or off.
	OIDC        *OIDCConfig `yaml:"oidc"`
	LocalSignIn string      `yaml:"local_sign_in"`
	// AllowInsecureDataDir starts with a data directory writable by
	// others or owned by another account, with a warning, instead of
	// refusing.
	AllowInsecureDataDir bool `yaml:"allow_insecure_data_dir"`
}

// EnrollmentConfig is the server configuration's enrollment section:
// `enrollment: {approve: manual}`.
type EnrollmentConfig struct {
	// Approve is ApproveAuto (the default: a valid token or secret
	// admits the device) or ApproveManual (every new device is pending,
	// denied with enrollment_pending, until an administrator approves it
	// with `postern-server device approve` or on the dashboard).
	Approve string `yaml:"approve"`
}

// Values of enrollment.approve.
const (
	ApproveAuto   = "auto"
	ApproveManual = "manual"
)

// DefaultDataDir is the OS's system location for the server's state.
func DefaultDataDir() string {
	switch runtime.GOOS {
	case "windows":
		if d := os.Getenv("ProgramData"); d != "" {
			return filepath.Join(d, "Postern", "server")
		}
		return `C:\ProgramData\Postern\server`
	case "darwin":
		return "/Library/Application Support/Postern/server"
	default:
		return "/var/lib/postern-server"
	}
}

// DefaultConfig returns the configuration used when nothing is set.
func DefaultConfig() Config {
	return Config{DataDir: DefaultDataDir(), QUICAddr: DefaultQUICAddr, HTTPSAddr: DefaultHTTPSAddr, HistoryRetention: DefaultHistoryRetention,
		AuditRetention: audit.DefaultRetention, MassFailureShare: policy.DefaultMaxDenyShare}
}

// LoadConfigFile reads a YAML configuration strictly (unknown fields are
// errors) over the defaults.
func LoadConfigFile(path string) (Config, error) {
	cfg := DefaultConfig()
	f, err := os.Open(path)
	if err != nil {
		return cfg, fmt.Errorf("open config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return cfg, fmt.Errorf("read config: %w", err)
	}
	if len(data) > maxConfigSize {
		return cfg, fmt.Errorf("config %s: larger than %d bytes", path, maxConfigSize)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return cfg, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// Validate checks every field and says which one is wrong.
func (c Config) Validate() error {
	var errs []error
	if c.DataDir == "" {
		errs = append(errs, errors.New("data_dir: must be set"))
	}
	if err := c.validateDatabase(); err != nil {
		errs = append(errs, err)
	}
	for name, addr := range map[string]string{"quic": c.QUICAddr, "https": c.HTTPSAddr} {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			errs = append(errs, fmt.Errorf("%s: %q is not host:port", name, addr))
		}
	}
	if _, err := c.trustedProxies(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Alerts.validate(); err != nil {
		errs = append(errs, err)
	}
	for _, n := range c.ServerNames {
		if n == "" || strings.ContainsAny(n, " /") {
			errs = append(errs, fmt.Errorf("server_names: %q is not a host name or IP", n))
		}
	}
	for _, r := range c.Replicas {
		if _, port, err := net.SplitHostPort(r); err != nil || port == "" {
			errs = append(errs, fmt.Errorf("replicas: %q is not host:port", r))
		}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("tls_cert and tls_key: set both or neither"))
	}
	if err := store.ValidateSynchronous(c.SQLiteSynchronous); err != nil {
		errs = append(errs, fmt.Errorf("sqlite_synchronous: %w", err))
	}
	if err := pb.ValidateGatewayURL(c.GatewayURL); err != nil {
		errs = append(errs, fmt.Errorf("gateway_url: %w", err))
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			errs = append(errs, fmt.Errorf("metrics: %q is not host:port", c.MetricsAddr))
		}
	}
	switch c.Enrollment.Approve {
	case "", ApproveAuto, ApproveManual:
	default:
		errs = append(errs, fmt.Errorf("enrollment.approve: %q is not manual or auto", c.Enrollment.Approve))
	}
	for _, w := range c.Webhooks {
		if err := w.validate(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := audit.ValidateRetention(c.AuditRetention); err != nil {
		errs = append(errs, fmt.Errorf("audit_retention: %w", err))
	}
	if c.MassFailureShare <= 0 || c.MassFailureShare > 1 {
		errs = append(errs, fmt.Errorf("mass_failure_share: %v is not above 0 and at most 1", c.MassFailureShare))
	}
	if c.LockoutDuration < 0 || c.LockoutDuration > 24*time.Hour {
		errs = append(errs, fmt.Errorf("lockout_duration: %v is not between 0 (the default, 30m) and 24h", c.LockoutDuration))
	}
	if err := c.validateSignIn(); err != nil {
		errs = append(errs, err)
	}
	if c.HistoryRetention < 24*time.Hour {
		errs = append(errs, fmt.Errorf("history_retention: %v is shorter than 24h", c.HistoryRetention))
	}
	return errors.Join(errs...)
}

func (c Config) trustedProxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range c.TrustedProxies {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			if a, aerr := netip.ParseAddr(s); aerr == nil {
				p = netip.PrefixFrom(a, a.BitLen())
			} else {
				return nil, fmt.Errorf("trusted_proxies: %q is not a CIDR or address", s)
			}
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
