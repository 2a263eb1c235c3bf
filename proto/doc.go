// Package pb holds the wire schema shared by postern-agent and postern-server
// (generated from postern.proto) and the stream framing: every message is one
// Envelope preceded by its length as a 4-byte big-endian integer, and no frame
// may exceed MaxFrameSize. It is portable and imports nothing OS-specific.
package pb
