package cli

import (
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/postern-dev/postern/server/store"
)

// TestAuditVerifyAlertsABreak: `audit verify --alert-config` sends a
// break it finds through the configuration's alerts (a Slack webhook on
// loopback here), once.
func TestAuditVerifyAlertsABreak(t *testing.T) {
	var mu sync.Mutex
	var texts []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m struct{ Text string }
		json.Unmarshal(b, &m)
		mu.Lock()
		texts = append(texts, m.Text)
		mu.Unlock()
	}))
	defer hook.Close()
	dir := serverDir(t)
	if _, errOut, code := run(t, "user", "add", "carl", "--role", "viewer", "--first-name", "Carl", "--last-name", "Ng", "--data", dir); code != 0 {
		t.Fatal(errOut)
	}
	urlFile := filepath.Join(t.TempDir(), "slack-url")
	os.WriteFile(urlFile, []byte(hook.URL+"/services/T0/B0/SECRET\n"), 0o600)
	conf := filepath.Join(t.TempDir(), "server.yaml")
	os.WriteFile(conf, []byte("data_dir: "+dir+"\nalerts:\n  webhooks:\n    - kind: slack\n      url_file: "+urlFile+"\n"), 0o600)

	if out, errOut, code := run(t, "audit", "verify", "--alert-config", conf, "--data", dir); code != 0 || len(texts) != 0 {
		t.Fatalf("an intact log: exit %d, %q %q, %d alerts", code, out, errOut, len(texts))
	}
	db, err := sql.Open("sqlite", "file:"+filepath.ToSlash(filepath.Join(dir, store.DBFile)))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE audit_log SET actor = 'mallory' WHERE seq = 2`); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := run(t, "audit", "verify", "--alert-config", conf, "--data", dir)
	if code != 1 || !strings.Contains(errOut, "alert sent to 1 channel") || strings.Contains(errOut, "SECRET") {
		t.Errorf("a broken log: exit %d, stderr %q", code, errOut)
	}
	if len(texts) != 1 || !strings.Contains(texts[0], "Audit log broken at row 2") {
		t.Errorf("alerts %q, want one naming row 2", texts)
	}
	if _, errOut, _ := run(t, "audit", "verify", "--alert-config", conf, "--data", dir); !strings.Contains(errOut, "alerted before") || len(texts) != 1 {
		t.Errorf("a second run: stderr %q, %d alerts; want no repeat", errOut, len(texts))
	}
}
