package dashboard

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/internal/fixtext"
	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/store"
	"github.com/postern-dev/postern/server/users"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pages holds one template set per page, each the layout plus the page.
type pages struct {
	byName map[string]*template.Template
}

var pageNames = []string{"login", "password", "overview", "devices", "device", "tokens", "exceptions", "audit", "users", "error", "account", "mfa_verify", "mfa_enrol", "mfa_codes", "mfa_admin", "apikeys", "secrets"}

func loadPages() (*pages, error) {
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("parse layout: %w", err)
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, name := range pageNames {
		t, err := template.Must(layout.Clone()).ParseFS(templateFS, "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse page %s: %w", name, err)
		}
		p.byName[name] = t
	}
	return p, nil
}

func staticHandler() http.Handler {
	sub, _ := fs.Sub(staticFS, "static")
	fsrv := http.StripPrefix("/ui/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fsrv.ServeHTTP(w, r)
	})
}

// view is what the layout renders around a page.
type view struct {
	Title string
	Nav   string
	User  *signedIn
	CSRF  string
	// Reminder warns of a password expiring within 14 days.
	Reminder string
	Data     any
}

// render writes the page; pages are rendered into a buffer first so that
// a template error never sends half a page.
func (d *Dashboard) render(w http.ResponseWriter, r *http.Request, s *signedIn, status int, name, title string, data any) {
	if lv, ok := data.(loginView); ok {
		// Every sign-in page offers the ways of signing in in force.
		data = d.signInOptions(r, lv)
	}
	v := view{Title: title, Nav: name, User: s, Data: data}
	if s != nil {
		v.CSRF = s.Session.CSRFToken
		if age := users.PasswordAge(s.User.PasswordChangedAt, d.now()); age.Remind && !age.Expired && !s.User.MustChange && !s.User.OIDC() {
			days := int(age.ExpiresAt.Sub(d.now()).Hours()/24) + 1
			v.Reminder = fmt.Sprintf("Your password expires in %d day(s), on %s.", days, age.ExpiresAt.Format("2 Jan 2006"))
		}
	}
	var buf bytes.Buffer
	if err := d.pages.byName[name].ExecuteTemplate(&buf, "layout.html", v); err != nil {
		d.log.Error("render page failed", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

type errorView struct {
	Status  int
	Message string
}

func (d *Dashboard) fail(w http.ResponseWriter, r *http.Request, s *signedIn, status int, msg string) {
	d.render(w, r, s, status, "error", http.StatusText(status), errorView{Status: status, Message: msg})
}

func (d *Dashboard) internal(w http.ResponseWriter, r *http.Request, s *signedIn, err error) {
	d.log.Error("dashboard request failed", "path", r.URL.Path, "err", err)
	d.fail(w, r, s, http.StatusInternalServerError, "Something went wrong on the server; the error was logged.")
}

func (d *Dashboard) audit(r *http.Request, s *signedIn, kind, deviceID string, details map[string]any) {
	if details == nil {
		details = map[string]any{}
	}
	details["via"] = "dashboard"
	d.cfg.Audit.Record(context.WithoutCancel(r.Context()), audit.Entry{Actor: "user:" + s.User.Username, Kind: kind, DeviceID: deviceID, Details: details})
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

var funcs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"date": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2 Jan 2006")
	},
	"iso": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	},
	"title":       func(id any) string { return controlTitle(checks.ControlID(fmt.Sprint(id))) },
	"statusLabel": statusLabel,
	"osLabel":     osLabel,
	"can":         func(s *signedIn, p string) bool { return s.Can(users.Permission(p)) },
	"join":        strings.Join,
	// fix renders a finding's or a fix's text with its commands in <code>.
	"fix": fixtext.HTML,
	// details reads an audit row's JSON details as key: value lines.
	"details": auditDetails,
	"add":     func(a, b int) int { return a + b },
	"exrows": func(rows []exceptionRow, csrf string, canEnd bool) any {
		return struct {
			Rows   []exceptionRow
			CSRF   string
			CanEnd bool
		}{rows, csrf, canEnd}
	},
}

func controlTitle(id checks.ControlID) string {
	if t := id.Title(); t != "" {
		return t
	}
	return string(id)
}

func statusLabel(s any) string {
	switch fmt.Sprint(s) {
	case string(store.StatusCompliant):
		return "Compliant"
	case string(store.StatusNoncompliant):
		return "Not compliant"
	case string(store.StatusStale):
		return "Stale"
	case string(store.StatusInactive):
		return "Inactive"
	case string(store.StatusRevoked):
		return "Revoked"
	case string(checks.StatusPass):
		return "Pass"
	case string(checks.StatusFail):
		return "Fail"
	case string(checks.StatusUnknown):
		return "Unknown"
	case string(checks.StatusNotApplicable):
		return "Not applicable"
	}
	return fmt.Sprint(s)
}

func osLabel(goos string) string {
	switch goos {
	case "windows":
		return "Windows"
	case "darwin":
		return "macOS"
	case "linux":
		return "Linux"
	}
	return goos
}
