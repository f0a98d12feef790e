package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/internal/cli"
	"github.com/vigilops/vigil/internal/location"
	"github.com/vigilops/vigil/internal/schedules"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// Host check. A run pinned to a host (file://HOST/path, dir://HOST/path,
// --host, an exec job's or exec processor's host) waits for that host's worker. Before such a
// run starts, the starter asks the server whether any worker serves the
// host now or served it recently: DescribeTaskQueue of the host's own
// queue (vigil@HOST) lists its pollers, and the server keeps a poller in
// that list for a few minutes after its last poll. A host nobody serves
// is refused with exit 2, naming the hosts the shared queue's pollers
// report (workers' identities are pid@HOST@vigil) and, for a location,
// the URL the user probably meant (file://srv/r.bin → file:///srv/r.bin).
// --allow-unknown-host starts anyway, for a host whose worker comes later.

// hostFlags are the flags of every verb that can pin a run to a host.
type hostFlags struct {
	allowUnknown bool
	wait         time.Duration
}

// add registers --allow-unknown-host and, when withWait, --host-wait.
func (f *hostFlags) add(cmd *cobra.Command, withWait bool) {
	cmd.Flags().BoolVar(&f.allowUnknown, "allow-unknown-host", false,
		"start even if no worker serves (or recently served) the host a file://HOST/ or dir://HOST/ location or --host names (its worker comes later)")
	if withWait {
		cmd.Flags().DurationVar(&f.wait, "host-wait", 0,
			"how long the run waits for that host's worker before it fails with HostUnavailable (default 24h, at most 168h)")
	}
}

// hostWait is --host-wait as a workflow input field: not negative, at most
// flowdata.MaxHostWait.
func (f *hostFlags) hostWait() (flowdata.Duration, error) {
	if err := flowdata.CheckHostWait(flowdata.Duration(f.wait)); err != nil {
		return 0, cli.Usagef("--host-wait: %v", err)
	}
	return flowdata.Duration(f.wait), nil
}

// hostRef is a host a run would be pinned to, and the location URL that
// names it ("" for a host given by a flag or a job's host field).
type hostRef struct {
	host, url string
}

// hostsIn lists the hosts a flow input pins its run to.
func hostsIn(input any) []hostRef {
	var refs []hostRef
	addURL := func(raw string) {
		if loc, err := location.Parse(raw); err == nil && loc.Host != "" && (loc.Scheme == location.File || loc.Scheme == location.Dir) {
			refs = append(refs, hostRef{host: loc.Host, url: raw})
		}
	}
	addHost := func(h string) {
		if h != "" {
			refs = append(refs, hostRef{host: h})
		}
	}
	switch in := input.(type) {
	case flowdata.Pipeline:
		if in.Processor.Exec != nil {
			addHost(in.Processor.Exec.Host)
		}
	case flowdata.S3ObjectInput:
		refs = append(refs, hostsIn(in.Pipeline)...)
	case workflows.S3SweepInput:
		refs = append(refs, hostsIn(in.Pipeline)...)
	case flowdata.BackupInput:
		addURL(in.Source)
		addHost(in.Host)
	case flowdata.RestoreInput:
		addURL(in.To)
		addHost(in.Host)
	case workflows.GlacierRetrieveInput:
		addURL(in.Destination)
	case workflows.S3RestoreInput:
		addURL(in.Destination)
	case workflows.BatchJobInput:
		if in.Job.Exec != nil {
			addHost(in.Job.Exec.Host)
		}
	}
	return refs
}

// checkHosts refuses (exit 2) a start whose input pins it to a host that
// no worker serves now or served recently, unless allowUnknown. It
// contacts the server only when the input names a host.
func (a *app) checkHosts(ctx context.Context, input any, allowUnknown bool) error {
	refs := hostsIn(input)
	if allowUnknown || len(refs) == 0 {
		return nil
	}
	c, err := a.connect(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return a.checkHostsWith(ctx, c, refs)
}

// checkHostsWith is checkHosts on a connected client.
func (a *app) checkHostsWith(ctx context.Context, c client.Client, refs []hostRef) error {
	for _, r := range refs {
		served, err := hostServed(ctx, c, a.flags.taskQueue, r.host)
		if err != nil {
			return fmt.Errorf("checking whether a worker serves host %q: %w", r.host, err)
		}
		if served {
			continue
		}
		known, err := knownHosts(ctx, c, a.flags.taskQueue)
		if err != nil {
			return fmt.Errorf("listing the hosts workers serve: %w", err)
		}
		return cli.Usagef("%s", unknownHostMessage(r, known))
	}
	return nil
}

// checkScheduleHosts is checkHosts for the inputs of schedules' actions:
// a schedule whose runs would wait for a host nobody serves is refused
// (exit 2) unless allowUnknown.
func (a *app) checkScheduleHosts(ctx context.Context, c client.Client, built []schedules.Built, allowUnknown bool) error {
	if allowUnknown {
		return nil
	}
	for _, b := range built {
		act, ok := b.Options.Action.(*client.ScheduleWorkflowAction)
		if !ok {
			continue
		}
		for _, arg := range act.Args {
			if err := a.checkHostsWith(ctx, c, hostsIn(arg)); err != nil {
				return fmt.Errorf("schedule %s: %w", b.Spec.ID, err)
			}
		}
	}
	return nil
}

// unknownHostMessage is the refusal of r: the known hosts, and the URL
// without a host when r came from one.
func unknownHostMessage(r hostRef, known []string) string {
	k := "none"
	if len(known) > 0 {
		k = strings.Join(known, ", ")
	}
	msg := fmt.Sprintf("no worker serves host %q (known: %s)", r.host, k)
	if r.url != "" {
		if scheme, rest, ok := strings.Cut(r.url, "://"); ok {
			msg += fmt.Sprintf("; did you mean %s:///%s?", scheme, rest)
		}
	}
	return msg + " (--allow-unknown-host starts it anyway, to wait for a worker of that host)"
}

// hostServed tells whether any worker polls host's own task queue now or
// did recently (the server keeps pollers listed for a few minutes).
func hostServed(ctx context.Context, c client.Client, taskQueue, host string) (bool, error) {
	d, err := c.DescribeTaskQueue(ctx, workflows.HostTaskQueue(taskQueue, host), enumspb.TASK_QUEUE_TYPE_ACTIVITY)
	if err != nil {
		return false, err
	}
	return len(d.GetPollers()) > 0, nil
}

// knownHosts are the hosts of the workers that poll the shared task queue
// now or did recently, read from their identities: vigil workers identify
// as pid@HOST@vigil (workerapp.WorkerOptions); other SDK workers as
// pid@hostname, whose hostname is the default --host.
func knownHosts(ctx context.Context, c client.Client, taskQueue string) ([]string, error) {
	var hosts []string
	for _, tt := range []enumspb.TaskQueueType{enumspb.TASK_QUEUE_TYPE_WORKFLOW, enumspb.TASK_QUEUE_TYPE_ACTIVITY} {
		d, err := c.DescribeTaskQueue(ctx, taskQueue, tt)
		if err != nil {
			return nil, err
		}
		for _, p := range d.GetPollers() {
			if h := identityHost(p.GetIdentity()); h != "" && !slices.Contains(hosts, h) {
				hosts = append(hosts, h)
			}
		}
	}
	slices.Sort(hosts)
	return hosts, nil
}

// identityHost is the host in a worker identity (pid@HOST@vigil or
// pid@hostname), or "".
func identityHost(id string) string {
	parts := strings.Split(id, "@")
	switch {
	case len(parts) == 3 && parts[2] == "vigil":
		return parts[1]
	case len(parts) == 2:
		return parts[1]
	}
	return ""
}
