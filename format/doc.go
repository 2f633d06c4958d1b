// Package format owns how Weft shows values to people: addresses as EIP-55
// 0x-hex, hashes and keys as 0x-hex, token amounts as decimal strings with
// their unit, times as RFC 3339 and durations in a short human form. The
// CLI's text and JSON output and the node's network page use it, so every
// surface prints a value the same way. It is a leaf: it imports only the
// standard library and go-ethereum's common package.
package format
