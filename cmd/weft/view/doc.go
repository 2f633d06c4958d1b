// Package view owns what the weft CLI prints: one struct per answer (an
// account, a block, a tx, the validators, a key, a rollup's settlement…)
// whose fields already hold the values as people read them — addresses as
// EIP-55 0x-hex, hashes and keys as 0x-hex, amounts as decimal WEFT (or raw
// integers in the smallest unit on request), times in RFC 3339 — and
// Print, which writes such a struct as aligned text or as JSON with
// snake_case field names. Every value is formatted by package format, so
// the text and the JSON of an answer show it the same way.
//
// It turns the node API's answers into views and prints them; it never
// talks to a node, reads flags or decides what a command does.
package view
