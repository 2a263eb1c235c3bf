package wifienc

import (
	"context"
	"errors"
	"net/netip"
	"strconv"
	"strings"

	"github.com/postern-dev/postern/checks/host"
)

// ARPHRD link types of /sys/class/net/IF/type (linux/if_arp.h).
const (
	arphrdPPP     = 512
	arphrdTunnel  = 768
	arphrdTunnel6 = 769
	arphrdSit     = 776
	arphrdIPGRE   = 778
	arphrdIP6GRE  = 823
	arphrdNone    = 65534
)

// linuxTunnels recognises the tunnels internet traffic takes. The
// commands it needs (the tun/tap holders, the xfrm policies) run at most
// once per collection and only when a path needs them.
type linuxTunnels struct {
	ctx context.Context
	h   host.Host
	f   *Facts

	tuntapRead bool
	tuntap     map[string][]string
	tuntapErr  error

	xfrmRead bool
	xfrm     []xfrmPolicy
	xfrmErr  error
}

// byInterface recognises a tunnel interface: the kernel's device type
// first (DEVTYPE=wireguard), then a tun/tap device named by the VPN client
// holding it open, the link type, and the name VPN clients give their
// interfaces. Nil means it is not a tunnel interface (Ethernet, Wi-Fi, a
// bridge).
func (lt *linuxTunnels) byInterface(ifname string) *Tunnel {
	h := lt.h
	base := sysNet + ifname + "/"
	devtype := ""
	if b, err := h.ReadFile(base + "uevent"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "DEVTYPE="); ok {
				devtype = v
			}
		}
	}
	if devtype == "wireguard" {
		return &Tunnel{Interface: ifname, Kind: KindWireGuard, Source: base + "uevent DEVTYPE=wireguard"}
	}
	if devtype != "" {
		return nil // wlan, vlan, bridge, bond...: not a tunnel
	}
	byName := linuxKindByName(ifname)
	if _, err := h.Stat(base + "tun_flags"); err == nil {
		return lt.tun(ifname, byName)
	}
	typ := -1
	if b, err := h.ReadFile(base + "type"); err == nil {
		typ, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	}
	src := base + "type " + strconv.Itoa(typ)
	switch typ {
	case arphrdPPP:
		return &Tunnel{Interface: ifname, Kind: KindPPP, Source: src + " (PPP)"}
	case arphrdTunnel, arphrdTunnel6, arphrdSit, arphrdIPGRE, arphrdIP6GRE:
		if byName == KindIPsec {
			return &Tunnel{Interface: ifname, Kind: KindIPsec, Source: src + " named " + ifname}
		}
		return &Tunnel{Interface: ifname, Kind: KindTunnel, Source: src + " (IP tunnel)"}
	case arphrdNone:
		if byName != "" {
			return &Tunnel{Interface: ifname, Kind: byName, Source: src + " named " + ifname}
		}
		return &Tunnel{Interface: ifname, Kind: KindTunnel, Source: src + " (no link layer)"}
	}
	return nil
}

// tun names a tun/tap device by the process that holds it open: OpenVPN
// and OpenConnect both create "tun0", so the name cannot tell them apart,
// but the holder can (iproute2 finds it through /proc/PID/fdinfo's iff
// line). Without a known holder the interface name decides, else it stays
// an unidentified tun.
func (lt *linuxTunnels) tun(ifname, byName string) *Tunnel {
	src := sysNet + ifname + "/tun_flags (a tun/tap device)"
	procs, err := lt.tunHolders(ifname)
	if err == nil {
		kind, proc, ok := tunKindByProcesses(procs)
		switch {
		case !ok:
			src += "; ip -d tuntap show: held by several VPN clients (" + strings.Join(procs, ", ") + ")"
		case kind != "":
			return &Tunnel{Interface: ifname, Kind: kind, Source: src + "; ip -d tuntap show: held by " + proc}
		case len(procs) == 0:
			src += "; ip -d tuntap show: no process holds it"
		default:
			src += "; ip -d tuntap show: held by " + strings.Join(procs, ", ")
		}
	} else {
		src += "; the holding process is unknown (" + err.Error() + ")"
	}
	if byName != "" && byName != KindTun {
		return &Tunnel{Interface: ifname, Kind: byName, Source: src + "; named " + ifname}
	}
	return &Tunnel{Interface: ifname, Kind: KindTun, Source: src}
}

func (lt *linuxTunnels) tunHolders(ifname string) ([]string, error) {
	if !lt.tuntapRead {
		lt.tuntapRead = true
		out, err := run(lt.ctx, lt.h, ipPaths, "-d", "tuntap", "show")
		if err != nil {
			lt.tuntapErr = err
		} else {
			lt.tuntap = parseTuntapShow(out.Stdout)
		}
	}
	if lt.tuntapErr != nil {
		return nil, lt.tuntapErr
	}
	procs, ok := lt.tuntap[ifname]
	if !ok {
		return nil, errNotListed
	}
	return procs, nil
}

var errNotListed = errors.New("ip -d tuntap show does not list the device")

// byXfrmPolicy recognises policy-based IPsec (strongSwan, libreswan
// without an xfrm or vti interface): the route leaves through an ordinary
// interface, but the kernel's outbound xfrm policy wraps every packet to
// the internet in ESP before it does. src is the source address the route
// chose ("" when unknown: then only a policy for any source counts).
func (lt *linuxTunnels) byXfrmPolicy(dev, src string, probe netip.Addr) *Tunnel {
	if !lt.xfrmRead {
		lt.xfrmRead = true
		out, err := run(lt.ctx, lt.h, ipPaths, "xfrm", "policy", "list")
		if err != nil {
			lt.xfrmErr = err
			lt.f.Notes = append(lt.f.Notes, "the IPsec (xfrm) policies could not be read: "+err.Error())
		} else if lt.xfrm, lt.xfrmErr = parseXfrmPolicies(out.Stdout); lt.xfrmErr != nil {
			lt.f.Notes = append(lt.f.Notes, "the IPsec (xfrm) policies could not be read: "+lt.xfrmErr.Error())
		}
	}
	if lt.xfrmErr != nil {
		return nil
	}
	srcAddr, _ := netip.ParseAddr(src)
	c := xfrmCovers(lt.xfrm, srcAddr, probe)
	if !c.covered {
		if c.why != "" {
			lt.f.Notes = append(lt.f.Notes, "traffic via "+dev+" is not wrapped in IPsec: "+c.why+" ("+c.policy.String()+")")
		}
		return nil
	}
	esp := c.policy.esp()
	return &Tunnel{
		Interface: dev,
		Kind:      KindIPsec,
		Name:      "IPsec ESP " + esp.mode + " to " + esp.peer,
		Source:    "ip xfrm policy: " + c.policy.String() + " requires ESP (policy-based IPsec, no tunnel interface)",
	}
}
