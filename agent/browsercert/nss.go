package browsercert

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/postern-dev/postern/agent/allowcmd"
	"github.com/postern-dev/postern/checks/consoleuser"
)

// NSSDBDir is the user's shared NSS database, relative to the home
// folder: Chromium and Chrome on Linux read client certificates there.
const NSSDBDir = ".pki/nssdb"

// firefoxRoots hold Firefox's profiles.ini, relative to the home folder
// (the Debian package's, then the snap's).
var firefoxRoots = []string{".mozilla/firefox", "snap/firefox/common/.mozilla/firefox"}

// maxRemovals bounds the certutil runs that remove the device's
// certificates (one per run): renewals leave at most a few.
const maxRemovals = 8

// NSS places the identity in the user's NSS databases: ~/.pki/nssdb
// (created when missing) and every Firefox profile that has one. Every
// command runs as the user (runuser), so nothing in the user's home is
// touched with root's rights; only the PKCS#12 file, in a folder of its
// own, is handed to the user for the import and removed right after.
type NSS struct {
	Run allowcmd.Runner
	// SelfUID is the uid the agent runs as: that user's commands run
	// directly (an agent run by the user, tests), others' through
	// runuser.
	SelfUID string
	// TempDir holds the short-lived PKCS#12 folders; os.TempDir() when
	// empty.
	TempDir string
	// Module is the PKCS#11 module that serves a hardware (TPM) device
	// key from the agent (PKCS11Module); registered in each database in
	// place of a key copy. Empty: a hardware key is not placed
	// (ErrKeyNotExportable).
	Module string
}

// ModuleName is the name under which the PKCS#11 module is registered
// in the user's NSS databases (modutil -list shows it).
const ModuleName = "Postern device key"

var _ Store = NSS{}

// Place removes the device's older certificates from each database and
// imports the current one with its key.
func (n NSS) Place(ctx context.Context, u consoleuser.User, id Identity) error {
	if err := checkUser(u); err != nil {
		return err
	}
	if err := id.Validate(); err != nil {
		return err
	}
	if _, ok := id.Key.Exportable(); !ok {
		return n.placeModule(ctx, u, id)
	}
	p12, password, err := exportPKCS12(id)
	if err != nil {
		return err
	}
	dir, cleanup, err := n.handOver(u, map[string][]byte{"device.p12": p12, "password": []byte(password + "\n")})
	if err != nil {
		return err
	}
	defer cleanup()
	dbs, err := n.databases(ctx, u, true)
	if err != nil {
		return err
	}
	for _, db := range dbs {
		n.remove(ctx, u, db, id.DeviceID)
		n.deleteModule(ctx, u, db)
		if _, err := n.run(ctx, u, allowcmd.Pk12util, "-i", filepath.Join(dir, "device.p12"), "-d", "sql:"+db, "-w", filepath.Join(dir, "password")); err != nil {
			return fmt.Errorf("import the device certificate into %s: %w", db, err)
		}
	}
	return nil
}

// Remove deletes the device's certificates and key from every database.
func (n NSS) Remove(ctx context.Context, u consoleuser.User, deviceID string) error {
	if err := checkUser(u); err != nil {
		return err
	}
	if deviceID == "" || strings.ContainsAny(deviceID, "\x00\n") {
		return fmt.Errorf("remove: device id %q", deviceID)
	}
	dbs, err := n.databases(ctx, u, false)
	if err != nil {
		return err
	}
	for _, db := range dbs {
		n.remove(ctx, u, db, deviceID)
		n.deleteModule(ctx, u, db)
	}
	return nil
}

// placeModule registers the PKCS#11 module in each of u's databases,
// after taking out any copy of an earlier software key: the browser then
// finds the certificate on the module's token and signs through the
// agent, with the key in the TPM. A browser already running loads the
// module when it next starts.
func (n NSS) placeModule(ctx context.Context, u consoleuser.User, id Identity) error {
	if n.Module == "" {
		return ErrKeyNotExportable
	}
	if _, err := os.Stat(n.Module); err != nil {
		return fmt.Errorf("the PKCS#11 module for the TPM key: %w", err)
	}
	dbs, err := n.databases(ctx, u, true)
	if err != nil {
		return err
	}
	for _, db := range dbs {
		n.remove(ctx, u, db, id.DeviceID)
		n.deleteModule(ctx, u, db)
		if _, err := n.run(ctx, u, allowcmd.Modutil, "-dbdir", "sql:"+db, "-add", ModuleName, "-libfile", n.Module, "-force"); err != nil {
			return fmt.Errorf("register the device key's PKCS#11 module in %s: %w", db, err)
		}
	}
	return nil
}

// deleteModule unregisters the PKCS#11 module from db; a database
// without it is fine (modutil's error is ignored, as certutil's are).
func (n NSS) deleteModule(ctx context.Context, u consoleuser.User, db string) {
	_, _ = n.run(ctx, u, allowcmd.Modutil, "-dbdir", "sql:"+db, "-delete", ModuleName, "-force")
}

// remove deletes the device's certificates, with their key (-F), then
// any certificate left without one (-D). NSS names an imported
// certificate after its subject's common name, the device ID, to which
// it may add the issuer's organization ("ID - Postern"), so the names
// are read from certutil -L. certutil fails once none is left under a
// name, which ends each loop.
func (n NSS) remove(ctx context.Context, u consoleuser.User, db, deviceID string) {
	out, err := n.run(ctx, u, allowcmd.Certutil, "-L", "-d", "sql:"+db)
	if err != nil {
		return
	}
	for _, nick := range Nicknames(out, deviceID) {
		for _, flag := range []string{"-F", "-D"} {
			for range maxRemovals {
				if _, err := n.run(ctx, u, allowcmd.Certutil, flag, "-d", "sql:"+db, "-n", nick); err != nil {
					break
				}
			}
		}
	}
}

// Nicknames returns the nicknames in certutil -L's listing that belong
// to the device: the device ID alone, or followed by " - " and more. The
// listing's nickname column ends where the trust attributes begin.
func Nicknames(listing []byte, deviceID string) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(listing))
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), " ")
		i := strings.LastIndexByte(line, ' ')
		if i < 0 || !strings.Contains(line[i+1:], ",") {
			continue
		}
		nick := strings.TrimRight(line[:i], " ")
		if (nick == deviceID || strings.HasPrefix(nick, deviceID+" - ")) && !slices.Contains(out, nick) {
			out = append(out, nick)
		}
	}
	return out
}

// databases lists the user's NSS databases: ~/.pki/nssdb (made, as the
// user, when create is set) and the Firefox profiles that have one.
func (n NSS) databases(ctx context.Context, u consoleuser.User, create bool) ([]string, error) {
	shared := filepath.Join(u.Home, filepath.FromSlash(NSSDBDir))
	dbs := []string{}
	switch {
	case exists(filepath.Join(shared, "cert9.db")):
		dbs = append(dbs, shared)
	case create:
		if _, err := n.run(ctx, u, allowcmd.Mkdir, "-p", "-m", "0700", shared); err != nil {
			return nil, fmt.Errorf("create %s: %w", shared, err)
		}
		if _, err := n.run(ctx, u, allowcmd.Certutil, "-N", "-d", "sql:"+shared, "--empty-password"); err != nil {
			return nil, fmt.Errorf("create the NSS database %s: %w", shared, err)
		}
		dbs = append(dbs, shared)
	}
	for _, root := range firefoxRoots {
		dir := filepath.Join(u.Home, filepath.FromSlash(root))
		b, err := readSmall(filepath.Join(dir, "profiles.ini"))
		if err != nil {
			continue
		}
		for _, p := range FirefoxProfiles(dir, b) {
			if exists(filepath.Join(p, "cert9.db")) {
				dbs = append(dbs, p)
			}
		}
	}
	return dbs, nil
}

// FirefoxProfiles returns the profile folders that profiles.ini (in dir)
// names, relative paths resolved against dir. Paths that climb out of
// dir with ".." are skipped.
func FirefoxProfiles(dir string, ini []byte) []string {
	var out []string
	var path string
	relative := true
	flush := func() {
		if path != "" {
			p := filepath.FromSlash(path)
			if relative {
				p = filepath.Join(dir, p)
			}
			if !strings.Contains(path, "..") {
				out = append(out, filepath.Clean(p))
			}
		}
		path, relative = "", true
	}
	sc := bufio.NewScanner(bytes.NewReader(ini))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "["):
			flush()
		case strings.HasPrefix(line, "Path="):
			path = strings.TrimPrefix(line, "Path=")
		case strings.HasPrefix(line, "IsRelative="):
			relative = strings.TrimPrefix(line, "IsRelative=") != "0"
		}
	}
	flush()
	return out
}

// handOver writes files into a new folder that only u can read, and
// returns it with its removal.
func (n NSS) handOver(u consoleuser.User, files map[string][]byte) (string, func(), error) {
	dir, err := os.MkdirTemp(n.TempDir, "postern-cert-")
	if err != nil {
		return "", nil, fmt.Errorf("hand over the certificate: %w", err)
	}
	cleanup := func() { os.RemoveAll(dir) }
	uid, gid := -1, -1
	if u.ID != n.SelfUID {
		if uid, gid, err = ids(u.ID); err != nil {
			cleanup()
			return "", nil, err
		}
	}
	for name, b := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			cleanup()
			return "", nil, fmt.Errorf("hand over the certificate: %w", err)
		}
		if uid >= 0 {
			if err := os.Chown(p, uid, gid); err != nil {
				cleanup()
				return "", nil, fmt.Errorf("hand over the certificate: %w", err)
			}
		}
	}
	if uid >= 0 {
		if err := os.Chown(dir, uid, gid); err != nil {
			cleanup()
			return "", nil, fmt.Errorf("hand over the certificate: %w", err)
		}
	}
	return dir, cleanup, nil
}

// ids returns the uid and primary gid of a numeric user id.
func ids(id string) (int, int, error) {
	uid, err := strconv.Atoi(id)
	if err != nil {
		return 0, 0, fmt.Errorf("user id %q: %w", id, err)
	}
	usr, err := user.LookupId(id)
	if err != nil {
		return 0, 0, fmt.Errorf("look up user %s: %w", id, err)
	}
	gid, err := strconv.Atoi(usr.Gid)
	if err != nil {
		return 0, 0, fmt.Errorf("group of user %s: %w", id, err)
	}
	return uid, gid, nil
}

// run runs prog as u: directly when the agent already is u, else
// through runuser.
func (n NSS) run(ctx context.Context, u consoleuser.User, prog allowcmd.Program, args ...string) ([]byte, error) {
	if u.ID == n.SelfUID {
		return n.Run.Run(ctx, prog, args...)
	}
	path, err := allowcmd.Path("linux", prog)
	if err != nil {
		return nil, err
	}
	return n.Run.Run(ctx, allowcmd.RunUser, append([]string{"-u", u.Name, "--", path}, args...)...)
}

// checkUser refuses a user whose name or home could be misread by a
// command line or a path.
func checkUser(u consoleuser.User) error {
	switch {
	case u.Name == "" || strings.HasPrefix(u.Name, "-") || strings.ContainsAny(u.Name, "/\x00\n"):
		return fmt.Errorf("user name %q", u.Name)
	case u.ID == "" || strings.ContainsAny(u.ID, "/\x00\n"):
		return fmt.Errorf("user id %q", u.ID)
	case !filepath.IsAbs(u.Home) || strings.Contains(u.Home, ".."):
		return fmt.Errorf("home folder %q of %s: want an absolute path", u.Home, u.Name)
	}
	return nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// readSmall reads a file of at most 64 KiB.
func readSmall(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 64<<10+1))
	if err != nil {
		return nil, err
	}
	if len(b) > 64<<10 {
		return nil, errors.New("too large")
	}
	return b, nil
}
