package store

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks"
)

// benchBody is about the size of a real report's JSON body.
var benchBody = []byte(`{"controls":"` + strings.Repeat("x", 2048) + `"}`)

// benchFleet enrolls n devices and returns their IDs with a sequence
// counter each.
func benchFleet(b testing.TB, s Store, n int) ([]string, []atomic.Uint64) {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("dev-%04d", i)
		enrollTest(b, s, ids[i])
	}
	return ids, make([]atomic.Uint64, n)
}

func benchIngest(id string, seq uint64) Ingest {
	at := t0.Add(time.Duration(seq) * time.Second)
	return Ingest{
		Report:  Report{DeviceID: id, Sequence: seq, Hash: fmt.Sprintf("%064x", seq), CollectedAt: at, ReceivedAt: at, Body: benchBody},
		Info:    checks.Device{Hostname: "laptop-" + id, OS: "windows", OSName: "Windows 11 Pro", OSVersion: "10.0.26100", Arch: "amd64"},
		Failing: []checks.ControlID{checks.Firewall, checks.Antivirus, checks.OSPatched},
	}
}

// BenchmarkIngestReport measures report commits with one caller at a time
// (latency bound), the same for a device whose history is full, and with a
// thousand concurrent callers, one per device (throughput bound, where
// group commit batches them). "sqlite" is the default, synchronous=FULL;
// "sqlite_normal" is synchronous=NORMAL, to show what FULL costs.
func BenchmarkIngestReport(b *testing.B) {
	normal := backend{"sqlite_normal", backends[0].place, func(ctx context.Context, dir string) (Store, error) {
		return OpenSQLiteWith(ctx, dir, SQLiteOptions{Synchronous: SyncNormal})
	}}
	for _, be := range append(slices.Clone(backends), normal) {
		b.Run(be.name, func(b *testing.B) { benchmarkIngestReport(b, be) })
	}
}

func benchmarkIngestReport(b *testing.B, be backend) {
	for _, tc := range []struct {
		callers int
		history bool
	}{{1, false}, {1, true}, {1000, false}} {
		name := fmt.Sprintf("callers=%d", tc.callers)
		if tc.history {
			name += "/full_history"
		}
		callers := tc.callers
		b.Run(name, func(b *testing.B) {
			s := be.openNew(b)
			ids, seqs := benchFleet(b, s, callers)
			if tc.history {
				// A device that has reported for a while: every report
				// now also trims the oldest one.
				for range MaxHistoryPerDevice {
					if _, err := s.IngestReport(context.Background(), benchIngest(ids[0], seqs[0].Add(1))); err != nil {
						b.Fatal(err)
					}
				}
				if gw := s.(*sqlStore).gw; gw != nil {
					gw.batches.Store(0)
					gw.reports.Store(0)
				}
			}
			start := time.Now()
			cpu0, _ := processCPU()
			if callers == 1 {
				for b.Loop() {
					if _, err := s.IngestReport(context.Background(), benchIngest(ids[0], seqs[0].Add(1))); err != nil {
						b.Fatal(err)
					}
				}
			} else {
				var next atomic.Int64
				b.SetParallelism(callers / runtime.GOMAXPROCS(0))
				b.RunParallel(func(pb *testing.PB) {
					i := int(next.Add(1)-1) % len(ids)
					for pb.Next() {
						if _, err := s.IngestReport(context.Background(), benchIngest(ids[i], seqs[i].Add(1))); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "reports/s")
			if cpu1, ok := processCPU(); ok {
				b.ReportMetric(float64(cpu1-cpu0)/float64(time.Microsecond)/float64(b.N), "cpu_µs/report")
			}
			if gw := s.(*sqlStore).gw; gw != nil && gw.batches.Load() > 0 {
				b.ReportMetric(float64(gw.reports.Load())/float64(gw.batches.Load()), "reports/batch")
			}
		})
	}
}
