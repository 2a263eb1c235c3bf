//go:build pprof

package main

import (
	"log/slog"
	"net/http"
	_ "net/http/pprof" // the profiling handlers, only in a -tags pprof build
	"os"
)

// A build with -tags pprof (never the released binary) serves Go's
// profiles on POSTERN_PPROF (a loopback address), so that a load run can
// profile the server it drives: go build -tags pprof, then
// POSTERN_PPROF=127.0.0.1:6060 and go tool pprof http://127.0.0.1:6060/debug/pprof/profile.
func init() {
	addr := os.Getenv("POSTERN_PPROF")
	if addr == "" {
		return
	}
	go func() {
		if err := http.ListenAndServe(addr, nil); err != nil {
			slog.Error("pprof listener failed", "addr", addr, "err", err)
		}
	}()
}
