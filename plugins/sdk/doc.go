// Package sdk is what a plugin author imports to add a region's own
// features (一区一特色) to Fengqiao: small interfaces over core/model types,
// and Serve. It pulls in neither bbolt nor raft (TestSDKIsLight).
//
// A plugin is a main package that calls Serve with a value implementing
// Plugin and any of the hook interfaces (EventValidator, EventEnricher,
// EventRouter, TransitionHandler). The hooks a plugin implements are the
// hooks it declares; the host calls no other.
//
//	func main() { sdk.Serve(myPlugin{}) }
//
// Hooks run on the proposer side, before a command is proposed, or from the
// change feed after it is applied; never inside apply. A plugin changes
// state only through the commands it returns.
package sdk
