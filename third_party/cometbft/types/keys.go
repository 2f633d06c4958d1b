package types

// UNSTABLE
var (
	PeerStateKey = "ConsensusReactor.peerState"
)
