// Package client is the Go client of the Weft node API: it dials a node,
// builds and signs transactions with the sender's next nonce, submits them
// and waits for their commit. The CLI and the tests use it. It needs only
// the wire types and the tx codec (txcodec), never the node or consensus.
package client
