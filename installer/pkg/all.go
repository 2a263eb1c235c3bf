package pkg

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Options are the inputs of BuildAll.
type Options struct {
	// CrossDir holds OS-ARCH/postern-agent[.exe], as `make cross` leaves
	// them.
	CrossDir string
	// OutDir receives every installer.
	OutDir string
	// Version is the product version; a git describe string is reduced
	// to its leading dotted numbers.
	Version string
	// SignCert and SignKey configure Authenticode signing; both empty
	// means unsigned. SignCert alone must be a PKCS#12 file.
	SignCert, SignKey string
	// SignPassFile holds the key's password, if it has one.
	SignPassFile string
	// PGPKey is the OpenPGP private key file that signs the .deb and .rpm
	// packages; empty leaves them unsigned. PGPPassFile holds its
	// passphrase, if it has one.
	PGPKey, PGPPassFile string
	// MTime is every packaged file's time and the packages' build date
	// (SOURCE_DATE_EPOCH); the Unix epoch when zero.
	MTime time.Time
}

// BuildAll builds every installer and returns their paths: the .deb and
// .rpm for linux amd64 and arm64, the Windows .msi (signed, with its
// signed executable, when signing is configured) and the macOS tarball.
func BuildAll(ctx context.Context, log *slog.Logger, o Options) ([]string, error) {
	if o.CrossDir == "" || o.OutDir == "" {
		return nil, errors.New("cross and output directories are required")
	}
	version := NumericVersion(o.Version)
	sign := PGPSigner{KeyFile: o.PGPKey}
	if o.PGPPassFile != "" {
		b, err := os.ReadFile(o.PGPPassFile)
		if err != nil {
			return nil, fmt.Errorf("package signing passphrase: %w", err)
		}
		sign.Passphrase = strings.TrimRight(string(b), "\r\n")
	}
	var out []string
	for _, arch := range []string{"amd64", "arm64"} {
		for _, format := range []string{"deb", "rpm"} {
			// The PKCS#11 module is C: make cross builds it for the
			// architectures a C compiler here targets (amd64).
			module := filepath.Join(o.CrossDir, "linux-"+arch, "libpostern-pkcs11.so")
			if _, err := os.Stat(module); err != nil {
				log.Warn("package without the PKCS#11 module: a TPM key's certificate will not reach the browsers", "arch", arch)
				module = ""
			}
			p, err := BuildLinux(LinuxOptions{
				Format: format, Arch: arch, Version: version, OutDir: o.OutDir, MTime: o.MTime, Sign: sign,
				Binary: filepath.Join(o.CrossDir, "linux-"+arch, PackageName), PKCS11Module: module,
			})
			if err != nil {
				return out, err
			}
			log.Info("package built", "path", p)
			out = append(out, p)
			p, err = BuildServerLinux(ServerLinuxOptions{
				Format: format, Arch: arch, Version: version, OutDir: o.OutDir, MTime: o.MTime, Sign: sign,
				Binary: filepath.Join(o.CrossDir, "linux-"+arch, ServerPackageName),
			})
			if err != nil {
				return out, err
			}
			log.Info("package built", "path", p)
			out = append(out, p)
		}
	}
	msi, err := buildWindows(ctx, log, o, version)
	if err != nil {
		return out, err
	}
	out = append(out, msi)
	tgz, err := BuildDarwin(DarwinOptions{
		Version: version, OutDir: o.OutDir, MTime: o.MTime,
		Binaries: map[string]string{
			"amd64": filepath.Join(o.CrossDir, "darwin-amd64", PackageName),
			"arm64": filepath.Join(o.CrossDir, "darwin-arm64", PackageName),
		},
	})
	if err != nil {
		return out, err
	}
	log.Info("package built", "path", tgz)
	return append(out, tgz), nil
}

// BuildDebs builds only the linux/amd64 .deb of the agent and of the
// server, as the package install test needs them.
func BuildDebs(o Options) ([]string, error) {
	agent, err := BuildLinux(LinuxOptions{Format: "deb", Arch: "amd64", Version: NumericVersion(o.Version), OutDir: o.OutDir,
		MTime: o.MTime, Binary: filepath.Join(o.CrossDir, "linux-amd64", PackageName)})
	if err != nil {
		return nil, err
	}
	server, err := BuildServerLinux(ServerLinuxOptions{Format: "deb", Arch: "amd64", Version: NumericVersion(o.Version), OutDir: o.OutDir,
		MTime: o.MTime, Binary: filepath.Join(o.CrossDir, "linux-amd64", ServerPackageName)})
	if err != nil {
		return []string{agent}, err
	}
	return []string{agent, server}, nil
}

// BuildWindows builds only the Windows installer (and signs it when
// configured); `make wine-test` uses it for its upgrade pair.
func BuildWindows(ctx context.Context, log *slog.Logger, o Options) (string, error) {
	if o.CrossDir == "" || o.OutDir == "" {
		return "", errors.New("cross and output directories are required")
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return "", fmt.Errorf("output directory: %w", err)
	}
	return buildWindows(ctx, log, o, NumericVersion(o.Version))
}

// buildWindows copies the exe into OutDir, signs it when configured, wraps
// it in the MSI and signs that.
func buildWindows(ctx context.Context, log *slog.Logger, o Options, version string) (string, error) {
	src := filepath.Join(o.CrossDir, "windows-amd64", PackageName+".exe")
	b, err := os.ReadFile(src)
	if err != nil {
		return "", fmt.Errorf("windows binary: %w", err)
	}
	exe := filepath.Join(o.OutDir, PackageName+".exe")
	if err := os.WriteFile(exe, b, 0o755); err != nil {
		return "", fmt.Errorf("windows binary: %w", err)
	}
	signer := Signer{Cert: o.SignCert, Key: o.SignKey, PassFile: o.SignPassFile}
	if signer.Configured() {
		if err := signer.Sign(ctx, exe, "Postern Agent"); err != nil {
			return "", err
		}
		log.Info("signed", "path", exe)
	}
	msi := filepath.Join(o.OutDir, fmt.Sprintf("%s_%s_x64.msi", PackageName, version))
	if err := BuildMSI(ctx, MSIOptions{Exe: exe, Version: version, Output: msi}); err != nil {
		return "", err
	}
	if signer.Configured() {
		if err := signer.Sign(ctx, msi, "Postern Agent installer"); err != nil {
			return "", err
		}
		log.Info("signed", "path", msi)
	}
	log.Info("package built", "path", msi)
	return msi, nil
}

var leadingVersion = regexp.MustCompile(`^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:[-+~].*)?$`)

// NumericVersion reduces a version such as "v1.2.3-4-gabc-dirty" to
// "1.2.3", the form an MSI ProductVersion and every package manager
// accept; anything else (a bare commit hash) is "0.0.0".
func NumericVersion(v string) string {
	m := leadingVersion.FindStringSubmatch(strings.TrimSpace(v))
	if m == nil {
		return "0.0.0"
	}
	parts := []string{m[1], m[2], m[3]}
	for i, p := range parts {
		if p == "" {
			parts[i] = "0"
		}
	}
	return strings.Join(parts, ".")
}
