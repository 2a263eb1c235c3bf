package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/postern-dev/postern/agent/attest"
	"github.com/postern-dev/postern/agent/client"
	"github.com/postern-dev/postern/agent/devkey"
	"github.com/postern-dev/postern/agent/state"
	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/consoleuser"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/internal/clock"
	"github.com/postern-dev/postern/internal/cmdutil"
	pb "github.com/postern-dev/postern/proto"
)

// enrollTimeout bounds the whole enrollment exchange.
const enrollTimeout = time.Minute

// EnrollOptions are the flags of `enroll`, and the input of Enroll.
type EnrollOptions struct {
	StateDir string
	// Server is the server's QUIC address, host:port.
	Server string
	// Token is the one-time enrollment token; "-" reads it from stdin.
	Token string
	Force bool
	// TPM names the TPM for the device key (see openTPM); "" is the
	// default TPM or a software key where there is none.
	TPM string
	// AttestUser, when set, includes this user's attestation in the
	// request, prompting for it unless AcceptAttestation is set.
	AttestUser        string
	AcceptAttestation bool
	// In and Out carry the attestation prompt.
	In  io.Reader
	Out io.Writer
	// Host and Device describe the machine for the server's inventory;
	// the live host and device.Collect when nil.
	Host   host.Host
	Device func(ctx context.Context, h host.Host) checks.Device
	// Now is the clock; clock.Now when nil.
	Now func() time.Time
}

// NewCmdEnroll returns `enroll`.
func NewCmdEnroll(f *Factory, runF func(context.Context, *EnrollOptions) error) *cobra.Command {
	opts := &EnrollOptions{}
	cmd := &cobra.Command{
		Use:   "enroll --server HOST:PORT --token TOKEN",
		Short: "Enroll this device with a Postern server using a one-time token",
		Long: `Enroll this device with a Postern server using a one-time token from
"postern-server token create". The token pins the server's CA, so enrollment
refuses an intercepted connection. The device key is made here and never leaves
this machine: where a TPM 2.0 is present the key is made inside it and the
server is shown proof of that (TPM attestation); elsewhere it is a software key
in the state directory. Use --token - to read the token from standard input.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := validateServer(opts.Server); err != nil {
				return err
			}
			if opts.AcceptAttestation && opts.AttestUser == "" {
				return cmdutil.Usagef("--accept needs --attest-user: name the user who accepted the statement")
			}
			if opts.Token == "-" {
				if opts.AttestUser != "" && !opts.AcceptAttestation {
					return errors.New("--token - cannot be combined with the interactive attestation; add --accept")
				}
				tok, err := readToken(cmd.InOrStdin())
				if err != nil {
					return err
				}
				opts.Token = tok
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			if opts.Host == nil {
				opts.Host = f.LiveHost()
			}
			if opts.Device == nil {
				opts.Device = f.Device
			}
			opts.Now, opts.In, opts.Out = f.Now, cmd.InOrStdin(), f.Out
			id, err := Enroll(cmd.Context(), *opts)
			if err != nil {
				return err
			}
			fmt.Fprintf(f.Out, "enrolled as device %s with %s\ncertificate sha256 %s\n", id.DeviceID, id.Server, id.CertSHA256)
			switch err := syncBrowsers(cmd.Context(), opts.Host, opts.StateDir, nil, opts.TPM); {
			case errors.Is(err, consoleuser.ErrNoConsoleUser):
				fmt.Fprintln(f.Out, "certificate not yet placed for a browser: nobody is signed in at the console (the service places it when someone is)")
			case err != nil:
				fmt.Fprintf(f.ErrOut, "warning: certificate not placed for the browsers: %v\n", err)
			default:
				fmt.Fprintln(f.Out, "certificate placed for the console user's browsers")
			}
			return nil
		},
	}
	addStateFlag(cmd, &opts.StateDir)
	cmd.Flags().StringVar(&opts.Server, "server", "", "server QUIC address `HOST:PORT`")
	cmd.Flags().StringVar(&opts.Token, "token", "", "one-time enrollment `TOKEN` or reusable enrollment secret (- reads it from stdin)")
	cmd.Flags().StringVar(&opts.Token, "secret", "", "reusable enrollment `SECRET` from \"postern-server secret create\" (same as --token)")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "replace an existing identity")
	addTPMFlag(cmd, &opts.TPM)
	addAttestFlags(cmd, &opts.AttestUser, &opts.AcceptAttestation, "attest-user")
	_ = cmd.MarkFlagRequired("server")
	cmd.MarkFlagsOneRequired("token", "secret")
	cmd.MarkFlagsMutuallyExclusive("token", "secret")
	return cmd
}

func validateServer(s string) error {
	h, p, err := net.SplitHostPort(s)
	if err != nil || h == "" || p == "" {
		return fmt.Errorf("--server %q: want HOST:PORT", s)
	}
	return nil
}

func readToken(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 1024)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read token: %w", err)
	}
	return strings.TrimSpace(line), nil
}

// Enroll makes a device key, enrolls it with the server and saves the
// identity in the state directory. It refuses to replace an existing
// identity unless Force is set, before contacting the server, so that a
// token is not spent in vain.
func Enroll(ctx context.Context, opts EnrollOptions) (state.Identity, error) {
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	if opts.Host == nil {
		opts.Host = liveHost()
	}
	if opts.Device == nil {
		opts.Device = collectDevice
	}
	if opts.Device == nil {
		return state.Identity{}, errors.New("this build has no device collector")
	}
	dir, err := state.Open(opts.StateDir)
	if err != nil {
		return state.Identity{}, err
	}
	if err := dir.CanEnroll(opts.Force); err != nil {
		return state.Identity{}, err
	}
	ks, err := openKeyStore(opts.TPM)
	if err != nil {
		return state.Identity{}, err
	}
	if ks != nil {
		defer ks.Close()
	}
	var att *pb.Attestation
	if opts.AttestUser != "" {
		// Asked before the token is spent, so a declined statement costs
		// nothing.
		if att, err = takeAttestation(opts.In, opts.Out, opts.AttestUser, opts.AcceptAttestation, opts.Now()); err != nil {
			return state.Identity{}, err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, enrollTimeout)
	defer cancel()
	dev := opts.Device(ctx, opts.Host)
	key, res, err := enrollKey(ctx, opts, ks, dev, att)
	if err != nil {
		return state.Identity{}, err
	}
	// A malformed replica address (a server misconfiguration) is left
	// out; the enrollment address always stays first.
	servers, _ := state.ValidServers(res.Servers)
	id, err := dir.SaveEnrollment(state.Enrollment{
		DeviceID: res.DeviceID, Server: opts.Server, EnrolledAt: opts.Now(),
		Key: key, CertDER: res.CertDER, CADER: res.CADER, GatewayURL: res.GatewayURL, Servers: servers,
		KeyVerified: verifiedKind(res.KeyKind, ks), AgentSecret: res.AgentSecret,
	}, opts.Force)
	if err != nil || att == nil {
		return id, err
	}
	return id, dir.MarkAttestationRecorded(attest.ToInfo(att), opts.Now())
}

// verifiedKind is the server's word on the key; from a server that
// gives none, what it can have verified: hardware only after a TPM
// attestation (a Platform Crypto Provider key is sent unattested).
func verifiedKind(server string, ks devkey.Store) devkey.Kind {
	if k := devkey.Kind(server); k.Valid() {
		return k
	}
	if _, attested := ks.(*devkey.TPM); attested {
		return devkey.Hardware
	}
	return devkey.Software
}

// enrollKey enrolls with a TPM key, attested, where a TPM is open; with
// a Platform Crypto Provider key (hardware, but unattested: the server
// records it as software) on Windows; and with a software key elsewhere.
// A hardware key stays loaded until its store is closed, after it is
// saved.
func enrollKey(ctx context.Context, opts EnrollOptions, ks devkey.Store, dev checks.Device, att *pb.Attestation) (devkey.Key, *client.Enrolled, error) {
	var key devkey.Key
	switch s := ks.(type) {
	case *devkey.TPM:
		p := &devkey.Prover{T: s}
		defer p.Close()
		res, err := client.EnrollTPM(ctx, opts.Server, opts.Token, dev, att, p)
		if err != nil {
			return nil, nil, err
		}
		return p.Key(), res, nil
	case devkey.Creator:
		k, _, err := s.Create()
		if errors.Is(err, devkey.ErrNoTPM) && opts.TPM == "" && os.Getenv(tpmEnv) == "" {
			// The default store opened but makes no keys: as on a
			// machine without a TPM, a software key (never when a
			// store was asked for by --tpm or POSTERN_TPM).
			k, err = devkey.NewSoftwareKey()
		}
		if err != nil {
			return nil, nil, fmt.Errorf("make the device key in the platform key store (--tpm off makes a software key): %w", err)
		}
		key = k
	default:
		k, err := devkey.NewSoftwareKey()
		if err != nil {
			return nil, nil, err
		}
		key = k
	}
	csr, err := devkey.CSR(key)
	if err != nil {
		return nil, nil, err
	}
	res, err := client.EnrollAttested(ctx, opts.Server, opts.Token, csr, dev, att)
	if err != nil {
		return nil, nil, err
	}
	return key, res, nil
}
