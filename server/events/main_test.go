package events

import (
	"os"
	"testing"

	"github.com/postern-dev/postern/server/store/pgtest"
)

// TestMain stops the PostgreSQL server the replica tests start.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
