package dashtest

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/postern-dev/postern/checks"
)

var (
	orgs  = []string{"Eastside Clinic", "County Behavioral Health", "Harbor Family Services", "Northgate Counseling", "Valley Recovery Center"}
	first = []string{"maria", "james", "aisha", "wei", "carlos", "fatima", "liam", "sofia", "daniel", "priya", "noah", "elena", "omar", "grace", "hiro"}
	last  = []string{"garcia", "nguyen", "patel", "kim", "johnson", "okafor", "silva", "chen", "rossi", "haddad", "brown", "lopez"}
)

// system is one fixture machine's identity, as its agent would report
// it (checks/testdata/snapshots/README.md).
type system struct{ os, name, version, prefix string }

// systems pairs each OS's compliant and non-compliant fixture machine;
// the weights make a fleet of mostly Windows laptops, some Macs and a
// few Linux machines.
var systems = []struct {
	good, bad system
	weight    int
}{
	{system{"windows", "Windows 11 Enterprise", "10.0.26100.6899", "WS"}, system{"windows", "Windows 11 Enterprise", "10.0.26100.4946", "WS"}, 55},
	{system{"darwin", "macOS Tahoe", "26.1", "MBP"}, system{"darwin", "macOS Ventura", "13.7.8", "MBP"}, 30},
	{system{"linux", "Debian GNU/Linux 12", "12.12", "deb"}, system{"linux", "Debian GNU/Linux 12", "12.12", "deb"}, 15},
}

// unknownable are controls an agent may fail to read; failable are those
// a user may turn off on a compliant machine (os_supported and os_patched
// follow the OS version, so they fail only with the whole fixture).
var (
	unknownable = []checks.ControlID{checks.Antivirus, checks.ScreenLock, checks.OSPatched, checks.Firewall, checks.DiskEncryption, checks.PasswordPolicy}
	failable    = []checks.ControlID{checks.Firewall, checks.ScreenLock, checks.Antivirus, checks.DiskEncryption, checks.WiFiEncryption, checks.OSAutoUpdate, checks.PasswordPolicy}
)

func pickSystem(rng *rand.Rand) (good, bad system) {
	n := rng.IntN(100)
	for _, s := range systems {
		if n < s.weight {
			return s.good, s.bad
		}
		n -= s.weight
	}
	return systems[0].good, systems[0].bad
}

// Fleet returns n realistic devices: mostly compliant, some failing one
// or two controls, a few failing most, some stale, inactive or revoked.
// Each reports its own OS's fixture. The same seed gives the same fleet.
func Fleet(n int, seed uint64) []Device {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	out := make([]Device, n)
	for i := range out {
		good, bad := pickSystem(rng)
		owner := first[rng.IntN(len(first))] + "." + last[rng.IntN(len(last))]
		d := Device{
			ID:       fmt.Sprintf("dev_%016x", rng.Uint64()),
			Hostname: fmt.Sprintf("%s-%s-%03d", good.prefix, owner[:1]+last[rng.IntN(len(last))], i%1000),
			Org:      orgs[rng.IntN(len(orgs))], Owner: owner,
			OS: good.os, OSName: good.name, OSVersion: good.version,
			Age: time.Duration(rng.IntN(600)) * time.Second, Compliant: true,
		}
		switch p := rng.IntN(100); {
		case p < 4:
			d.Unknown = []checks.ControlID{unknownable[rng.IntN(len(unknownable))]}
		case p < 13:
			d.Failing = pick(rng, failable, 1+rng.IntN(2))
		case p < 16:
			d.Compliant, d.OSName, d.OSVersion = false, bad.name, bad.version
		case p < 22:
			d.Age = time.Duration(1+rng.IntN(72)) * time.Hour
		case p < 25:
			d.Age = time.Duration(31+rng.IntN(60)) * 24 * time.Hour
		case p < 27:
			d.Revoked = true
		case p < 28:
			d.Age = -1
		}
		out[i] = d
	}
	return out
}

// pick returns k distinct controls from from.
func pick(rng *rand.Rand, from []checks.ControlID, k int) []checks.ControlID {
	idx := rng.Perm(len(from))[:k]
	out := make([]checks.ControlID, k)
	for i, j := range idx {
		out[i] = from[j]
	}
	return out
}
