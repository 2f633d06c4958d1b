// Package archtest holds no code, only the test that keeps the
// repository's import rules true (imports_test.go): which packages may
// import consensus, which packages must stay free of consensus, storage,
// CometBFT or libp2p, and that node never reaches devnet. A rule broken by
// a change fails `make test` with the import path that breaks it.
package archtest
