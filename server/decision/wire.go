package decision

import (
	pb "github.com/postern-dev/postern/proto"
)

// ToWire is d as the agent receives it in an Ack, so that
// `postern-agent status` shows the server's decision itself.
func ToWire(d Decision) *pb.AccessDecision {
	s := AccessOf(d)
	w := &pb.AccessDecision{Allow: d.Allow, EvaluatedAtUnix: d.EvaluatedAt.Unix(), Access: string(s.Access),
		Reasons: wireReasons(d.Reasons), Warnings: wireReasons(d.Warnings)}
	if !s.Deadline.IsZero() {
		w.DeadlineUnix = s.Deadline.Unix()
	}
	return w
}

func wireReasons(rs []Reason) []*pb.DecisionReason {
	out := make([]*pb.DecisionReason, 0, len(rs))
	for _, r := range rs {
		w := &pb.DecisionReason{Code: r.Code, Control: r.Control, Message: r.Message, Remediation: r.Remediation}
		if !r.Until.IsZero() {
			w.UntilUnix = r.Until.Unix()
		}
		out = append(out, w)
	}
	return out
}
