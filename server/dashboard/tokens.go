package dashboard

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/store"
)

type installCommand struct{ OS, Shell, Command string }

type tokenRow struct {
	store.TokenInfo
	State string
}

type tokensView struct {
	Tokens []tokenRow
	// New is the token just created, shown once.
	New      string
	Commands []installCommand
	Error    string
	Notice   string
}

var tokenTTLs = map[string]time.Duration{"1h": time.Hour, "24h": 24 * time.Hour, "72h": 72 * time.Hour, "168h": 7 * 24 * time.Hour}

func (d *Dashboard) tokenList(r *http.Request) ([]tokenRow, error) {
	list, err := d.st.Tokens(r.Context(), 200)
	if err != nil {
		return nil, err
	}
	now := d.now()
	rows := make([]tokenRow, len(list))
	for i, t := range list {
		state := "unused"
		switch {
		case !t.UsedAt.IsZero():
			state = "used"
		case !t.ExpiresAt.After(now):
			state = "expired"
		}
		rows[i] = tokenRow{t, state}
	}
	return rows, nil
}

func (d *Dashboard) tokens(w http.ResponseWriter, r *http.Request, s *signedIn) {
	rows, err := d.tokenList(r)
	if err != nil {
		d.internal(w, r, s, err)
		return
	}
	d.render(w, r, s, http.StatusOK, "tokens", "Enrollment tokens", tokensView{Tokens: rows, Notice: noticeText[r.URL.Query().Get("done")]})
}

func (d *Dashboard) createToken(w http.ResponseWriter, r *http.Request, s *signedIn) {
	org, owner := strings.TrimSpace(r.PostForm.Get("org")), strings.TrimSpace(r.PostForm.Get("owner"))
	ttl, ok := tokenTTLs[r.PostForm.Get("ttl")]
	var v tokensView
	switch {
	case org == "" || owner == "":
		v.Error = "Give the organization and the owner the device belongs to."
	case !ok:
		v.Error = "Choose how long the token stays valid."
	case len(org) > store.MaxLabelLen || len(owner) > store.MaxLabelLen:
		v.Error = "Organization and owner are at most 128 bytes."
	}
	if v.Error == "" {
		tok, rec, err := store.NewEnrollToken(d.cfg.CAPin, ttl, org, owner, d.now())
		if err == nil {
			err = d.cfg.Store.CreateToken(r.Context(), rec)
		}
		if err != nil {
			d.internal(w, r, s, err)
			return
		}
		d.audit(r, s, audit.KindTokenCreated, "", map[string]any{"org": org, "owner": owner, "token_id": rec.Hash[:12], "expires_at": rec.ExpiresAt.UTC().Format(time.RFC3339)})
		v.New, v.Commands = tok, installCommands(d.cfg.EnrollAddr, tok)
	}
	rows, err := d.tokenList(r)
	if err != nil {
		d.internal(w, r, s, err)
		return
	}
	v.Tokens = rows
	status := http.StatusOK
	if v.Error != "" {
		status = http.StatusBadRequest
	}
	d.render(w, r, s, status, "tokens", "Enrollment tokens", v)
}

// installCommands are what the device's administrator runs to enroll it.
func installCommands(addr, tok string) []installCommand {
	if addr == "" {
		addr = "SERVER:4433"
	}
	return []installCommand{
		{"Linux", "root shell", "sudo postern-agent enroll --server " + addr + " --token " + tok + " && sudo postern-agent install && sudo postern-agent start"},
		{"macOS", "Terminal, administrator", "sudo postern-agent enroll --server " + addr + " --token " + tok + " && sudo postern-agent install && sudo postern-agent start"},
		{"Windows", "PowerShell as Administrator", `& "$env:ProgramFiles\Postern\postern-agent.exe" enroll --server ` + addr + " --token " + tok +
			`; & "$env:ProgramFiles\Postern\postern-agent.exe" install; & "$env:ProgramFiles\Postern\postern-agent.exe" start`},
	}
}

func (d *Dashboard) revokeToken(w http.ResponseWriter, r *http.Request, s *signedIn) {
	hash := r.PathValue("hash")
	err := d.st.RevokeToken(r.Context(), hash, d.now())
	if errors.Is(err, store.ErrNotFound) {
		d.fail(w, r, s, http.StatusNotFound, "There is no such unused token.")
		return
	}
	if err != nil {
		d.internal(w, r, s, err)
		return
	}
	d.audit(r, s, audit.KindTokenRevoked, "", map[string]any{"token_id": truncate(hash, 12)})
	http.Redirect(w, r, "/ui/tokens?done=token_revoked", http.StatusSeeOther)
}
