// cni-runner: a minimal CNI runtime for tests, written for cilium-rs over
// Debian's libcni 1.1.2 (package golang-github-appc-cni-dev).
//
// It plays the role of a container runtime: it loads a network configuration
// list, builds the runtime configuration from its flags and asks libcni to run
// the plugin chain (ADD, CHECK, DEL), with libcni's own result cache so that
// CHECK and DEL receive the cached ADD result as prevResult.
//
// Output contract (stdout, one JSON document, newline-terminated):
//
//	add      exit 0: the final ADD result, converted to the conflist's cniVersion
//	check    exit 0: {}
//	del      exit 0: {}
//	version  exit 0: {"libcni":"1.1.2","cniVersion":...,"plugins":[...]}
//	any      exit 1: {"code":N,"msg":"...","details":"...","error":"..."}
//	status   exit 3: {"code":...,"msg":"STATUS is not supported by libcni 1.1.2",...}
//	gc       exit 3: same, for GC
//	usage    exit 2: a usage message on stderr, nothing on stdout
//
// check and del given neither --args nor --capability-args reuse the ones
// of the cached ADD, as a runtime would.
//
// Plugin stderr is forwarded to our stderr.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/types"
)

// The libcni version this runner is written against. The Debian package
// does not expose a version constant, so it is recorded here.
const libcniVersion = "1.1.2"

const (
	exitOK          = 0
	exitFailure     = 1
	exitUsage       = 2
	exitUnsupported = 3
)

// codeRunner is the error code used for failures that did not come with a
// CNI error code (configuration file unreadable, plugin not found in the
// CNI path, ...). It is the CNI "internal error" code.
const codeRunner = types.ErrInternal

const defaultCacheDir = "/tmp/cilium-rs-cni-cache"
const defaultCNIPath = "/usr/lib/cni:/opt/cni/bin"

type options struct {
	command     string
	conflist    string
	netns       string
	containerID string
	ifname      string
	cniPath     string
	args        string
	capArgs     string
	cacheDir    string
	valid       string
	timeout     time.Duration
}

// errorReport is what we print on stdout when an operation fails.
type errorReport struct {
	Code    uint   `json:"code"`
	Msg     string `json:"msg"`
	Details string `json:"details,omitempty"`
	// The full error text, including libcni's context such as
	// `plugin type="bridge" failed (add): ...`.
	Error string `json:"error"`
}

type attachment struct {
	ContainerID string `json:"containerID"`
	IfName      string `json:"ifname"`
}

func usage(w io.Writer) {
	fmt.Fprintf(w, `usage: cni-runner <add|check|del|status|gc|version> --conflist FILE [flags]

flags:
  --conflist FILE         network configuration list (required)
  --netns PATH            network namespace path (required for add, check)
  --container-id ID       container ID (required for add, check, del)
  --ifname NAME           interface name inside the container (default eth0)
  --cni-path DIRS         ':'-separated plugin directories
                          (default $CNI_PATH, else %s)
  --args K=V;K2=V2        CNI_ARGS
  --capability-args JSON  runtime capability arguments, e.g.
                          '{"portMappings":[{"hostPort":8080,"containerPort":80,"protocol":"tcp"}]}'
  --cache-dir DIR         libcni result cache (default %s)
                          check/del without --args and --capability-args reuse
                          the ones cached by add
  --valid ID/IFNAME,...   valid attachments for gc
  --timeout DURATION      overall deadline (default 60s)

exit codes: 0 ok, 1 operation failed (error JSON on stdout), 2 usage,
3 operation not supported by libcni %s (status, gc)
`, defaultCNIPath, defaultCacheDir, libcniVersion)
}

func parseOptions(argv []string) (*options, error) {
	if len(argv) < 1 {
		return nil, errors.New("missing command")
	}
	o := &options{command: argv[0]}
	switch o.command {
	case "add", "check", "del", "status", "gc", "version":
	case "-h", "--help", "help":
		return nil, flag.ErrHelp
	default:
		return nil, fmt.Errorf("unknown command %q", o.command)
	}

	fs := flag.NewFlagSet("cni-runner "+o.command, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	defPath := os.Getenv("CNI_PATH")
	if defPath == "" {
		defPath = defaultCNIPath
	}
	fs.StringVar(&o.conflist, "conflist", "", "")
	fs.StringVar(&o.netns, "netns", "", "")
	fs.StringVar(&o.containerID, "container-id", "", "")
	fs.StringVar(&o.ifname, "ifname", "eth0", "")
	fs.StringVar(&o.cniPath, "cni-path", defPath, "")
	fs.StringVar(&o.args, "args", "", "")
	fs.StringVar(&o.capArgs, "capability-args", "", "")
	fs.StringVar(&o.cacheDir, "cache-dir", defaultCacheDir, "")
	fs.StringVar(&o.valid, "valid", "", "")
	fs.DurationVar(&o.timeout, "timeout", 60*time.Second, "")
	if err := fs.Parse(argv[1:]); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if o.conflist == "" {
		return nil, errors.New("--conflist is required")
	}
	switch o.command {
	case "add", "check":
		if o.netns == "" {
			return nil, fmt.Errorf("--netns is required for %s", o.command)
		}
		fallthrough
	case "del":
		if o.containerID == "" {
			return nil, fmt.Errorf("--container-id is required for %s", o.command)
		}
	}
	return o, nil
}

// parseCNIArgs turns "K=V;K2=V2" into libcni's [][2]string. Empty segments
// are skipped; a segment without '=' is an error.
func parseCNIArgs(s string) ([][2]string, error) {
	var out [][2]string
	for _, kv := range strings.Split(s, ";") {
		if kv == "" {
			continue
		}
		i := strings.IndexByte(kv, '=')
		if i <= 0 {
			return nil, fmt.Errorf("invalid --args element %q (want K=V)", kv)
		}
		out = append(out, [2]string{kv[:i], kv[i+1:]})
	}
	return out, nil
}

// parseValid turns "ID/IFNAME,ID2/IFNAME2" into attachments.
func parseValid(s string) ([]attachment, error) {
	out := []attachment{}
	for _, item := range strings.Split(s, ",") {
		if item == "" {
			continue
		}
		i := strings.LastIndexByte(item, '/')
		if i <= 0 || i == len(item)-1 {
			return nil, fmt.Errorf("invalid --valid element %q (want ID/IFNAME)", item)
		}
		out = append(out, attachment{ContainerID: item[:i], IfName: item[i+1:]})
	}
	return out, nil
}

func splitPath(s string) []string {
	var out []string
	for _, d := range filepath.SplitList(s) {
		if d != "" {
			out = append(out, d)
		}
	}
	return out
}

// writeJSON prints v as one line of JSON (no HTML escaping of <, >, &).
func writeJSON(v interface{}) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Should not happen for our own types; keep the contract anyway.
		buf.Reset()
		_ = enc.Encode(errorReport{Code: codeRunner, Msg: "marshal output", Error: err.Error()})
	}
	os.Stdout.Write(buf.Bytes())
}

// report prints err as the error JSON and returns the exit code.
func report(err error) int {
	var cniErr *types.Error
	r := errorReport{Code: codeRunner, Msg: err.Error(), Error: err.Error()}
	if errors.As(err, &cniErr) {
		r.Code = cniErr.Code
		r.Msg = cniErr.Msg
		r.Details = cniErr.Details
	}
	writeJSON(r)
	return exitFailure
}

func unsupported(op string) int {
	writeJSON(errorReport{
		Code:    codeRunner,
		Msg:     fmt.Sprintf("%s is not supported by libcni %s", op, libcniVersion),
		Details: "STATUS and GC need libcni >= 1.2 (CNI spec 1.1.0); invoke the plugin directly instead",
		Error:   fmt.Sprintf("%s not supported by libcni %s", op, libcniVersion),
	})
	return exitUnsupported
}

type pluginVersion struct {
	Type              string   `json:"type"`
	SupportedVersions []string `json:"supportedVersions"`
	SupportsList      bool     `json:"supportsConflistVersion"`
}

type versionReport struct {
	Libcni     string          `json:"libcni"`
	Name       string          `json:"name"`
	CNIVersion string          `json:"cniVersion"`
	Plugins    []pluginVersion `json:"plugins"`
}

func run(o *options) int {
	list, err := libcni.ConfListFromFile(o.conflist)
	if err != nil {
		return report(fmt.Errorf("load conflist %s: %w", o.conflist, err))
	}

	cniArgs, err := parseCNIArgs(o.args)
	if err != nil {
		return report(err)
	}
	var capArgs map[string]interface{}
	if o.capArgs != "" {
		if err := json.Unmarshal([]byte(o.capArgs), &capArgs); err != nil {
			return report(fmt.Errorf("parse --capability-args: %w", err))
		}
	}

	cni := libcni.NewCNIConfigWithCacheDir(splitPath(o.cniPath), o.cacheDir, nil)
	rt := &libcni.RuntimeConf{
		ContainerID:    o.containerID,
		NetNS:          o.netns,
		IfName:         o.ifname,
		Args:           cniArgs,
		CapabilityArgs: capArgs,
	}

	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()

	// A runtime passes CHECK and DEL the same CNI_ARGS and capability args
	// as the ADD (portmap, for one, removes its rules on DEL only when
	// runtimeConfig.portMappings is present). When the caller does not give
	// them again, take them from libcni's cache of the ADD.
	if (o.command == "check" || o.command == "del") && o.capArgs == "" && o.args == "" {
		_, cached, err := cni.GetNetworkListCachedConfig(list, rt)
		if err != nil {
			return report(fmt.Errorf("read cached config: %w", err))
		}
		if cached != nil {
			rt.Args = cached.Args
			rt.CapabilityArgs = cached.CapabilityArgs
		}
	}

	switch o.command {
	case "add":
		res, err := cni.AddNetworkList(ctx, list, rt)
		if err != nil {
			return report(err)
		}
		conv, err := res.GetAsVersion(list.CNIVersion)
		if err != nil {
			return report(fmt.Errorf("convert result to %s: %w", list.CNIVersion, err))
		}
		writeJSON(conv)
	case "check":
		if err := cni.CheckNetworkList(ctx, list, rt); err != nil {
			return report(err)
		}
		writeJSON(struct{}{})
	case "del":
		if err := cni.DelNetworkList(ctx, list, rt); err != nil {
			return report(err)
		}
		writeJSON(struct{}{})
	case "status":
		return unsupported("STATUS")
	case "gc":
		if _, err := parseValid(o.valid); err != nil {
			return report(err)
		}
		return unsupported("GC")
	case "version":
		vr := versionReport{Libcni: libcniVersion, Name: list.Name, CNIVersion: list.CNIVersion, Plugins: []pluginVersion{}}
		for _, p := range list.Plugins {
			info, err := cni.GetVersionInfo(ctx, p.Network.Type)
			if err != nil {
				return report(fmt.Errorf("plugin type=%q version: %w", p.Network.Type, err))
			}
			pv := pluginVersion{Type: p.Network.Type, SupportedVersions: info.SupportedVersions()}
			for _, v := range pv.SupportedVersions {
				if v == list.CNIVersion {
					pv.SupportsList = true
				}
			}
			vr.Plugins = append(vr.Plugins, pv)
		}
		writeJSON(vr)
	}
	return exitOK
}

func main() {
	o, err := parseOptions(os.Args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(os.Stdout)
			os.Exit(exitOK)
		}
		fmt.Fprintf(os.Stderr, "cni-runner: %v\n", err)
		usage(os.Stderr)
		os.Exit(exitUsage)
	}
	os.Exit(run(o))
}
