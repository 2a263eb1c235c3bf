package bundle

import (
	"bytes"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha512"
	"crypto/subtle"
	"path"
	"strings"

	"howett.net/plist"

	"github.com/postern-dev/postern/checks/host"
)

// redactor wraps a host and rewrites the secrets collectors read, so that
// neither a recording nor the checks made from it hold them.
type redactor struct {
	host.Host
	names *wifiNames
}

// Redact returns h with secrets replaced by stand-ins that the checks
// classify exactly as the originals: a set password stays set, an empty
// or locked one stays empty or locked.
func Redact(h host.Host) host.Host { return redactor{h, &wifiNames{}} }

// dslocalUsers is where macOS keeps local accounts, hashes included.
const dslocalUsers = "/var/db/dslocal/nodes/Default/users"

func (r redactor) ReadFile(p string) ([]byte, error) {
	b, err := r.Host.ReadFile(p)
	if err != nil {
		return b, err
	}
	switch {
	case p == "/etc/shadow" || p == "/etc/gshadow" || p == "/etc/shadow-" || p == "/etc/gshadow-":
		return redactShadow(b), nil
	case p == "/etc/kcpassword":
		return []byte("redacted by postern-agent bundle\n"), nil
	case path.Dir(p) == dslocalUsers && strings.HasSuffix(p, ".plist"):
		return redactDSLocal(b), nil
	case strings.HasPrefix(p, "/proc/") && path.Base(p) == "environ":
		return keepEnviron(b), nil
	}
	return b, nil
}

// environKept are the variables of a process environment that checks
// read (screen_lock: where KDE looks for its configuration). A session's
// environment can hold tokens and passwords, so nothing else is kept.
var environKept = []string{"XDG_CONFIG_DIRS=", "XDG_CONFIG_HOME="}

// keepEnviron reduces a /proc/PID/environ (NUL-separated NAME=value) to
// the variables in environKept.
func keepEnviron(b []byte) []byte {
	var out []byte
	for kv := range bytes.SplitSeq(b, []byte{0}) {
		for _, name := range environKept {
			if bytes.HasPrefix(kv, []byte(name)) {
				out = append(append(out, kv...), 0)
			}
		}
	}
	return out
}

func (r redactor) Registry(key, name string) (host.RegistryValue, error) {
	v, err := r.Host.Registry(key, name)
	if err == nil && strings.EqualFold(name, "DefaultPassword") {
		v = host.RegistryValue{Type: v.Type, String: "redacted"}
	}
	return v, err
}

// redactShadow replaces each password hash of a shadow(5) file with a
// placeholder; empty fields and the lock markers ! and * are kept.
func redactShadow(b []byte) []byte {
	lines := bytes.SplitAfter(b, []byte("\n"))
	var out bytes.Buffer
	for _, line := range lines {
		f := bytes.SplitN(line, []byte(":"), 3)
		if len(f) < 3 || len(line) == 0 || line[0] == '#' {
			out.Write(line)
			continue
		}
		pw := f[1]
		switch {
		case len(pw) == 0:
		case pw[0] == '!' || pw[0] == '*':
			pw = pw[:1]
		default:
			pw = []byte("$redacted$")
		}
		out.Write(f[0])
		out.WriteByte(':')
		out.Write(pw)
		out.WriteByte(':')
		out.Write(f[2])
	}
	return out.Bytes()
}

// dslocalKeep are the account record keys the checks read; the rest
// (real name, photo, other hashes) is left out.
var dslocalKeep = []string{"name", "uid", "shell", "authentication_authority", "generateduid"}

// redactDSLocal keeps only what the checks read from a macOS account
// record. A ShadowHashData that is the PBKDF2 of the empty password is
// kept (it reveals nothing); any other is replaced by the hash of a random
// password, which still reads as "password set". An undecodable record is
// replaced whole, so nothing leaks through a parse failure.
func redactDSLocal(b []byte) []byte {
	var rec map[string]any
	if _, err := plist.Unmarshal(bytes.TrimSpace(b), &rec); err != nil {
		return []byte("redacted by postern-agent bundle: undecodable account record\n")
	}
	out := map[string]any{}
	for _, k := range dslocalKeep {
		if v, ok := rec[k]; ok {
			out[k] = v
		}
	}
	if hs, ok := rec["ShadowHashData"].([]any); ok && len(hs) > 0 {
		if inner, ok := hs[0].([]byte); ok {
			out["ShadowHashData"] = []any{redactShadowHash(inner)}
		}
	}
	enc, err := plist.Marshal(out, plist.XMLFormat)
	if err != nil {
		return []byte("redacted by postern-agent bundle\n")
	}
	return enc
}

const pbkdf2Key = "SALTED-SHA512-PBKDF2"

// maxIterations bounds the work spent testing a hash for emptiness.
const maxIterations = 1 << 20

func redactShadowHash(inner []byte) []byte {
	var sh map[string]map[string]any
	if _, err := plist.Unmarshal(inner, &sh); err == nil {
		if p, ok := sh[pbkdf2Key]; ok && isEmptyPassword(p) {
			enc, err := plist.Marshal(map[string]any{pbkdf2Key: p}, plist.BinaryFormat)
			if err == nil {
				return enc
			}
		}
	}
	salt, secret := make([]byte, 32), make([]byte, 32)
	_, _ = rand.Read(salt)
	_, _ = rand.Read(secret)
	const iters = 1000
	key, _ := pbkdf2.Key(sha512.New, string(secret), salt, iters, 128)
	enc, _ := plist.Marshal(map[string]any{pbkdf2Key: map[string]any{"entropy": key, "salt": salt, "iterations": iters}}, plist.BinaryFormat)
	return enc
}

func isEmptyPassword(p map[string]any) bool {
	entropy, _ := p["entropy"].([]byte)
	salt, _ := p["salt"].([]byte)
	var iters int
	switch v := p["iterations"].(type) {
	case uint64:
		iters = int(min(v, maxIterations+1))
	case int64:
		iters = int(v)
	}
	if len(entropy) == 0 || iters < 1 || iters > maxIterations {
		return false
	}
	key, err := pbkdf2.Key(sha512.New, "", salt, iters, len(entropy))
	return err == nil && subtle.ConstantTimeCompare(key, entropy) == 1
}
