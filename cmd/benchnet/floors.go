package main

import (
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
)

// floors are what the work every validator must do per tx and per byte
// costs on this machine, on one core, measured in the same run as the
// budget: recovering a tx's signer (go-ethereum's crypto.SigToPub, which
// Weft's DecodeTx calls), hashing a byte with sha256 and copying it.
type floors struct {
	RecoveriesPerS  float64 `json:"secp256k1_recoveries_per_s"`
	RecoveryUs      float64 `json:"secp256k1_recovery_us"`
	SHA256BytesPerS float64 `json:"sha256_bytes_per_s"`
	SHA256NsPerByte float64 `json:"sha256_ns_per_byte"`
	MemcpyBytesPerS float64 `json:"memcpy_bytes_per_s"`
	MemcpyNsPerByte float64 `json:"memcpy_ns_per_byte"`
	// BusyCores is how busy the machine was just before (other processes).
	BusyCores float64 `json:"machine_busy_cores_before"`
}

// floorTime is how long each floor is measured.
const floorTime = 400 * time.Millisecond

// measureFloors measures the floors on the calling goroutine's core.
func measureFloors(busy float64) (*floors, error) {
	f := &floors{BusyCores: busy}
	key, err := crypto.ToECDSA(make32(7))
	if err != nil {
		return nil, err
	}
	hash := make32(9)
	sig, err := crypto.Sign(hash, key)
	if err != nil {
		return nil, err
	}
	var rerr error
	n, d := repeat(func() {
		if _, err := crypto.SigToPub(hash, sig); err != nil {
			rerr = err
		}
	})
	if rerr != nil {
		return nil, rerr
	}
	f.RecoveriesPerS = round(float64(n)/d.Seconds(), 0)
	f.RecoveryUs = round(d.Seconds()/float64(n)*1e6, 2)

	buf := make([]byte, 1<<20)
	n, d = repeat(func() { sha256.Sum256(buf) })
	f.SHA256BytesPerS = round(float64(n*len(buf))/d.Seconds(), -6)
	f.SHA256NsPerByte = round(d.Seconds()/float64(n*len(buf))*1e9, 3)

	// Buffers well above the caches: a copy at memory bandwidth.
	src, dst := make([]byte, 32<<20), make([]byte, 32<<20)
	for i := range src {
		src[i] = byte(i)
	}
	n, d = repeat(func() { copy(dst, src) })
	f.MemcpyBytesPerS = round(float64(n*len(src))/d.Seconds(), -6)
	f.MemcpyNsPerByte = round(d.Seconds()/float64(n*len(src))*1e9, 3)
	return f, nil
}

// repeat runs op until floorTime has passed and returns how many times it
// ran and for how long.
func repeat(op func()) (int, time.Duration) {
	op() // warm up
	t := time.Now()
	n := 0
	for time.Since(t) < floorTime {
		op()
		n++
	}
	return n, time.Since(t)
}

func make32(seed byte) []byte {
	b := make([]byte, 32)
	for i := range b {
		b[i] = seed + byte(i)
	}
	return b
}

// print is the floors' line.
func (f *floors) print() {
	fmt.Printf("benchnet: floors on one core of this machine: secp256k1 recovery %.0f/s (%.1f µs), sha256 %.0f MB/s (%.2f ns/B), memcpy %.0f MB/s (%.3f ns/B)\n",
		f.RecoveriesPerS, f.RecoveryUs, f.SHA256BytesPerS/1e6, f.SHA256NsPerByte, f.MemcpyBytesPerS/1e6, f.MemcpyNsPerByte)
}
