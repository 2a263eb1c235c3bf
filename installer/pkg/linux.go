package pkg

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/deb" // registers the deb packager
	"github.com/goreleaser/nfpm/v2/files"
	_ "github.com/goreleaser/nfpm/v2/rpm" // registers the rpm packager

	"github.com/postern-dev/postern/installer/service"
)

// Package metadata shared by every installer.
const (
	PackageName = "postern-agent"
	Vendor      = "Postern"
	Maintainer  = "Postern <security@postern.dev>"
	Homepage    = "https://github.com/postern-dev/postern"
	License     = "Proprietary"
)

// PKCS11ModulePath is where the agent looks for its PKCS#11 module
// (agent/browsercert.PKCS11Module; archtest keeps the binaries' imports
// out of the package builder, so the path is written twice).
const PKCS11ModulePath = "/usr/lib/postern/libpostern-pkcs11.so"

// unitDir is where packages put systemd units (merged /usr on Debian and
// RPM distributions alike).
const unitDir = "/usr/lib/systemd/system"

// LinuxOptions describe one .deb or .rpm.
type LinuxOptions struct {
	// Format is "deb" or "rpm".
	Format string
	// Arch is the Go architecture of Binary: "amd64" or "arm64".
	Arch string
	// Version is the package version, e.g. "1.2.0" (a leading v is fine).
	Version string
	// Binary is the linux postern-agent to package.
	Binary string
	// PKCS11Module, when set, is the agent's PKCS#11 module for this
	// architecture (make pkcs11-module), installed where the agent
	// registers it in users' NSS databases for a TPM device key
	// (browsercert.PKCS11Module). Without it a TPM key's certificate is
	// not placed for the browsers.
	PKCS11Module string
	// OutDir receives the package under its conventional file name.
	OutDir string
	// MTime is the files' modification time and the package's build
	// date, for reproducible packages (SOURCE_DATE_EPOCH).
	MTime time.Time
	// Sign signs the package when its key file is set.
	Sign PGPSigner
}

// BuildLinux builds a .deb or .rpm and returns its path. The package holds
// /usr/bin/postern-agent, the systemd unit rendered by installer/service,
// the empty /etc/postern (0700) for provisioning files, and the
// maintainer scripts of LinuxScripts.
func BuildLinux(o LinuxOptions) (string, error) {
	if o.Format != "deb" && o.Format != "rpm" {
		return "", fmt.Errorf("linux package format %q: want deb or rpm", o.Format)
	}
	if o.Arch == "" || o.Version == "" || o.OutDir == "" {
		return "", errors.New("linux package: arch, version and output directory are required")
	}
	if _, err := os.Stat(o.Binary); err != nil {
		return "", fmt.Errorf("linux package binary: %w", err)
	}
	p := DefaultPaths()
	scripts, err := LinuxScripts(p)
	if err != nil {
		return "", err
	}
	unit := service.SystemdUnit(service.Spec{Executable: p.Bin, StateDir: p.StateDir})
	work, err := stageFiles("linux package", map[string]string{"postinstall.sh": scripts.PostInstall, "preremove.sh": scripts.PreRemove, p.Unit: unit})
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(work)
	mtime, info := rootOwned(o.MTime)
	contents := files.Contents{
		{Source: o.Binary, Destination: p.Bin, FileInfo: info(0o755)},
		{Source: filepath.Join(work, p.Unit), Destination: unitDir + "/" + p.Unit, FileInfo: info(0o644)},
		{Destination: p.EtcDir, Type: files.TypeDir, FileInfo: info(0o700)},
	}
	if o.PKCS11Module != "" {
		if _, err := os.Stat(o.PKCS11Module); err != nil {
			return "", fmt.Errorf("linux package PKCS#11 module: %w", err)
		}
		contents = append(contents, &files.Content{Source: o.PKCS11Module, Destination: PKCS11ModulePath, FileInfo: info(0o644)})
	}
	return buildNFPM(o.Format, o.OutDir, o.Sign, nfpm.Info{
		Name: PackageName, Arch: o.Arch, Platform: "linux", Version: o.Version,
		Maintainer: Maintainer, Vendor: Vendor, Homepage: Homepage, License: License,
		Section: "admin", Priority: "optional", MTime: mtime,
		Description: service.Description,
		Overridables: nfpm.Overridables{
			Contents: contents,
			Scripts: nfpm.Scripts{
				PostInstall: filepath.Join(work, "postinstall.sh"),
				PreRemove:   filepath.Join(work, "preremove.sh"),
			},
			RPM: nfpm.RPM{Group: "System Environment/Daemons", Summary: "Postern device-posture agent"},
		},
	})
}

// PGPSigner signs .deb and .rpm packages with an OpenPGP key (nfpm's
// signing: a debsign _gpgorigin member, an RPM header signature).
type PGPSigner struct {
	// KeyFile is the (ASCII-armored) private key; empty means unsigned.
	KeyFile string
	// Passphrase unlocks the key, if it has one.
	Passphrase string
}

// buildNFPM writes one package of info in format to outDir.
func buildNFPM(format, outDir string, sign PGPSigner, info nfpm.Info) (string, error) {
	if sign.KeyFile != "" {
		sig := nfpm.PackageSignature{KeyFile: sign.KeyFile, KeyPassphrase: sign.Passphrase}
		info.Deb.Signature = nfpm.DebSignature{PackageSignature: sig, Method: "debsign", Type: "origin"}
		info.RPM.Signature = nfpm.RPMSignature{PackageSignature: sig}
	}
	cfg := nfpm.Config{Info: info}
	got, err := cfg.Get(format)
	if err != nil {
		return "", fmt.Errorf("%s package: %w", format, err)
	}
	got = nfpm.WithDefaults(got)
	if err := nfpm.PrepareForPackager(got, format); err != nil {
		return "", fmt.Errorf("%s package: %w", format, err)
	}
	packager, err := nfpm.Get(format)
	if err != nil {
		return "", fmt.Errorf("%s package: %w", format, err)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return "", fmt.Errorf("%s package: %w", format, err)
	}
	target := filepath.Join(outDir, packager.ConventionalFileName(got))
	got.Target = target
	return target, writeAtomically(target, func(f *os.File) error { return packager.Package(got, f) })
}

// writeAtomically writes target through a temporary file, so that a
// failed build leaves no half-written package behind.
func writeAtomically(target string, write func(*os.File) error) error {
	f, err := os.CreateTemp(filepath.Dir(target), ".tmp-"+filepath.Base(target))
	if err != nil {
		return fmt.Errorf("create %s: %w", target, err)
	}
	defer os.Remove(f.Name())
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", target, err)
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", target, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", target, err)
	}
	if err := os.Rename(f.Name(), target); err != nil {
		return fmt.Errorf("write %s: %w", target, err)
	}
	return nil
}

// stageFiles writes the named texts (scripts, units, configuration) into
// a new temporary directory for nfpm to pack; the caller removes it.
func stageFiles(what string, texts map[string]string) (string, error) {
	work, err := os.MkdirTemp("", "postern-pkg-")
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	for name, text := range texts {
		if err := os.WriteFile(filepath.Join(work, name), []byte(text), 0o644); err != nil {
			os.RemoveAll(work)
			return "", fmt.Errorf("%s: %w", what, err)
		}
	}
	return work, nil
}

// rootOwned is the packages' file time (mtime, or the epoch when unset, so
// that builds are reproducible) and their root-owned file info of a mode.
func rootOwned(mtime time.Time) (time.Time, func(os.FileMode) *files.ContentFileInfo) {
	if mtime.IsZero() {
		mtime = time.Unix(0, 0).UTC()
	}
	return mtime, func(mode os.FileMode) *files.ContentFileInfo {
		return &files.ContentFileInfo{Owner: "root", Group: "root", Mode: mode, MTime: mtime}
	}
}
