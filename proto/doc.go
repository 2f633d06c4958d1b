// Package proto holds Weft's wire format: the .proto files under weft/v1 and
// the Go code generated from them in weftv1 (regenerate with `make generate`).
package proto
