// Package aptconfig reads `apt-config dump` and resolves the directories
// apt's configuration names the way apt itself does, so that a collector
// reads the package lists and logs where this machine's apt keeps them.
// When apt-config cannot answer, ReadFiles reads apt.conf.d and apt.conf
// themselves in apt's order (ParseConf is the apt.conf(5) parser).
package aptconfig
