package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/weftnet/weft/client"
	"github.com/weftnet/weft/devnet"
	"github.com/weftnet/weft/format"
	"github.com/weftnet/weft/node"
)

// fallbackNode is the node API address when nothing says where a node is:
// a node's default api.listen_addr.
const fallbackNode = "127.0.0.1:9090"

// devnetEndpoints is where `make devnet` (weft devnet --dir .devnet) writes
// its endpoints, relative to the directory it runs in.
var devnetEndpoints = filepath.Join(".devnet", "endpoints.json")

// clientFlags adds the flags of the commands that talk to a node API.
func clientFlags(cmd *cobra.Command) {
	cmd.PersistentFlags().String("node", "", "node API address host:port (default: the API in --home's weft.toml if --home is given, "+
		"else node0 of ./.devnet/endpoints.json, else the API in the default home's weft.toml, else "+fallbackNode+")")
	cmd.PersistentFlags().Duration("timeout", 10*time.Second, "how long each call to the node may take")
}

// nodeAddr is the node API address the command talks to: --node (or
// WEFT_NODE); else the API of an explicitly given --home (or WEFT_HOME);
// else node0 of the devnet in the current directory; else the API of the
// default home; else fallbackNode. A devnet in the current directory
// comes before the default home because running from a repository with a
// devnet is the stronger hint of which node is meant.
func nodeAddr(cmd *cobra.Command) (string, error) {
	if a, _ := cmd.Flags().GetString("node"); a != "" {
		return a, nil
	}
	home, _ := cmd.Flags().GetString("home")
	if home != "" && cmd.Flags().Changed("home") {
		if a, ok, err := homeAPI(home); ok || err != nil {
			return a, err
		}
	}
	if a, ok, err := devnetNode0(devnetEndpoints); ok || err != nil {
		return a, err
	}
	if a, ok, err := homeAPI(defaultHome()); ok || err != nil {
		return a, err
	}
	return fallbackNode, nil
}

// homeAPI is the node API address of the node home at home, if it has a
// weft.toml.
func homeAPI(home string) (string, bool, error) {
	if _, err := os.Stat(filepath.Join(home, "config", "weft.toml")); err != nil {
		return "", false, nil
	}
	_, wc, err := node.LoadConfig(home)
	if err != nil {
		return "", false, fmt.Errorf("finding the node API in --home %s: %w (or set --node)", home, err)
	}
	return dialable(wc.API.ListenAddr), true, nil
}

// devnetNode0 is node0's API address in a devnet's endpoints.json at path,
// if the file exists. The file comes from the current directory, which may
// be anyone's (a cloned repository): only a regular file of at most
// maxEndpointsFile bytes is read, and only a loopback address is taken
// from it (a devnet runs on this machine).
func devnetNode0(path string) (string, bool, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", false, nil
	}
	if !fi.Mode().IsRegular() || fi.Size() > maxEndpointsFile {
		return "", false, fmt.Errorf("%s is not a devnet's endpoints file (set --node)", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return "", false, nil
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxEndpointsFile))
	if err != nil {
		return "", false, fmt.Errorf("read %s: %w (set --node)", path, err)
	}
	var ep devnet.Endpoints
	if err := json.Unmarshal(b, &ep); err != nil || len(ep.Nodes) == 0 || ep.Nodes[0].API == "" {
		return "", false, fmt.Errorf("%s names no node API (re-run the devnet, or set --node)", path)
	}
	addr := dialable(ep.Nodes[0].API)
	if !loopback(addr) {
		return "", false, fmt.Errorf("%s names node API %s, not on this machine: a devnet's is on loopback (set --node to use it)", path, format.Printable(addr))
	}
	return addr, true, nil
}

// maxEndpointsFile bounds the endpoints.json the CLI reads.
const maxEndpointsFile = 1 << 20

// loopback reports whether addr's host is a loopback address or localhost.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// dialable turns a listen address on every interface (0.0.0.0:9090,
// [::]:9090) into the loopback address of the same port.
func dialable(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		if ip != nil && ip.To4() == nil {
			return net.JoinHostPort("::1", port)
		}
		return net.JoinHostPort("127.0.0.1", port)
	}
	return listen
}

// dial connects to the command's node API (nodeAddr). Every unary call
// gets --timeout and its error is one readable line (nodeError). ctx is the
// command's; done closes the connection.
func dial(cmd *cobra.Command) (*client.Client, context.Context, context.CancelFunc, error) {
	addr, err := nodeAddr(cmd)
	if err != nil {
		return nil, nil, nil, err
	}
	to, _ := cmd.Flags().GetDuration("timeout")
	if to <= 0 {
		return nil, nil, nil, fmt.Errorf("--timeout %s must be positive", to)
	}
	c, err := client.Dial(addr, grpc.WithUnaryInterceptor(callTimeout(addr, to)))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("--node %q: %w", addr, err)
	}
	ctx, cancel := context.WithCancel(cmd.Context())
	return c, ctx, func() { cancel(); c.Close() }, nil
}

// callTimeout bounds each unary call to the node at addr by to and turns
// its error into a nodeError.
func callTimeout(addr string, to time.Duration) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		cctx, cancel := context.WithTimeout(ctx, to)
		defer cancel()
		err := invoker(cctx, method, req, reply, cc, opts...)
		if err == nil {
			return nil
		}
		// The node's copy of the deadline may fire (and its answer
		// arrive) a moment before ours does.
		timedOut := ctx.Err() == nil && (cctx.Err() != nil || status.Code(err) == codes.DeadlineExceeded)
		return newNodeError(addr, to, method, err, timedOut)
	}
}

// nodeError is a failed call to the node as one line a person can act on;
// it keeps the call's gRPC status (GRPCStatus) for code that checks it.
type nodeError struct {
	msg string
	st  *status.Status
}

func (e *nodeError) Error() string              { return e.msg }
func (e *nodeError) GRPCStatus() *status.Status { return e.st }

// newNodeError words err, the error of a call of method to the node at
// addr; timedOut: the call's own timeout (to) ran out.
func newNodeError(addr string, to time.Duration, method string, err error, timedOut bool) error {
	st, ok := status.FromError(err)
	if !ok {
		st = status.New(codes.Unknown, err.Error())
	}
	msg := format.Printable(st.Message()) // the node's words, printed to a terminal
	switch {
	// Whatever the code says (a node whose copy of the deadline fired
	// first may reset the stream: CANCEL), a call that failed once its
	// time ran out did not answer in time.
	case timedOut:
		msg = fmt.Sprintf("node %s did not answer within %s (raise --timeout, or try another --node)", addr, format.Duration(to))
	case st.Code() == codes.Unavailable && !strings.HasPrefix(msg, "weft code "):
		msg = fmt.Sprintf("no Weft node API at %s (is it running? set --node or WEFT_NODE)", addr)
	case st.Code() == codes.Unimplemented:
		msg = fmt.Sprintf("%s does not serve %s: not a Weft node API, or an older one", addr, method)
	case st.Code() == codes.Canceled:
		return context.Canceled
	}
	return &nodeError{msg: msg, st: st}
}

// isNotFound reports whether err is the node saying it has no such thing.
func isNotFound(err error) bool {
	var ne *nodeError
	return errors.As(err, &ne) && ne.st.Code() == codes.NotFound
}
