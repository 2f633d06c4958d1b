package bls12381
