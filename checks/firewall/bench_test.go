package firewall

import (
	"testing"

	"github.com/postern-dev/postern/checks/internal/checktest"
)

func BenchmarkParseNFTUFW(b *testing.B) {
	data := checktest.Testdata(b, "linux", "nft__ufw_active.txt")
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		rs, err := parseNFT(data)
		if err != nil {
			b.Fatal(err)
		}
		_ = rs.inputChains()
	}
}
