// Package ui is what a person sees of a Weft network: the status snapshot a
// node collects (weftv1.NetworkStatus) turned into a view with readable
// values (package format), the text screen of `weft status`, and the
// network page each node can serve ([ui] listen_addr): server-rendered
// html/template, refreshed in place by a few lines of JavaScript polling a
// fragment of itself, with inline SVG charts of the node's recent history.
//
// It also holds the two pure pieces the node's collector uses: History, the
// bounded ring of per-second samples behind the charts, and Warnings, the
// rules that turn a snapshot into what an operator should look at.
//
// It is read-only and safe to expose: it never sees keys, offers no action
// that writes, escapes everything it shows, and bounds what it answers. It
// depends on the wire types and format only, never on the node, consensus
// or the rollup services: the node hands it a function that collects a
// snapshot.
package ui
