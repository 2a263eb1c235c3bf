package runner

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/postern-dev/postern/agent/devkey"
	"github.com/postern-dev/postern/agent/spool"
	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/internal/clock"
	pb "github.com/postern-dev/postern/proto"
)

// Defaults of Config.
const (
	DefaultInterval       = 5 * time.Minute
	DefaultJitter         = 0.1
	DefaultAckTimeout     = 30 * time.Second
	DefaultCollectTimeout = 2 * time.Minute
	DefaultBackoffMin     = time.Second
	DefaultBackoffMax     = 5 * time.Minute
)

// Conn is the part of a session with the server the runner uses;
// *client.Session implements it, and tests may fake it.
type Conn interface {
	Send(ctx context.Context, r *pb.Report) (*pb.Ack, error)
	Renew(ctx context.Context, csrDER []byte) ([]byte, error)
	Commands() <-chan *pb.Command
	Done() <-chan struct{}
	Err() error
	Close() error
}

// Config configures a Runner. StateDir and Host are required.
type Config struct {
	// StateDir is the agent's state directory (see package agent/state).
	StateDir string
	// Host is the machine to check: the live host, or a replayed snapshot.
	Host host.Host
	// Device describes the machine; device.Collect by default.
	Device func(ctx context.Context, h host.Host) checks.Device
	// Interval between checks, and the jitter as a fraction of it.
	Interval time.Duration
	Jitter   float64
	// AckTimeout bounds the wait for one report's ack.
	AckTimeout time.Duration
	// CollectTimeout bounds one collection cycle.
	CollectTimeout time.Duration
	// BackoffMin and BackoffMax bound the reconnection delay.
	BackoffMin, BackoffMax time.Duration
	// Clock is clock.Now by default.
	Clock func() time.Time
	// Logger receives the runner's logs; nil discards them.
	Logger *slog.Logger
	// Dial opens a session; by default a client.Session with the state
	// directory's credentials.
	Dial func(ctx context.Context) (Conn, error)
	// KeyStore holds the device key when the state directory has a
	// hardware key (a TPM, the Platform Crypto Provider); nil for a
	// software key.
	KeyStore devkey.Store
	// Spool sets the spool's limits (its Now, Logger and OnDiscard are
	// set by the runner).
	Spool spool.Options
	// OnCycle, when set, is called with each completed cycle's result
	// (e.g. to notify the user); it runs on the check loop, so it must
	// return promptly.
	OnCycle func(ctx context.Context, res Result)
	// OnRenewed, when set, is called after a renewed certificate was
	// saved, so that it is placed where the browsers find it.
	OnRenewed func(ctx context.Context)
	// OnGatewayURL, when set, is called after a server's Hello changed
	// the gateway URL in identity.json, so that the browsers' policies
	// name the new one (or are removed, when the server has none).
	OnGatewayURL func(ctx context.Context)
	// OnRefused, when set, is called whenever the server refuses this
	// identity for good (revoked, retired as inactive, unknown, expired),
	// so that its certificate leaves the browsers' stores; it must be
	// idempotent and return promptly.
	OnRefused func()
}

func (c *Config) setDefaults() error {
	if c.StateDir == "" {
		return errors.New("runner: state dir is required")
	}
	if c.Host == nil {
		return errors.New("runner: host is required")
	}
	if c.Device == nil {
		c.Device = defaultDevice
	}
	if c.Device == nil {
		return errors.New("runner: device collector is required")
	}
	if c.Interval <= 0 {
		c.Interval = DefaultInterval
	}
	if c.Jitter < 0 || c.Jitter >= 1 {
		return errors.New("runner: jitter must be in [0, 1)")
	}
	if c.Jitter == 0 {
		c.Jitter = DefaultJitter
	}
	if c.AckTimeout <= 0 {
		c.AckTimeout = DefaultAckTimeout
	}
	if c.CollectTimeout <= 0 {
		c.CollectTimeout = DefaultCollectTimeout
	}
	if c.BackoffMin <= 0 {
		c.BackoffMin = DefaultBackoffMin
	}
	if c.BackoffMax < c.BackoffMin {
		c.BackoffMax = max(DefaultBackoffMax, c.BackoffMin)
	}
	if c.Clock == nil {
		c.Clock = clock.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}
