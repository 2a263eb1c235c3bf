// Command postern-load drives a real postern-server with simulated agents
// and gateways and prints what it measured (internal/loadgen). It is a
// test tool, not part of either product binary.
//
//	go build -o /tmp/postern-server ./server/cmd/postern-server
//	go run ./cmd/postern-load --server-bin /tmp/postern-server --agents 1000
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"sort"
	"time"

	"github.com/postern-dev/postern/internal/jsonenc"
	"github.com/postern-dev/postern/internal/loadgen"
)

func main() {
	var cfg loadgen.Config
	var asJSON bool
	flag.StringVar(&cfg.ServerBin, "server-bin", "", "postern-server binary to run (required)")
	flag.IntVar(&cfg.Agents, "agents", 1000, "simulated agents")
	flag.DurationVar(&cfg.Interval, "interval", 20*time.Second, "each agent's report period (jittered ±20%)")
	flag.DurationVar(&cfg.Duration, "duration", time.Minute, "measured phase, after every agent has connected")
	flag.Float64Var(&cfg.Flip, "flip", 0.1, "share of reports that flip the device's compliance")
	flag.IntVar(&cfg.Gateways, "gateways", 4, "gateways asking for decisions")
	flag.Float64Var(&cfg.DecisionRate, "decision-rate", 200, "decisions per second, all gateways together")
	flag.IntVar(&cfg.Followers, "followers", 2, "gateways following /v1/events")
	flag.StringVar(&cfg.Database, "database", "", "PostgreSQL connection string (default: SQLite in the scratch data directory)")
	flag.StringVar(&cfg.DataDir, "data", "", "server data directory (default: a new temporary one, removed afterwards)")
	flag.IntVar(&cfg.AgentsPerSource, "agents-per-address", 100, "agents sharing one source address (127.10.x.y)")
	flag.StringVar(&cfg.Snapshots, "snapshots", "checks/testdata/snapshots", "recorded laptops giving the reports' facts")
	flag.BoolVar(&asJSON, "json", false, "print the result as JSON")
	flag.Parse()
	if cfg.ServerBin == "" || cfg.Agents <= 0 {
		flag.Usage()
		os.Exit(2)
	}
	if runtime.GOOS != "linux" {
		fmt.Fprintln(os.Stderr, "postern-load: Linux only (it reads the server's /proc)")
		os.Exit(2)
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := loadgen.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "postern-load:", err)
		os.Exit(1)
	}
	if asJSON {
		enc := jsonenc.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		enc.Encode(res)
	} else {
		print(res)
	}
	if n := res.Failures["deadline_exceeded"] + res.Failures["idle_timeout"]; n > 0 {
		fmt.Fprintf(os.Stderr, "postern-load: %d deadline or idle-timeout failures\n", n)
		os.Exit(1)
	}
}

func print(r loadgen.Result) {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
	fmt.Printf("agents            %d (enrolled %d in %v, connected %d in %v), %s\n", r.Agents, r.Enrolled, r.EnrollTime.Round(time.Millisecond),
		r.Connected, r.ConnectTime.Round(time.Millisecond), r.Database)
	fmt.Printf("reports           %d in %v: %.0f/s, round trip p50 %s, p99 %s, max %s\n", r.Reports, r.Measured.Round(time.Millisecond),
		r.ReportsPerSec, ms(r.ReportP50), ms(r.ReportP99), ms(r.ReportMax))
	fmt.Printf("decisions         %d: p50 %s, p99 %s, %d errors\n", r.Decisions, ms(r.DecisionP50), ms(r.DecisionP99), r.DecisionErrors)
	fmt.Printf("report -> event   %d events: p50 %s, p99 %s\n", r.Events, ms(r.EventDelayP50), ms(r.EventDelayP99))
	fmt.Printf("server memory     %.1f MiB idle, %.1f MiB loaded: %.1f KiB per agent\n", float64(r.ServerRSSIdle)/(1<<20),
		float64(r.ServerRSSLoaded)/(1<<20), r.RSSPerAgent/1024)
	fmt.Printf("server CPU        %.0f µs per report (decisions and events included), %.2f cores\n",
		float64(r.CPUPerReport)/float64(time.Microsecond), r.ServerCores)
	kinds := make([]string, 0, len(r.Failures))
	for k := range r.Failures {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	if len(kinds) == 0 {
		fmt.Println("failures          none")
	}
	for _, k := range kinds {
		fmt.Printf("failures          %s: %d (e.g. %s)\n", k, r.Failures[k], r.Examples[k])
	}
	for _, l := range r.ServerErrors {
		fmt.Printf("server error      %s\n", l)
	}
}
