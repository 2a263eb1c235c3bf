// Package checks is the control catalog's core: the stable control IDs, the
// typed results of evaluation, the policy that sets each control's
// thresholds and enforcement, and the pure Evaluate function that both the
// agent (for its local report) and the server (as the authority) use.
//
// Each control lives in its own sub-package (checks/firewall, ...) with
// portable parsers, per-OS collectors that read the machine only through
// checks/host, and an evaluator; it registers itself with Register in init.
// Import checks/catalog to get all of them. This package is portable.
package checks
