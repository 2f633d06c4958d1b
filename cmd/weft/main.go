// Command weft is the Weft node and client: one binary for operators
// (init, testnet, start, devnet), key management and transactions/queries.
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := rootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}
