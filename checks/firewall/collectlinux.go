package firewall

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/postern-dev/postern/checks/host"
)

// Programs, by absolute path as the host interface requires.
const (
	nftPath              = "/usr/sbin/nft"
	iptablesSavePath     = "/usr/sbin/iptables-save"
	ip6tablesSavePath    = "/usr/sbin/ip6tables-save"
	iptablesLegacyPath   = "/usr/sbin/iptables-legacy-save"
	ip6tablesLegacyPath  = "/usr/sbin/ip6tables-legacy-save"
	ufwPath              = "/usr/sbin/ufw"
	ufwConfPath          = "/etc/ufw/ufw.conf"
	firewallCmdPath      = "/usr/bin/firewall-cmd"
	disableIPv6Path      = "/proc/sys/net/ipv6/conf/all/disable_ipv6"
	ifInet6Path          = "/proc/net/if_inet6"
	legacyTablesNotice   = "iptables-legacy tables present"
	sourceNFT            = "nft -j list ruleset"
	sourceIPTablesSave   = "iptables-save"
	sourceIPTablesLegacy = "iptables-legacy-save"
)

func collectLinux(ctx context.Context, h host.Host) (*Facts, error) {
	f := &Facts{}
	rs, err := linuxRuleset(ctx, h, f)
	if err != nil {
		return nil, err
	}
	f.InputChains = rs.inputChains()
	f.IPv4Filtered, f.IPv6Filtered = filtered(f.InputChains)
	f.IPv6Disabled = ipv6Disabled(h)
	f.UFW = ufwState(ctx, h)
	// firewall-cmd and ufw are slow Python programs (up to a second each);
	// they only confirm what the live ruleset already shows, so they are
	// asked only when the ruleset carries their chains or ufw's
	// configuration says it is enabled.
	if rs.mentions("firewalld", "FWD_", "IN_public", "filter_INPUT_POLICIES") {
		f.Firewalld = firewalldState(ctx, h)
	}
	return f, nil
}

// mentions reports whether a table or chain name contains any of the words.
func (rs *ruleset) mentions(words ...string) bool {
	for _, c := range rs.chains {
		for _, w := range words {
			if strings.Contains(c.table, w) || strings.Contains(c.name, w) {
				return true
			}
		}
	}
	return false
}

// linuxRuleset reads the live ruleset: nftables first (it shows iptables-nft,
// ufw and firewalld rules too), else iptables-save. Legacy iptables rules
// are invisible to nft, so they are added when iptables warns of them.
func linuxRuleset(ctx context.Context, h host.Host, f *Facts) (*ruleset, error) {
	nftRS, nftErr := runNFT(ctx, h)
	if nftErr == nil {
		f.Source = sourceNFT
		if legacyPresent(ctx, h) {
			legacy, err := iptablesRuleset(ctx, h, iptablesLegacyPath, ip6tablesLegacyPath)
			if err != nil {
				f.Notes = append(f.Notes, "legacy iptables tables are present but could not be read: "+err.Error())
			} else {
				f.Source += " + " + sourceIPTablesLegacy
				nftRS.merge(legacy)
			}
		}
		return nftRS, nil
	}
	f.Notes = append(f.Notes, nftErr.Error())
	ipt, iptErr := iptablesRuleset(ctx, h, iptablesSavePath, ip6tablesSavePath)
	if iptErr != nil {
		return nil, fmt.Errorf("read the firewall ruleset: %v; %v", nftErr, iptErr)
	}
	f.Source = sourceIPTablesSave
	return ipt, nil
}

func runNFT(ctx context.Context, h host.Host) (*ruleset, error) {
	ctx, cancel := context.WithTimeout(ctx, host.DefaultCommandTimeout)
	defer cancel()
	out, err := h.Run(ctx, nftPath, "-j", "list", "ruleset")
	if err != nil {
		if errors.Is(err, host.ErrNotFound) {
			return nil, fmt.Errorf("nft is not installed (%s)", nftPath)
		}
		return nil, fmt.Errorf("run nft: %w", err)
	}
	if out.ExitCode != 0 {
		return nil, commandError("nft", out)
	}
	return parseNFT(out.Stdout)
}

// legacyPresent asks iptables-nft's save tool, which warns when legacy
// tables exist alongside nftables.
func legacyPresent(ctx context.Context, h host.Host) bool {
	ctx, cancel := context.WithTimeout(ctx, host.DefaultCommandTimeout)
	defer cancel()
	out, err := h.Run(ctx, iptablesSavePath)
	return err == nil && (strings.Contains(string(out.Stdout), legacyTablesNotice) || strings.Contains(string(out.Stderr), legacyTablesNotice))
}

// iptablesRuleset runs the IPv4 and IPv6 save tools; the IPv6 one may be
// missing.
func iptablesRuleset(ctx context.Context, h host.Host, v4Path, v6Path string) (*ruleset, error) {
	rs, err := runSave(ctx, h, v4Path, "ip")
	if err != nil {
		return nil, err
	}
	if rs6, err := runSave(ctx, h, v6Path, "ip6"); err == nil {
		rs.merge(rs6)
	}
	return rs, nil
}

func runSave(ctx context.Context, h host.Host, path, family string) (*ruleset, error) {
	ctx, cancel := context.WithTimeout(ctx, host.DefaultCommandTimeout)
	defer cancel()
	name := path[strings.LastIndexByte(path, '/')+1:]
	out, err := h.Run(ctx, path)
	if err != nil {
		if errors.Is(err, host.ErrNotFound) {
			return nil, fmt.Errorf("%s is not installed (%s)", name, path)
		}
		return nil, fmt.Errorf("run %s: %w", name, err)
	}
	if out.ExitCode != 0 {
		return nil, commandError(name, out)
	}
	return parseIPTablesSave(out.Stdout, family)
}

// commandError explains a failed firewall tool, calling out the common
// case of an agent not running as root.
func commandError(name string, out host.Output) error {
	msg := strings.TrimSpace(string(out.Stderr))
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	if len(msg) > 200 {
		msg = msg[:200]
	}
	low := strings.ToLower(string(out.Stderr))
	if strings.Contains(low, "operation not permitted") || strings.Contains(low, "permission denied") || strings.Contains(low, "must be root") {
		return fmt.Errorf("%s needs root to read the ruleset (the agent is not running as root): %s", name, msg)
	}
	return fmt.Errorf("%s exited %d: %s", name, out.ExitCode, msg)
}

func ipv6Disabled(h host.Host) bool {
	if b, err := h.ReadFile(disableIPv6Path); err == nil {
		return strings.TrimSpace(string(b)) == "1"
	}
	_, err := h.ReadFile(ifInet6Path)
	return errors.Is(err, host.ErrNotFound)
}

func ufwState(ctx context.Context, h host.Host) *FrontEnd {
	fe := &FrontEnd{}
	var src []string
	if b, err := h.ReadFile(ufwConfPath); err == nil {
		if en, ok := parseUFWConf(b); ok {
			fe.Enabled, src = &en, append(src, ufwConfPath+" ENABLED")
		}
	}
	if fe.Enabled == nil || !*fe.Enabled {
		// ufw disabled in its configuration: its rules are not loaded, and
		// `ufw status` would only say "inactive" a second later.
		if len(src) == 0 {
			return nil
		}
		fe.Source = strings.Join(src, ", ")
		return fe
	}
	ctx, cancel := context.WithTimeout(ctx, host.DefaultCommandTimeout)
	defer cancel()
	if out, err := h.Run(ctx, ufwPath, "status"); err == nil {
		if active, ok := parseUFWStatus(out.Stdout); ok {
			fe.Active, src = &active, append(src, "ufw status")
		}
	}
	if len(src) == 0 {
		return nil
	}
	fe.Source = strings.Join(src, ", ")
	return fe
}

func firewalldState(ctx context.Context, h host.Host) *FrontEnd {
	ctx, cancel := context.WithTimeout(ctx, host.DefaultCommandTimeout)
	defer cancel()
	out, err := h.Run(ctx, firewallCmdPath, "--state")
	if err != nil {
		return nil
	}
	running, ok := parseFirewalldState(append(out.Stdout, out.Stderr...))
	if !ok {
		return nil
	}
	return &FrontEnd{Active: &running, Source: "firewall-cmd --state"}
}
