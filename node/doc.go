// Package node composes core, plugins and federation into the fengqiao
// binary (node/cmd/fengqiao): HTTP API, web console and CLI. It arrives with
// the replicated node; until then examples/embed is the way in.
package node
