package dashboard

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/store"
)

// The enrollment secrets page (/ui/secrets): reusable, org-scoped secrets
// an MDM pushes to a fleet (postern-server secret create|list|revoke on
// the command line). Admins only (users.PermTokens, as tokens), every form
// CSRF-checked by d.action; creations and revocations are audited as the
// command line audits them. A new secret is shown once, with the install
// command of each operating system's installer.

type secretRow struct {
	store.EnrollSecret
	State string
}

type secretsView struct {
	Secrets []secretRow
	// New is the secret just created, shown once.
	New      string
	NewID    string
	Commands []installCommand
	Error    string
	Notice   string
}

// secretLifetimes are the validity choices offered.
var secretLifetimes = map[string]time.Duration{"7d": 7 * 24 * time.Hour, "30d": 30 * 24 * time.Hour,
	"90d": 90 * 24 * time.Hour, "365d": 365 * 24 * time.Hour}

func secretState(e store.EnrollSecret, now time.Time) string {
	switch {
	case !e.RevokedAt.IsZero():
		return "revoked"
	case !e.ExpiresAt.After(now):
		return "expired"
	case e.MaxUses > 0 && e.Uses >= e.MaxUses:
		return "used up"
	}
	return "active"
}

func (d *Dashboard) secretList(r *http.Request) ([]secretRow, error) {
	list, err := d.cfg.Store.EnrollSecrets(r.Context())
	if err != nil {
		return nil, err
	}
	now := d.now()
	rows := make([]secretRow, len(list))
	for i, e := range list {
		rows[i] = secretRow{e, secretState(e, now)}
	}
	return rows, nil
}

func (d *Dashboard) secrets(w http.ResponseWriter, r *http.Request, s *signedIn) {
	rows, err := d.secretList(r)
	if err != nil {
		d.internal(w, r, s, err)
		return
	}
	d.render(w, r, s, http.StatusOK, "secrets", "Enrollment secrets", secretsView{Secrets: rows, Notice: noticeText[r.URL.Query().Get("done")]})
}

func (d *Dashboard) createSecret(w http.ResponseWriter, r *http.Request, s *signedIn) {
	org, owner := strings.TrimSpace(r.PostForm.Get("org")), strings.TrimSpace(r.PostForm.Get("owner"))
	ttl, ok := secretLifetimes[r.PostForm.Get("expires")]
	maxUses, perr := strconv.Atoi(strings.TrimSpace(r.PostForm.Get("max_uses")))
	if strings.TrimSpace(r.PostForm.Get("max_uses")) == "" {
		maxUses, perr = 0, nil
	}
	var v secretsView
	switch {
	case org == "":
		v.Error = "Give the organization every device enrolled with this secret belongs to."
	case !ok:
		v.Error = "Choose how long the secret stays valid."
	case perr != nil || maxUses < 0 || maxUses > store.MaxSecretUses:
		v.Error = "The use limit is a whole number of devices, 0 for none."
	case len(org) > store.MaxLabelLen || len(owner) > store.MaxLabelLen:
		v.Error = "Organization and owner are at most 128 bytes."
	}
	// A reusable secret enrolls devices for up to a year, long after the
	// session: like an API key it takes the current password, so that a
	// session left open cannot mint one (single sign-on accounts have
	// none to give).
	if v.Error == "" && !s.User.OIDC() && !d.passwordAgain(w, r, s, func(msg string) {
		v.Error = msg + " No secret was made."
	}) && v.Error == "" {
		return // answered: the session ended, or the check failed
	}
	if v.Error == "" {
		secret, rec, err := store.NewEnrollSecret(d.cfg.CAPin, ttl, maxUses, org, owner, d.now())
		if err == nil {
			err = d.cfg.Store.CreateEnrollSecret(r.Context(), rec)
		}
		if err != nil {
			d.internal(w, r, s, err)
			return
		}
		d.audit(r, s, audit.KindAdmin, "", map[string]any{"action": "enroll_secret_created", "id": rec.ID,
			"org": rec.Org, "owner": rec.Owner, "expires_at": rec.ExpiresAt.UTC().Format(time.RFC3339), "max_uses": rec.MaxUses})
		v.New, v.NewID, v.Commands = secret, rec.ID, secretInstallCommands(d.cfg.EnrollAddr, secret)
	}
	rows, err := d.secretList(r)
	if err != nil {
		d.internal(w, r, s, err)
		return
	}
	v.Secrets = rows
	status := http.StatusOK
	if v.Error != "" {
		status = http.StatusBadRequest
	}
	d.render(w, r, s, status, "secrets", "Enrollment secrets", v)
}

// secretInstallCommands are the fleet installers' commands with the
// secret (docs/deploy-windows.md, deploy-macos.md, deploy-linux.md).
func secretInstallCommands(addr, secret string) []installCommand {
	if addr == "" {
		addr = "SERVER:4433"
	}
	return []installCommand{
		{"Windows", "MSI, silent (Intune, GPO)", "msiexec /i postern-agent_VERSION_x64.msi /qn SERVER=" + addr + " SECRET=" + secret},
		{"Linux", "root shell or configuration management, before or after the package",
			"install -d -m 0700 /etc/postern && echo '" + addr + "' > /etc/postern/server && install -m 0600 /dev/stdin /etc/postern/enroll.token <<<'" + secret + "'"},
		{"macOS", "Terminal, administrator, in the unpacked tarball",
			"sudo ./install.sh --server " + addr + " --token-file /path/to/file-holding-the-secret"},
	}
}

func (d *Dashboard) revokeSecret(w http.ResponseWriter, r *http.Request, s *signedIn) {
	id := r.PathValue("id")
	e, err := d.cfg.Store.RevokeEnrollSecret(r.Context(), id, d.now())
	if errors.Is(err, store.ErrNotFound) {
		d.fail(w, r, s, http.StatusNotFound, "There is no such enrollment secret.")
		return
	}
	if err != nil {
		d.internal(w, r, s, err)
		return
	}
	d.audit(r, s, audit.KindAdmin, "", map[string]any{"action": "enroll_secret_revoked", "id": e.ID, "org": e.Org, "uses": e.Uses})
	http.Redirect(w, r, "/ui/secrets?done=secret_revoked", http.StatusSeeOther)
}
