package pkg

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

func TestServerUnitVerifiesClean(t *testing.T) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Fatal("systemd-analyze is needed (apt-get install systemd): ", err)
	}
	dir := t.TempDir()
	exe := filepath.Join(dir, "postern-server")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, unit := range map[string]string{
		"postern-server.service": serverSystemdUnit(exe),
		// The drop-in, applied to the unit, must verify too.
		"bind.service": strings.Replace(serverSystemdUnit(exe), "\n[Install]",
			strings.SplitN(ServerBindDropIn(), "[Service]", 2)[1]+"\n[Install]", 1),
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(unit), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(sa, "verify", p).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "" {
			t.Errorf("systemd-analyze verify %s: %v\n%s", name, err, out)
		}
	}
	for _, want := range []string{"User=postern", "StateDirectory=postern-server", "ProtectSystem=strict", "NoNewPrivileges=yes",
		"CapabilityBoundingSet=\n", "LoadCredential=server.yaml:/etc/postern/server.yaml",
		"ExecStartPre=/usr/bin/postern-server init --config %d/server.yaml\n"} {
		if !strings.Contains(ServerSystemdUnit(), want) {
			t.Errorf("unit lacks %q", want)
		}
	}
	if strings.Contains(ServerSystemdUnit(), "CAP_NET_BIND_SERVICE") {
		t.Error("the unit grants CAP_NET_BIND_SERVICE without being asked to")
	}
}

// testKey makes an OpenPGP signing key and writes its armored private
// half to a file; it returns the file and the public key ring.
func testKey(t *testing.T) (string, openpgp.EntityList, []byte) {
	t.Helper()
	e, err := openpgp.NewEntity("Postern test", "packages", "packages@postern.test", &packet.Config{RSABits: 2048})
	if err != nil {
		t.Fatal(err)
	}
	var priv, pub bytes.Buffer
	w, _ := armor.Encode(&priv, openpgp.PrivateKeyType, nil)
	if err := e.SerializePrivate(w, nil); err != nil {
		t.Fatal(err)
	}
	w.Close()
	w, _ = armor.Encode(&pub, openpgp.PublicKeyType, nil)
	if err := e.Serialize(w); err != nil {
		t.Fatal(err)
	}
	w.Close()
	p := filepath.Join(t.TempDir(), "key.asc")
	if err := os.WriteFile(p, priv.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p, openpgp.EntityList{e}, pub.Bytes()
}

// arMembers reads a Debian package's ar members in order.
func arMembers(t *testing.T, deb string) (names []string, data map[string][]byte) {
	t.Helper()
	b, err := os.ReadFile(deb)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("!<arch>\n")) {
		t.Fatal("not an ar archive")
	}
	data = map[string][]byte{}
	for b = b[8:]; len(b) >= 60; {
		name := strings.TrimRight(strings.TrimSpace(string(b[:16])), "/")
		var size int
		for _, c := range strings.TrimSpace(string(b[48:58])) {
			size = size*10 + int(c-'0')
		}
		body := b[60 : 60+size]
		names, data[name] = append(names, name), body
		b = b[60+size+size%2:]
	}
	return names, data
}

func TestServerPackages(t *testing.T) {
	bin := fakeBinary(t, "postern-server")
	key, ring, pub := testKey(t)
	epoch := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	out := t.TempDir()
	deb, err := BuildServerLinux(ServerLinuxOptions{Format: "deb", Arch: "amd64", Version: "0.11.0", Binary: bin, OutDir: out,
		MTime: epoch, Sign: PGPSigner{KeyFile: key}})
	if err != nil {
		t.Fatal(err)
	}
	rpm, err := BuildServerLinux(ServerLinuxOptions{Format: "rpm", Arch: "amd64", Version: "0.11.0", Binary: bin, OutDir: out,
		MTime: epoch, Sign: PGPSigner{KeyFile: key}})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("the deb holds the binary, the unit, the config as a conffile and the drop-in example", func(t *testing.T) {
		need(t, "dpkg-deb")
		list := run(t, "dpkg-deb", "-c", deb)
		for _, want := range []string{"./usr/bin/postern-server", "./usr/lib/systemd/system/postern-server.service",
			"./etc/postern/server.yaml", "./usr/share/doc/postern-server/bind-privileged-port.conf"} {
			if !strings.Contains(list, want) {
				t.Errorf("package lacks %s:\n%s", want, list)
			}
		}
		if !strings.Contains(list, "-rw------- root/root") || !strings.Contains(list, "2026-11-30 12:00") {
			t.Errorf("config mode or file dates wrong:\n%s", list)
		}
		if got := run(t, "dpkg-deb", "-f", deb, "Version"); strings.TrimSpace(got) != "0.11.0" {
			t.Errorf("version %q", got)
		}
		info := run(t, "dpkg-deb", "-I", deb)
		if !strings.Contains(info, "conffiles") || !strings.Contains(info, "preinst") {
			t.Errorf("control:\n%s", info)
		}
	})
	t.Run("the deb's signature verifies with the public key and fails once tampered with", func(t *testing.T) {
		names, data := arMembers(t, deb)
		sig, ok := data["_gpgorigin"]
		if !ok {
			t.Fatalf("no _gpgorigin member: %v", names)
		}
		var signed []byte
		for _, n := range names {
			if n != "_gpgorigin" {
				signed = append(signed, data[n]...)
			}
		}
		if _, err := openpgp.CheckArmoredDetachedSignature(ring, bytes.NewReader(signed), bytes.NewReader(sig), nil); err != nil {
			t.Errorf("signature: %v", err)
		}
		signed[len(signed)/2] ^= 1
		if _, err := openpgp.CheckArmoredDetachedSignature(ring, bytes.NewReader(signed), bytes.NewReader(sig), nil); err == nil {
			t.Error("a tampered package verifies")
		}
	})
	t.Run("the rpm's signature checks with rpmkeys and its build date is SOURCE_DATE_EPOCH", func(t *testing.T) {
		need(t, "rpmkeys")
		db := t.TempDir()
		pubFile := filepath.Join(db, "pub.asc")
		if err := os.WriteFile(pubFile, pub, 0o644); err != nil {
			t.Fatal(err)
		}
		run(t, "rpmkeys", "--dbpath", db, "--import", pubFile)
		got := run(t, "rpmkeys", "--dbpath", db, "--checksig", "-v", rpm)
		if !strings.Contains(got, "Signature, key ID") || strings.Contains(got, "NOKEY") || strings.Contains(got, "BAD") {
			t.Errorf("rpmkeys --checksig:\n%s", got)
		}
		bt := run(t, "rpm", "-qp", "--dbpath", db, "--queryformat", "%{BUILDTIME}", rpm)
		if strings.TrimSpace(bt) != "1796040000" {
			t.Errorf("build time %s, want %d", bt, epoch.Unix())
		}
	})
}
