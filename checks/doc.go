// Package checks is the control catalog's core: the stable control IDs, the
// typed results of evaluation, the policy that sets each control's
// thresholds and enforcement, and the pure Evaluate function that both the
// agent (for its local report) and the server (as the authority) use.
//
// Each control lives in its own sub-package (checks/firewall, ...), laid
// out alike: control.go registers it (Register, in init) with its
// collectors chosen per OS by PerOS; portable parse_<tool>.go files;
// per-OS collectors that read the machine only through checks/host;
// evaluate.go judging through Evaluator, which decodes the facts and takes
// the thresholds; tests reading recorded samples through
// checks/internal/checktest. checks/catalog holds all of them and tests
// that layout. This package is portable.
package checks
