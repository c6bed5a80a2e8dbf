// Package federation connects jurisdictions: each one a Raft group
// (replica, raftstore/), found through one memberlist pool (membership/),
// exchanging escalations, dispatches, rollups, cross-region cases and person
// handovers exactly once (exchange/). It imports core and never node.
// The packages arrive with the replicated node; nothing here is in use yet.
package federation
