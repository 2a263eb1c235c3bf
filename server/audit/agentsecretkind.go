package audit

// KindAgentProofRefused: a connection with a device's certificate did not
// prove the device's agent secret (details: reason missing|wrong,
// remote), so it was refused. The device key alone is usable by the
// console user's programs (a TPM key serves the browser); this is what a
// program other than the agent trying to report as the device looks like.
const KindAgentProofRefused = "agent_proof_refused"
