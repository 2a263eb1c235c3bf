package firewall

import "testing"

func BenchmarkParseNFTUFW(b *testing.B) {
	data, err := readFileForBench("testdata/linux/nft__ufw_active.txt")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		rs, err := parseNFT(data)
		if err != nil {
			b.Fatal(err)
		}
		_ = rs.inputChains()
	}
}
