/*
Package factory provides generation code for common structs in CometBFT.
It is used primarily for the testing of internal components such as statesync,
consensus, blocksync etc..
*/
package test
