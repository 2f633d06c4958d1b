// Package feed delivers each rollup's slice of every committed Weft block, in
// height order, with its proof: to in-process subscribers (executors) and,
// through the node API stream, to remote followers that verify every slice.
// It reads committed blocks through Source; it never reaches into consensus
// state.
package feed
