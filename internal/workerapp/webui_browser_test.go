//go:build !nodev

package workerapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/vigilops/vigil/internal/awsconf"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// uiRun is a run the Web UI must list.
type uiRun struct {
	ID     string `json:"id"`
	RunID  string `json:"runId"`
	Type   string `json:"type"`
	Status string `json:"status"` // as the UI and the API's String() write it: Running, Completed
	// Summary is the static summary the run was started with.
	Summary string `json:"-"`
}

// demoScheduleIDs are the schedules --dev creates (fixtures*.go, devbackup.go).
var demoScheduleIDs = []string{"demo-http-every-minute", "demo-exec-every-5m", "demo-datastore-export-daily",
	"demo-inbox-sweep", "demo-backup-cache-hourly"}

// TestWebUIInBrowser starts the --dev stack, runs one workflow of each
// flow (a Glacier retrieval kept running, an S3 restore, a batch job, an
// S3 sweep and the S3Object run it starts, and the backup and Datastore
// export that --dev starts itself), and checks in headless Chromium that
// the Web UI lists them with their types and statuses, that a VigilFlow
// query narrows the list, that the Schedules page lists the demo schedules,
// and that the running retrieval's page shows its static summary and its
// current details.
func TestWebUIInBrowser(t *testing.T) {
	chrome := findChromium(t)
	shots := screenshotDir(t)
	dir := t.TempDir()
	ep, stop := devRun(t, dir)
	defer stop()
	c, err := client.Dial(client.Options{HostPort: ep.TemporalAddress, Namespace: ep.Namespace})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	running := startKeptRunningRetrieval(t, c, ep)
	runs := append([]uiRun{running}, runEachFlow(t, c, ep, dir)...)
	waitVisible(t, c, runs)

	b := newBrowser(t, chrome, shots)
	base := ep.UIURL + "/namespaces/" + url.PathEscape(ep.Namespace)

	// The list shows every run with its type and status.
	b.open(base+"/workflows", "[data-testid=workflows-summary-configurable-table-row]")
	all := b.listRows("workflow list", runs)
	b.shot("workflows")

	// A VigilFlow query (the UI's query URL) narrows the list to that flow.
	q := fmt.Sprintf("%s=%q", workflows.SearchAttrFlow, workflows.GlacierFlow)
	want := listIDs(t, c, q)
	if len(want) == 0 || len(want) >= len(all) {
		t.Fatalf("query %s: %d runs of %d, want some but not all", q, len(want), len(all))
	}
	filtered := b.queryList(base, q, want)
	t.Logf("%s lists %d of %d runs: %v", q, len(filtered), len(all), filtered)
	b.shot("workflows-filter-vigilflow")

	// The saved query README gives hides the internal workflows.
	marked := checkInternalHidden(t, c, running.ID)
	b.open(base+"/workflows?query="+url.QueryEscape(hideInternalQuery), "[data-testid=workflows-summary-configurable-table-row]")
	b.waitFor("list of "+hideInternalQuery, `(w) => {
		const ids = Array.from(document.querySelectorAll('[data-testid=workflows-summary-configurable-table-row]')).map(tr => {
			const heads = Array.from(document.querySelectorAll('thead th')).map(th => th.getAttribute('data-testid') || '')
			const i = heads.indexOf('workflows-summary-table-header-cell-Workflow ID')
			return i < 0 ? '' : tr.children[i].textContent.trim()
		})
		return ids.includes(w.keep) && !ids.some(id => w.hidden.includes(id)) ? ids : false
	}`, `document.querySelector('main').innerText`, map[string]any{"keep": running.ID, "hidden": marked})
	b.shot("workflows-hide-internal")

	// The Schedules page lists the demo schedules.
	b.open(base+"/schedules", "[data-testid=schedule-count]")
	b.waitFor("schedules", `(ids) => ids.every(id => document.querySelector('a[href$="/schedules/' + id + '"]')) ? ids : false`,
		`document.querySelector('main').innerText`, demoScheduleIDs)
	b.shot("schedules")

	// The running retrieval's page shows its static summary and current
	// details (both rendered as Markdown in same-origin frames).
	summary := running.Summary
	b.open(fmt.Sprintf("%s/workflows/%s/%s/user-metadata", base, url.PathEscape(running.ID), running.RunID), "[data-testid=user-metadata]")
	b.waitFor("summary and current details", `(summary) => {
		const frames = Array.from(document.querySelectorAll('iframe')).map(f => (f.contentDocument && f.contentDocument.body) ? f.contentDocument.body.innerText : '')
		const text = frames.join('\n')
		return document.body.innerText.includes('Current Details') && text.includes(summary) && /waiting since \d{4}-\d\d-\d\d/.test(text) ? text : false
	}`, frameText, summary)
	// What the waiting retrieval waits for, its tier's typical time, the
	// next poll, the deadline and the job (workflows.Status.CurrentDetails).
	b.waitFor("the current details of the waiting retrieval", `(want) => {
		const text = Array.from(document.querySelectorAll('iframe')).map(f => (f.contentDocument && f.contentDocument.body) ? f.contentDocument.body.innerText : '').join('\n')
		return want.every(w => new RegExp(w).test(text)) ? text : false
	}`, frameText, []string{`waiting for: notification of Glacier job \S+, else a poll`, `typically: Bulk tier: typically 5-12 hours`,
		`next poll: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ`, `deadline: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ`, `jobId: \S+`, `tier: Bulk`,
		// The static details hold the whole archive id the ID and summary shorten.
		`archiveId: ` + regexp.QuoteMeta(ep.DemoArchives[2].ID)})
	b.shot("running-workflow")

	// The backup's static details list its inputs, the password only by
	// the name of its variable.
	backup := runs[slices.IndexFunc(runs, func(r uiRun) bool { return r.Type == workflows.BackupName })]
	in := demoBackupInput(ep.DemoCacheURL)
	b.open(fmt.Sprintf("%s/workflows/%s/%s/user-metadata", base, url.PathEscape(backup.ID), backup.RunID), "[data-testid=user-metadata]")
	b.waitFor("the backup's static details", `(want) => {
		const text = Array.from(document.querySelectorAll('iframe')).map(f => (f.contentDocument && f.contentDocument.body) ? f.contentDocument.body.innerText : '').join('\n')
		return want.every(w => text.includes(w)) ? text : false
	}`, frameText, []string{"Inputs", "name: " + in.Name, "source: " + in.Source, "target: " + in.Target,
		"auth.basicAuth.user: " + in.Auth.BasicAuth.User, "auth.basicAuth.passwordEnv: " + in.Auth.BasicAuth.PasswordEnv, "keep: 24", "verify: true"})
	b.shot("backup-details")
}

// frameText is what the waits on a run's page report when they time out:
// its Markdown frames' text and the page's.
const frameText = `Array.from(document.querySelectorAll('iframe')).map(f => f.contentDocument ? f.contentDocument.body.innerText : '(no access)').join('\n') + '\n' + document.querySelector('main').innerText`

// hideInternalQuery is README's saved query that hides vigil's internal
// workflows.
var hideInternalQuery = workflows.SearchAttrInternal + " IS NULL"

// checkInternalHidden: the internal workflows --dev runs (vigil/*,
// schedwatch/*; at least vigil/s3-bindings) carry VigilInternal and
// hideInternalQuery lists none of them but the flow run keep; it returns
// the internal workflows' IDs.
func checkInternalHidden(t *testing.T, c client.Client, keep string) []string {
	t.Helper()
	isInternal := func(id string) bool { return strings.HasPrefix(id, "vigil/") || strings.HasPrefix(id, "schedwatch/") }
	deadline := time.Now().Add(time.Minute)
	for {
		internal := slices.DeleteFunc(listIDs(t, c, ""), func(id string) bool { return !isInternal(id) })
		marked := listIDs(t, c, workflows.SearchAttrInternal+" IS NOT NULL")
		visible := listIDs(t, c, hideInternalQuery)
		ok := slices.Contains(visible, keep) && slices.Contains(marked, workflows.S3BindingsWorkflowID)
		for _, id := range internal {
			ok = ok && slices.Contains(marked, id) && !slices.Contains(visible, id)
		}
		for _, id := range marked {
			ok = ok && isInternal(id)
		}
		if ok {
			return marked
		}
		if time.Now().After(deadline) {
			t.Fatalf("internal workflows %v; %s IS NOT NULL lists %v, %s lists %v; want them (at least %s) only in the first, %s in the second",
				internal, workflows.SearchAttrInternal, marked, hideInternalQuery, visible, workflows.S3BindingsWorkflowID, keep)
		}
		<-time.After(200 * time.Millisecond)
	}
}

// queryList opens the workflow list with query and waits until it shows
// exactly the workflow IDs want; it returns them.
func (b *browser) queryList(base, query string, want []string) []string {
	b.t.Helper()
	b.open(base+"/workflows?query="+url.QueryEscape(query), "[data-testid=workflows-summary-configurable-table-row]")
	raw := b.waitFor("list of "+query, `(want) => {
		const ids = Array.from(document.querySelectorAll('[data-testid=workflows-summary-configurable-table-row]')).map(tr => {
			const heads = Array.from(document.querySelectorAll('thead th')).map(th => th.getAttribute('data-testid') || '')
			const i = heads.indexOf('workflows-summary-table-header-cell-Workflow ID')
			return i < 0 ? '' : tr.children[i].textContent.trim()
		})
		const uniq = [...new Set(ids)]
		const wantU = [...new Set(want)]
		return uniq.length === wantU.length && wantU.every(id => uniq.includes(id)) ? ids : false
	}`, `document.querySelector('main').innerText`, want)
	var ids []string
	if err := json.Unmarshal(raw, &ids); err != nil {
		b.t.Fatal(err)
	}
	return ids
}

// listRows waits until the workflow list shows every run of want (by run
// ID, with its workflow ID, type and status) and returns all rows.
func (b *browser) listRows(what string, want []uiRun) []map[string]string {
	b.t.Helper()
	raw := b.waitFor(what, `(want) => {
		const heads = Array.from(document.querySelectorAll('thead th')).map(th => (th.getAttribute('data-testid') || '').replace('workflows-summary-table-header-cell-', ''))
		const rows = Array.from(document.querySelectorAll('[data-testid=workflows-summary-configurable-table-row]')).map(tr => {
			const o = {}
			Array.from(tr.children).forEach((td, i) => { if (heads[i]) o[heads[i]] = td.textContent.trim() })
			return o
		})
		const ok = want.every(w => rows.some(r => r['Run ID'] === w.runId && r['Workflow ID'] === w.id && r['Type'] === w.type && r['Status'] === w.status))
		return ok ? rows : false
	}`, `Array.from(document.querySelectorAll('[data-testid=workflows-summary-configurable-table-row]')).map(r => r.innerText.replace(/\s+/g, ' ')).join('\n')`, want)
	var rows []map[string]string
	if err := json.Unmarshal(raw, &rows); err != nil {
		b.t.Fatal(err)
	}
	return rows
}

// silentTopic is an SNS topic with no subscriber: a Glacier job that
// notifies it completes unseen, so its run waits (polling hourly) until
// the test ends.
const silentTopic = "vigil-webui-silent"

// startKeptRunningRetrieval starts a retrieval of the small demo archive
// whose completion notice goes to a silent topic, so it stays in its
// waiting phase for the whole test.
func startKeptRunningRetrieval(t *testing.T, c client.Client, ep Endpoints) uiRun {
	t.Helper()
	ctx := context.Background()
	topic, err := awsconf.NewClients(awsconf.Local(ep.CloudURL)).SNS.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(silentTopic)})
	if err != nil {
		t.Fatal(err)
	}
	a := ep.DemoArchives[2]
	in := workflows.GlacierRetrieveInput{Vault: DemoVault, ArchiveID: a.ID, Tier: "Bulk", SNSTopic: aws.ToString(topic.TopicArn),
		Destination: "file://" + filepath.Join(t.TempDir(), "kept.bin"), PollInterval: flowdata.Duration(time.Hour)}
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.GlacierWorkflowID(DemoVault, a.ID), TaskQueue: workflows.TaskQueue,
		StaticSummary: workflows.StaticSummary(in), StaticDetails: workflows.StaticDetails(in)}, workflows.GlacierRetrieveName, in)
	if err != nil {
		t.Fatal(err)
	}
	return uiRun{ID: run.GetID(), RunID: run.GetRunID(), Type: workflows.GlacierRetrieveName, Status: "Running", Summary: workflows.StaticSummary(in)}
}

// runEachFlow runs an S3 restore, a batch job and an S3 sweep (and the
// S3Object run the sweep starts) to completion, and waits for the backup
// and the Datastore export that --dev starts at start.
func runEachFlow(t *testing.T, c client.Client, ep Endpoints, dir string) []uiRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	clients := awsconf.NewClients(awsconf.Local(ep.CloudURL))
	var runs []uiRun
	start := func(id, wfType string, in any) {
		t.Helper()
		summary := workflows.StaticSummary(in)
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: workflows.TaskQueue, StaticSummary: summary,
			StaticDetails: workflows.StaticDetails(in)}, wfType, in)
		if err != nil {
			t.Fatalf("starting %s: %v", id, err)
		}
		runs = append(runs, uiRun{ID: id, RunID: run.GetRunID(), Type: wfType, Summary: summary})
	}
	o := demoObjects[1]
	start(workflows.S3RestoreWorkflowID(DemoArchiveBucket, o.description), workflows.S3RestoreName, workflows.S3RestoreInput{
		Bucket: DemoArchiveBucket, Key: o.description, Tier: "Expedited", Destination: "file://" + filepath.Join(t.TempDir(), "restored.tar"),
		PollInterval: flowdata.Duration(time.Hour)})
	start("batch/webui-check", workflows.BatchJobName, workflows.BatchJobInput{Job: flowdata.BatchJob{Name: "webui-check", Kind: "http",
		HTTP: &flowdata.HTTPJob{URL: ep.CloudURL + "/_slack/messages", ExpectStatus: []int{200}}}})

	key := demoInboxPrefix + "webui-check.txt"
	put, err := clients.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(DemoInboxBucket), Key: aws.String(key), Body: strings.NewReader("checked in a browser\n")})
	if err != nil {
		t.Fatal(err)
	}
	zero := flowdata.Duration(0)
	start("s3-sweep/webui-check", workflows.S3SweepName, workflows.S3SweepInput{Bucket: DemoInboxBucket, Prefix: demoInboxPrefix, OlderThan: &zero,
		Pipeline: demoPipeline(filepath.Join(dir, "webui-processed.log"))})

	for i := range runs {
		if err := c.GetWorkflow(ctx, runs[i].ID, runs[i].RunID).Get(ctx, nil); err != nil {
			t.Fatalf("%s: %v", runs[i].ID, err)
		}
		runs[i].Status = "Completed"
	}
	// The sweep or the object's event (whichever came first) started the
	// object's run; the other found it.
	// Its summary ends with who started it, "(sweep)" or "(event)".
	objID := flowdata.S3ObjectWorkflowID(DemoInboxBucket, key, aws.ToString(put.ETag))
	runs = append(runs, waitCompleted(ctx, t, c, objID, workflows.S3ObjectName,
		fmt.Sprintf("S3 object s3://%s/%s → pipeline %s (", DemoInboxBucket, key, demoPipeline("").Name)))
	backups := listIDs(t, c, fmt.Sprintf("%s=%q", workflows.SearchAttrFlow, workflows.BackupFlow))
	if len(backups) == 0 {
		t.Fatal("--dev started no backup")
	}
	runs = append(runs, waitCompleted(ctx, t, c, backups[0], workflows.BackupName, demoBackupInput(ep.DemoCacheURL).StaticSummary()))
	runs = append(runs, waitCompleted(ctx, t, c, DemoDatastoreExportID, workflows.DatastoreExportName,
		fmt.Sprintf("Datastore export of %s → gs://%s/datastore/", DemoDatastoreProject, DemoDatastoreBucket)))
	runs = append(runs, triggerSchedule(ctx, t, c, "demo-http-every-minute", workflows.BatchJobName, "batch job demo-s3dump (http)"))
	for _, r := range runs {
		checkSummary(ctx, t, c, r)
		if r.Type == workflows.BackupName {
			checkActivitySummaries(ctx, t, c, r, "upload ", "verify SHA-256 of ", "publish latest.json of ", "prune old backups of ")
		}
	}
	return runs
}

// waitCompleted waits for the latest run of id to complete; its static
// summary must start with summary.
func waitCompleted(ctx context.Context, t *testing.T, c client.Client, id, wfType, summary string) uiRun {
	t.Helper()
	for {
		run := c.GetWorkflow(ctx, id, "")
		err := run.Get(ctx, nil)
		if err == nil {
			return uiRun{ID: id, RunID: run.GetRunID(), Type: wfType, Status: "Completed", Summary: summary}
		}
		// Not started yet: the object's event or sweep is on its way.
		var nf *serviceerror.NotFound
		if ctx.Err() != nil || !errors.As(err, &nf) {
			t.Fatalf("%s: %v", id, err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// listIDs lists the workflow IDs visibility finds for query, newest first.
func listIDs(t *testing.T, c client.Client, query string) []string {
	t.Helper()
	resp, err := c.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{Query: query})
	if err != nil {
		t.Fatalf("list %s: %v", query, err)
	}
	var ids []string
	for _, e := range resp.GetExecutions() {
		ids = append(ids, e.GetExecution().GetWorkflowId())
	}
	return ids
}

// waitVisible waits until visibility (what the UI lists) shows every run
// with its final status.
func waitVisible(t *testing.T, c client.Client, runs []uiRun) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := c.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{PageSize: 1000})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]string{}
		for _, e := range resp.GetExecutions() {
			seen[e.GetExecution().GetRunId()] = e.GetStatus().String()
		}
		missing := slices.DeleteFunc(slices.Clone(runs), func(r uiRun) bool { return seen[r.RunID] == r.Status })
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("visibility does not list %+v", missing)
		}
		<-time.After(200 * time.Millisecond)
	}
}

// triggerSchedule starts a run of a demo schedule now and waits for it to
// complete.
func triggerSchedule(ctx context.Context, t *testing.T, c client.Client, id, wfType, summary string) uiRun {
	t.Helper()
	query := fmt.Sprintf("TemporalScheduledById=%q", id)
	before := len(listIDs(t, c, query))
	if err := c.ScheduleClient().GetHandle(ctx, id).Trigger(ctx, client.ScheduleTriggerOptions{}); err != nil {
		t.Fatalf("triggering %s: %v", id, err)
	}
	for {
		if ids := listIDs(t, c, query); len(ids) > before {
			return waitCompleted(ctx, t, c, ids[0], wfType, summary)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("schedule %s started no run: %v", id, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// checkSummary: the run carries the static summary its starter (this
// test, the sweeper or router, a schedule, --dev) gave it.
func checkSummary(ctx context.Context, t *testing.T, c client.Client, r uiRun) {
	t.Helper()
	d, err := c.DescribeWorkflowExecution(ctx, r.ID, r.RunID)
	if err != nil {
		t.Fatal(err)
	}
	var got string
	if p := d.GetExecutionConfig().GetUserMetadata().GetSummary(); p != nil {
		if err := converter.GetDefaultDataConverter().FromPayload(p, &got); err != nil {
			t.Fatal(err)
		}
	}
	if r.Summary == "" || !strings.HasPrefix(got, r.Summary) {
		t.Errorf("%s (%s): static summary %q, want %q", r.ID, r.Type, got, r.Summary)
	}
}

// checkActivitySummaries: the run's activities were scheduled with
// summaries starting with each of want, in that order (the Web UI's
// timeline shows them).
func checkActivitySummaries(ctx context.Context, t *testing.T, c client.Client, r uiRun, want ...string) {
	t.Helper()
	var got []string
	it := c.GetWorkflowHistory(ctx, r.ID, r.RunID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if ev.GetEventType() != enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED {
			continue
		}
		var s string
		if p := ev.GetUserMetadata().GetSummary(); p != nil {
			if err := converter.GetDefaultDataConverter().FromPayload(p, &s); err != nil {
				t.Fatal(err)
			}
		}
		got = append(got, s)
	}
	i := 0
	for _, s := range got {
		if i < len(want) && strings.HasPrefix(s, want[i]) {
			i++
		}
	}
	if i < len(want) {
		t.Errorf("%s: activity summaries %q, want ones starting with %q in order", r.ID, got, want)
	}
}
