package dashboard

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/postern-dev/postern/internal/cputime"
	"github.com/postern-dev/postern/server/dashboard/dashtest"
	"github.com/postern-dev/postern/server/users"
)

// BenchmarkPages10k times the handlers over 10,000 seeded devices,
// through the session check, as a signed-in user's browser would, with
// the CPU time per page (cpu-ms/op: the whole process, GC included).
func BenchmarkPages10k(b *testing.B) {
	e := newEnv(b, dashtest.Fleet(10000, 1))
	e.addUser("viewer", users.RoleViewer)
	c := e.signIn("viewer")
	cookies := c.http.Jar.Cookies(mustURL(e.srv.URL))
	for _, path := range []string{"/ui/", "/ui/devices", "/ui/devices?status=noncompliant&sort=last_report&dir=desc", "/ui/devices?q=maria&page=3", "/ui/devices?control=antivirus&os=windows"} {
		b.Run(path, func(b *testing.B) {
			serve := func() {
				req := httptest.NewRequest("GET", path, nil)
				for _, ck := range cookies {
					req.AddCookie(ck)
				}
				w := httptest.NewRecorder()
				e.dash.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("%s: %d", path, w.Code)
				}
			}
			// The first page after a start evaluates every report; the
			// server's sweep keeps the verdicts warm from then on.
			serve()
			cpu := cputime.Process()
			for b.Loop() {
				serve()
			}
			if used := cputime.Process() - cpu; used > 0 {
				b.ReportMetric(float64(used.Microseconds())/1000/float64(b.N), "cpu-ms/op")
			}
		})
	}
}
