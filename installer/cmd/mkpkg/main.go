// Command mkpkg builds postern-agent's installers from the binaries of
// `make cross`: .deb and .rpm (linux amd64, arm64), the Windows .msi, and
// the macOS tarball; with SIGN_CERT and SIGN_KEY set it Authenticode-signs
// the Windows executable and the MSI. `make packages` runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"time"

	"github.com/postern-dev/postern/installer/pkg"
)

func main() {
	var o pkg.Options
	flag.StringVar(&o.CrossDir, "cross", "bin/cross", "`DIR` holding OS-ARCH/postern-agent[.exe] from make cross")
	flag.StringVar(&o.OutDir, "out", "dist", "output `DIR`")
	flag.StringVar(&o.Version, "version", "0.0.0", "package `VERSION`")
	flag.StringVar(&o.SignCert, "sign-cert", os.Getenv("SIGN_CERT"), "Authenticode certificate `FILE` (PEM, or PKCS#12 holding the key too); default $SIGN_CERT")
	flag.StringVar(&o.SignKey, "sign-key", os.Getenv("SIGN_KEY"), "PEM private key `FILE` for -sign-cert; default $SIGN_KEY")
	flag.StringVar(&o.SignPassFile, "sign-pass-file", os.Getenv("SIGN_PASS_FILE"), "`FILE` holding the key or PKCS#12 password; default $SIGN_PASS_FILE")
	flag.StringVar(&o.PGPKey, "pgp-key", os.Getenv("PGP_KEY"), "OpenPGP private key `FILE` signing the .deb and .rpm; default $PGP_KEY")
	flag.StringVar(&o.PGPPassFile, "pgp-pass-file", os.Getenv("PGP_PASS_FILE"), "`FILE` holding the OpenPGP key's passphrase; default $PGP_PASS_FILE")
	epoch := flag.String("source-date-epoch", os.Getenv("SOURCE_DATE_EPOCH"), "Unix `SECONDS` stamped as every file's time and the build date; default $SOURCE_DATE_EPOCH, else now")
	debOnly := flag.Bool("deb-only", false, "build only the linux/amd64 .deb of the agent and the server (from -cross DIR/linux-amd64)")
	windowsOnly := flag.Bool("windows-only", false, "build only the Windows .msi (from -cross DIR/windows-amd64)")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	o.MTime = time.Now().UTC() // wall clock: the build time stamped on package files
	if *epoch != "" {
		sec, err := strconv.ParseInt(*epoch, 10, 64)
		if err != nil {
			fmt.Fprintln(os.Stderr, "mkpkg: -source-date-epoch:", err)
			os.Exit(2)
		}
		o.MTime = time.Unix(sec, 0).UTC()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var out []string
	var err error
	if *debOnly {
		out, err = pkg.BuildDebs(o)
	} else if *windowsOnly {
		var msi string
		msi, err = pkg.BuildWindows(ctx, log, o)
		out = []string{msi}
	} else {
		out, err = pkg.BuildAll(ctx, log, o)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkpkg:", err)
		os.Exit(1)
	}
	for _, p := range out {
		fmt.Println(p)
	}
}
