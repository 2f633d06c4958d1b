// Package genesis owns Weft's genesis document: the chain id, consensus and
// fee parameters, prefunded accounts, the validator set with secp256k1eth
// keys, and the rollups registered from the start. It validates a document
// with errors that name the offending field, and turns it into the CometBFT
// genesis file whose app_state carries Weft's part.
package genesis
