// Package watch tells the agent when to check again before its next
// scheduled cycle: when a cheap setting changes (firewall and screen lock
// facts are collected every 15 s and compared by hash), when the network
// changes (Linux: NETLINK_ROUTE link, address and route messages; Windows:
// NotifyIpInterfaceChange and NotifyUnicastIpAddressChange; macOS: the
// PF_ROUTE socket;
// every OS also polls the interface list every few seconds), and when the
// machine resumes from sleep (the wall clock jumped ahead of the
// monotonic clock, or a tick came far too late). Each watcher calls its
// trigger with a short reason; the runner coalesces triggers. Linux,
// Windows and macOS.
package watch
