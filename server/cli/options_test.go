package cli

import (
	"bytes"
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"

	"github.com/postern-dev/postern/server/serve"
	"github.com/postern-dev/postern/server/store"
)

// parseOpts runs the command newCmd makes with args and returns the
// options its runF received, so that flag parsing is tested without
// running anything.
func parseOpts[T any](newCmd func(*Factory, func(context.Context, *T) error) *cobra.Command, args ...string) (any, error) {
	f := &Factory{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}, Now: fixedNow, Getenv: func(string) string { return "" }}
	var got *T
	cmd := newCmd(f, func(_ context.Context, o *T) error { got = o; return nil })
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	if err := cmd.Execute(); err != nil {
		return nil, err
	}
	return *got, nil
}

func fixedNow() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }

// optionCases parse one command line of every command; path names the
// command as the tree does, so that TestEveryCommandParsesIntoOptions can
// tell a command that is not in this table.
var optionCases = []struct {
	path  string
	parse func() (any, error)
	want  any
}{
	{"init", func() (any, error) { return parseOpts(NewCmdInit, "--data", "/srv/p") },
		InitOptions{DB: StoreOptions{DataDir: "/srv/p"}, Config: serve.Config{DataDir: "/srv/p"}}},
	{"serve", func() (any, error) {
		return parseOpts(NewCmdServe, "--data", "/srv/p", "--init", "--quic", "127.0.0.1:0")
	},
		func() ServeOptions {
			c := serve.DefaultConfig()
			c.DataDir, c.QUICAddr = "/srv/p", "127.0.0.1:0"
			return ServeOptions{Config: c, Init: true}
		}()},
	{"token create", func() (any, error) {
		return parseOpts(NewCmdTokenCreate, "--data", "/srv/p", "--ttl", "7d", "--org", "clinic-a", "--owner", "bob")
	}, TokenCreateOptions{DB: StoreOptions{DataDir: "/srv/p"}, TTL: 7 * 24 * time.Hour, Org: "clinic-a", Owner: "bob"}},
	{"token list", func() (any, error) { return parseOpts(NewCmdTokenList, "--json", "--data", "/srv/p") },
		TokenListOptions{DB: StoreOptions{DataDir: "/srv/p"}, JSON: true}},
	{"token revoke", func() (any, error) {
		return parseOpts(NewCmdTokenRevoke, "0123456789AB", "--reason", "lost", "--data", "/srv/p")
	},
		TokenRevokeOptions{DB: StoreOptions{DataDir: "/srv/p"}, ID: "0123456789ab", Reason: "lost"}},
	{"secret create", func() (any, error) {
		return parseOpts(NewCmdSecretCreate, "--org", "clinic-a", "--expires", "90d", "--max-uses", "50", "--data", "/srv/p")
	}, SecretCreateOptions{DB: StoreOptions{DataDir: "/srv/p"}, Org: "clinic-a", Expires: "90d", MaxUses: 50}},
	{"secret list", func() (any, error) { return parseOpts(NewCmdSecretList, "--json", "--data", "/srv/p") },
		SecretListOptions{DB: StoreOptions{DataDir: "/srv/p"}, JSON: true}},
	{"secret revoke", func() (any, error) { return parseOpts(NewCmdSecretRevoke, "abc123", "--data", "/srv/p") },
		SecretRevokeOptions{DB: StoreOptions{DataDir: "/srv/p"}, ID: "abc123"}},
	{"apikey create", func() (any, error) {
		return parseOpts(NewCmdAPIKeyCreate, "--name", "nginx", "--scope", "events:read,decision:read", "--expires", "90d", "--data", "/srv/p")
	}, APIKeyCreateOptions{DB: StoreOptions{DataDir: "/srv/p"}, Name: "nginx", Scopes: store.GatewayScopes, Expires: 90 * 24 * time.Hour}},
	{"apikey list", func() (any, error) { return parseOpts(NewCmdAPIKeyList, "--data", "/srv/p") },
		APIKeyListOptions{DB: StoreOptions{DataDir: "/srv/p"}}},
	{"apikey revoke", func() (any, error) {
		return parseOpts(NewCmdAPIKeyRevoke, "k1", "--reason", "rotated", "--data", "/srv/p")
	},
		APIKeyRevokeOptions{DB: StoreOptions{DataDir: "/srv/p"}, ID: "k1", Reason: "rotated"}},
	{"user add", func() (any, error) {
		return parseOpts(NewCmdUserAdd, "alice", "--role", "admin", "--first-name", "Alice", "--last-name", "Moreau", "--password-stdin", "--data", "/srv/p")
	}, UserAddOptions{DB: StoreOptions{DataDir: "/srv/p"}, Username: "alice", Role: "admin", FirstName: "Alice", LastName: "Moreau", PasswordStdin: true}},
	{"user unlock", func() (any, error) { return parseOpts(NewCmdUserUnlock, "alice", "--data", "/srv/p") },
		UserOptions{DB: StoreOptions{DataDir: "/srv/p"}, Username: "alice"}},
	{"user reset-password", func() (any, error) { return parseOpts(NewCmdUserResetPassword, "alice", "--data", "/srv/p") },
		UserOptions{DB: StoreOptions{DataDir: "/srv/p"}, Username: "alice"}},
	{"user disable", func() (any, error) { return parseOpts(NewCmdUserDisable, "alice", "--data", "/srv/p") },
		UserOptions{DB: StoreOptions{DataDir: "/srv/p"}, Username: "alice"}},
	{"user enable", func() (any, error) { return parseOpts(NewCmdUserEnable, "alice", "--data", "/srv/p") },
		UserOptions{DB: StoreOptions{DataDir: "/srv/p"}, Username: "alice"}},
	{"user delete", func() (any, error) { return parseOpts(NewCmdUserDelete, "alice", "--data", "/srv/p") },
		UserOptions{DB: StoreOptions{DataDir: "/srv/p"}, Username: "alice"}},
	{"user review", func() (any, error) {
		return parseOpts(NewCmdUserReview, "alice", "--note", "still on the team", "--data", "/srv/p")
	},
		UserReviewOptions{DB: StoreOptions{DataDir: "/srv/p"}, Username: "alice", Note: "still on the team"}},
	{"user list", func() (any, error) { return parseOpts(NewCmdUserList, "--json", "--data", "/srv/p") },
		UserListOptions{DB: StoreOptions{DataDir: "/srv/p"}, JSON: true}},
	{"user mfa-reset", func() (any, error) { return parseOpts(NewCmdUserMFAReset, "alice", "--data", "/srv/p") },
		UserOptions{DB: StoreOptions{DataDir: "/srv/p"}, Username: "alice"}},
	{"user mfa-require", func() (any, error) { return parseOpts(NewCmdUserMFARequire, "on", "--data", "/srv/p") },
		UserMFARequireOptions{DB: StoreOptions{DataDir: "/srv/p"}, Required: true}},
	{"exception grant", func() (any, error) {
		return parseOpts(NewCmdExceptionGrant, "--device", "dev1", "--control", "os_patched", "--reason", "vendor", "--for", "30d", "--data", "/srv/p")
	}, ExceptionGrantOptions{DB: StoreOptions{DataDir: "/srv/p"}, Device: "dev1", Control: "os_patched", Reason: "vendor", For: 30 * 24 * time.Hour}},
	{"exception list", func() (any, error) { return parseOpts(NewCmdExceptionList, "--all", "--json", "--data", "/srv/p") },
		ExceptionListOptions{DB: StoreOptions{DataDir: "/srv/p"}, All: true, JSON: true}},
	{"exception end", func() (any, error) {
		return parseOpts(NewCmdExceptionEnd, "e1", "--by", "dana", "--reason", "fixed", "--data", "/srv/p")
	},
		ExceptionEndOptions{DB: StoreOptions{DataDir: "/srv/p"}, ID: "e1", By: "dana", Reason: "fixed"}},
	{"device list", func() (any, error) { return parseOpts(NewCmdDeviceList, "--json", "--database", "postgres://db/p") },
		DeviceListOptions{DB: StoreOptions{DataDir: serve.DefaultDataDir(), Database: "postgres://db/p"}, JSON: true}},
	{"device show", func() (any, error) { return parseOpts(NewCmdDeviceShow, "dev1", "--json", "--data", "/srv/p") },
		DeviceShowOptions{DB: StoreOptions{DataDir: "/srv/p"}, ID: "dev1", JSON: true}},
	{"device revoke", func() (any, error) {
		return parseOpts(NewCmdDeviceRevoke, "dev1", "--reason", "stolen", "--by", "dana", "--database-file", "/run/db")
	}, DeviceRevokeOptions{DB: StoreOptions{DataDir: serve.DefaultDataDir(), DatabaseFile: "/run/db"}, ID: "dev1", Reason: "stolen", By: "dana"}},
	{"device approve", func() (any, error) { return parseOpts(NewCmdDeviceApprove, "dev1", "--by", "dana", "--data", "/srv/p") },
		DeviceApprovalOptions{DB: StoreOptions{DataDir: "/srv/p"}, ID: "dev1", By: "dana", Approve: true}},
	{"device deny", func() (any, error) {
		return parseOpts(NewCmdDeviceDeny, "dev1", "--reason", "not ours", "--by", "dana", "--data", "/srv/p")
	}, DeviceApprovalOptions{DB: StoreOptions{DataDir: "/srv/p"}, ID: "dev1", By: "dana", Reason: "not ours"}},
	{"attestation record", func() (any, error) {
		return parseOpts(NewCmdAttestationRecord, "--device", "dev1", "--user", "Dana Ruiz", "--statement-version", "2", "--by", "it", "--data", "/srv/p")
	}, AttestationRecordOptions{DB: StoreOptions{DataDir: "/srv/p"}, Device: "dev1", User: "Dana Ruiz", StatementVersion: "2", By: "it"}},
	{"policy check", func() (any, error) { return parseOpts(NewCmdPolicyCheck, "policy.yaml") },
		PolicyCheckOptions{File: "policy.yaml"}},
	{"policy status", func() (any, error) { return parseOpts(NewCmdPolicyStatus, "--json", "--data", "/srv/p") },
		PolicyStatusOptions{DB: StoreOptions{DataDir: "/srv/p"}, JSON: true}},
	{"policy accept", func() (any, error) {
		return parseOpts(NewCmdPolicyAccept, "abcd", "--approver", "dana", "--data", "/srv/p")
	},
		PolicyAcceptOptions{DB: StoreOptions{DataDir: "/srv/p"}, Hash: "abcd", Approver: "dana"}},
	{"audit verify", func() (any, error) {
		return parseOpts(NewCmdAuditVerify, "--checkpoints", "--checkpoint-file", "/c", "--alert-config", "/etc/postern/server.yaml", "--data", "/srv/p")
	},
		AuditVerifyOptions{DB: StoreOptions{DataDir: "/srv/p"}, Checkpoints: true, CheckpointFile: "/c", AlertConfig: "/etc/postern/server.yaml"}},
	{"audit export", func() (any, error) { return parseOpts(NewCmdAuditExport, "--after", "7", "--data", "/srv/p") },
		AuditExportOptions{DB: StoreOptions{DataDir: "/srv/p"}, After: 7}},
	{"audit rotate-key", func() (any, error) { return parseOpts(NewCmdAuditRotateKey, "--data", "/srv/p") },
		AuditRotateKeyOptions{DB: StoreOptions{DataDir: "/srv/p"}}},
}

// notRunByOptions are the leaves with nothing to parse.
var notRunByOptions = map[string]bool{"version": true}

func TestEveryCommandParsesIntoOptions(t *testing.T) {
	for _, tt := range optionCases {
		t.Run(tt.path+" parses its flags and arguments into its options", func(t *testing.T) {
			got, err := tt.parse()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	t.Run("every command of the tree is in this table (a command made by NewCmdX(f, runF) gets a row)", func(t *testing.T) {
		covered := map[string]bool{}
		for _, tt := range optionCases {
			covered[tt.path] = true
		}
		var missing []string
		var walk func(c *cobra.Command, prefix string)
		walk = func(c *cobra.Command, prefix string) {
			for _, sub := range c.Commands() {
				p := strings.TrimSpace(prefix + " " + sub.Name())
				if sub.HasSubCommands() {
					walk(sub, p)
				} else if !covered[p] && !notRunByOptions[p] && sub.Name() != "help" && sub.Name() != "completion" {
					missing = append(missing, p)
				}
			}
		}
		walk(NewRootCmd(NewFactory(&bytes.Buffer{}, &bytes.Buffer{}, "test", fixedNow)), "")
		sort.Strings(missing)
		if len(missing) > 0 {
			t.Errorf("commands without a row in optionCases: %v", missing)
		}
	})
}

func TestOptionsAreCheckedBeforeRunning(t *testing.T) {
	tests := []struct {
		name  string
		parse func() (any, error)
	}{
		{"an unknown role", func() (any, error) {
			return parseOpts(NewCmdUserAdd, "bob", "--role", "root", "--first-name", "B", "--last-name", "S")
		}},
		{"an exception for a device and an organization at once", func() (any, error) {
			return parseOpts(NewCmdExceptionGrant, "--device", "d", "--org", "o", "--control", "os_patched", "--reason", "r", "--for", "1d")
		}},
		{"an exception without an end", func() (any, error) {
			return parseOpts(NewCmdExceptionGrant, "--device", "d", "--control", "os_patched", "--reason", "r")
		}},
		{"a secret without an organization", func() (any, error) { return parseOpts(NewCmdSecretCreate) }},
		{"a revocation without --by", func() (any, error) { return parseOpts(NewCmdDeviceRevoke, "dev1", "--reason", "r") }},
		{"a denial without a reason", func() (any, error) { return parseOpts(NewCmdDeviceDeny, "dev1", "--by", "dana") }},
		{"a token ID that is not hex", func() (any, error) { return parseOpts(NewCmdTokenRevoke, "not-a-token-id") }},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is refused before anything runs", func(t *testing.T) {
			if got, err := tt.parse(); err == nil {
				t.Errorf("parsed into %+v", got)
			}
		})
	}
}

// TestRunFunctionsWithoutCobra calls the commands' run functions with
// options and a factory as a test (or another front end) builds them.
func TestRunFunctionsWithoutCobra(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	f := &Factory{Out: &out, ErrOut: &errOut, In: strings.NewReader("Correct-Horse-Battery-9\n"), Now: fixedNow, Getenv: func(string) string { return "" }}
	db := StoreOptions{DataDir: dir}
	step := func(name string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v (stderr %q)", name, err, errOut.String())
		}
		s := out.String()
		out.Reset()
		return s
	}
	if got := step("init", initRun(ctx, f, &InitOptions{Config: serve.Config{DataDir: dir}})); !strings.Contains(got, "new Postern server in "+dir) {
		t.Errorf("init printed %q", got)
	}
	tok := step("token create", tokenCreateRun(ctx, f, &TokenCreateOptions{DB: db, TTL: store.DefaultTokenTTL, Org: "clinic-a"}))
	if !strings.HasPrefix(tok, "pt1.") {
		t.Errorf("token create printed %q", tok)
	}
	if got := step("token list", tokenListRun(ctx, f, &TokenListOptions{DB: db})); !strings.Contains(got, "clinic-a") || !strings.Contains(got, "unused") {
		t.Errorf("token list printed %q", got)
	}
	step("user add", userAddRun(ctx, f, &UserAddOptions{DB: db, Username: "dana", Role: "approver", FirstName: "Dana", LastName: "Ruiz", PasswordStdin: true}))
	if got := step("user list", userListRun(ctx, f, &UserListOptions{DB: db, JSON: true})); !strings.Contains(got, `"username": "dana"`) {
		t.Errorf("user list printed %q", got)
	}
	if got := step("device list", deviceListRun(ctx, f, &DeviceListOptions{DB: db})); !strings.HasPrefix(got, "ID") {
		t.Errorf("device list printed %q", got)
	}
	if got := step("audit verify", auditVerifyRun(ctx, f, &AuditVerifyOptions{DB: db})); !strings.HasPrefix(got, "ok: ") || !strings.Contains(got, "intact") {
		t.Errorf("audit verify printed %q", got)
	}
	exp := step("audit export", auditExportRun(ctx, f, &AuditExportOptions{DB: db}))
	if !strings.Contains(exp, fixedNow().Format("2006-01-02T15:04:05")) {
		t.Errorf("the audit rows are not dated by the factory's clock:\n%s", exp)
	}
}
