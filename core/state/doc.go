// Package state is Fengqiao's deterministic engine on bbolt, and the only
// package that imports bbolt (besides the Raft log store): the command
// registry (commands.go), the storage schema (schema.go), record and command
// codecs, the apply handlers, indexes and counters, the keyed audit chain,
// snapshots, checkpoints, and the queries the services read through.
//
// Apply is a pure function of the current state and the commands: no clock,
// randomness, network or plugins, and no map order leaks into what is
// written. Two engines that apply the same commands hold byte-identical
// logical state (Engine.Digest). Input rules run in the services of package
// core before a command is proposed; apply checks only what depends on the
// state, and reads a rule that may change from the command's version.
package state
