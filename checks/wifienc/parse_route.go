package wifienc

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/postern-dev/postern/checks/internal/textlines"
)

// ipRoute is the route `ip -j route get ADDR` chose: its output device
// and the source address it prefers (which xfrm policies select on).
type ipRoute struct {
	dev, prefsrc string
}

func parseIPRouteGet(out []byte) (ipRoute, error) {
	var routes []struct {
		Dev     string `json:"dev"`
		Prefsrc string `json:"prefsrc"`
	}
	if err := json.Unmarshal(out, &routes); err != nil {
		return ipRoute{}, fmt.Errorf("decode ip route get output: %w", err)
	}
	if len(routes) == 0 || routes[0].Dev == "" {
		return ipRoute{}, fmt.Errorf("ip route get named no device")
	}
	return ipRoute{dev: routes[0].Dev, prefsrc: routes[0].Prefsrc}, nil
}

// kernelRoute is one route of /proc/net/route or /proc/net/ipv6_route.
type kernelRoute struct {
	prefix netip.Prefix
	metric uint32
	dev    string
}

// Route flags of the kernel's route tables (linux/route.h, ipv6_route.h).
const (
	rtfUp     = 0x0001
	rtfReject = 0x0200
)

// parseProcRoute reads /proc/net/route: addresses and masks are 32-bit hex
// numbers in the machine's byte order, which on every platform Go targets
// for Linux desktops is little-endian.
func parseProcRoute(b []byte) ([]kernelRoute, error) {
	var out []kernelRoute
	first := true
	for line := range textlines.Each(b) {
		fields := strings.Fields(line)
		if first {
			first = false
			if len(fields) > 0 && fields[0] == "Iface" {
				continue
			}
		}
		if len(fields) < 8 {
			continue
		}
		dst, err1 := strconv.ParseUint(fields[1], 16, 32)
		flags, err2 := strconv.ParseUint(fields[3], 16, 32)
		metric, err3 := strconv.ParseUint(fields[6], 10, 32)
		mask, err4 := strconv.ParseUint(fields[7], 16, 32)
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
			return nil, fmt.Errorf("parse /proc/net/route line %q", clip(line))
		}
		if flags&rtfUp == 0 || flags&rtfReject != 0 {
			continue
		}
		var a [4]byte
		binary.LittleEndian.PutUint32(a[:], uint32(dst))
		var m [4]byte
		binary.LittleEndian.PutUint32(m[:], uint32(mask))
		bits := 0
		for _, x := range m {
			for i := 7; i >= 0 && x&(1<<i) != 0; i-- {
				bits++
			}
		}
		p, err := netip.AddrFrom4(a).Prefix(bits)
		if err != nil {
			continue
		}
		out = append(out, kernelRoute{prefix: p, metric: uint32(metric), dev: fields[0]})
	}
	return out, nil
}

// parseProcIPv6Route reads /proc/net/ipv6_route: destination (32 hex
// digits), prefix length, source, source length, next hop, metric,
// reference count, use, flags and device.
func parseProcIPv6Route(b []byte) ([]kernelRoute, error) {
	var out []kernelRoute
	for line := range textlines.Each(b) {
		fields := strings.Fields(line)
		if len(fields) < 10 {
			continue
		}
		raw, err := hex.DecodeString(fields[0])
		if err != nil || len(raw) != 16 {
			return nil, fmt.Errorf("parse /proc/net/ipv6_route line %q", clip(line))
		}
		bits, err1 := strconv.ParseUint(fields[1], 16, 8)
		metric, err2 := strconv.ParseUint(fields[5], 16, 32)
		flags, err3 := strconv.ParseUint(fields[8], 16, 32)
		if err1 != nil || err2 != nil || err3 != nil {
			return nil, fmt.Errorf("parse /proc/net/ipv6_route line %q", clip(line))
		}
		if flags&rtfUp == 0 || flags&rtfReject != 0 || fields[9] == "lo" {
			continue
		}
		p, err := netip.AddrFrom16([16]byte(raw)).Prefix(int(bits))
		if err != nil {
			continue
		}
		out = append(out, kernelRoute{prefix: p, metric: uint32(metric), dev: fields[9]})
	}
	return out, nil
}

// lookupRoute returns the device of the most specific route to addr, the
// lowest metric breaking ties, as the kernel's main table would choose.
func lookupRoute(routes []kernelRoute, addr netip.Addr) (string, bool) {
	best := -1
	for i, r := range routes {
		if !r.prefix.Contains(addr) {
			continue
		}
		if best < 0 || r.prefix.Bits() > routes[best].prefix.Bits() ||
			(r.prefix.Bits() == routes[best].prefix.Bits() && r.metric < routes[best].metric) {
			best = i
		}
	}
	if best < 0 {
		return "", false
	}
	return routes[best].dev, true
}

// parseBSDRouteGet returns the interface line of macOS `route -n get ADDR`.
func parseBSDRouteGet(out []byte) (string, error) {
	for line := range textlines.Each(out) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && k == "interface" {
			if v = strings.TrimSpace(v); v != "" {
				return v, nil
			}
		}
	}
	return "", fmt.Errorf("route get named no interface")
}
