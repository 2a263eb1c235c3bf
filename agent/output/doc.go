// Package output renders what the agent tells people and scripts: the
// `check` result as text (one line per control, with the fix under each
// failing one) or as the JSON object fixed in docs/architecture.md, and the `status`
// summary, including whether the device may open IBHIS now. Portable.
package output
