// Package live is the real host: the one implementation of host.Host that
// touches the machine, on Linux, macOS and Windows. It is the only package
// in the repository allowed to read the real filesystem for checks or to
// start programs (os/exec); everything else asks through host.Host.
//
// Files are read with a size bound, programs run only by absolute path,
// under a deadline, with a minimal environment (LANG=C on Unix) and bounded
// output. The Windows registry is read with golang.org/x/sys/windows/registry
// and WMI is queried through PowerShell's Get-CimInstance, which needs no
// cgo; both answer host.ErrNotSupported on other systems.
package live
