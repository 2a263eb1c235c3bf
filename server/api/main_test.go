package api

import (
	"os"
	"testing"

	"github.com/postern-dev/postern/server/store/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
