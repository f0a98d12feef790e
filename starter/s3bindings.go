package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/vigilops/vigil/internal/cli"
	"github.com/vigilops/vigil/internal/s3bind"
	"github.com/vigilops/vigil/internal/setup"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// bindingRow is one binding as `starter s3 bindings -o json` prints it.
type bindingRow struct {
	Bucket    string `json:"bucket"`
	Prefix    string `json:"prefix"`
	Pipeline  string `json:"pipeline"`
	Processor string `json:"processor"`
	Archive   string `json:"archive"`
	// Spec is the bound flowdata.Pipeline, every URL in it redacted.
	Spec any `json:"spec"`
}

func (a *app) s3BindingsCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "bindings",
		Short:   "List the bucket/prefix → pipeline bindings",
		Example: `  starter s3 bindings -o json`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			c, err := a.connect(ctx)
			if err != nil {
				return err
			}
			defer c.Close()
			bs, err := s3bind.List(ctx, c)
			if err != nil {
				return err
			}
			rows := make([]bindingRow, 0, len(bs))
			for _, b := range bs {
				ab, ak := b.Pipeline.Archive.Resolve(b.Bucket, "", flowdata.DefaultArchivePrefix)
				spec, err := redactJSON(b.Pipeline)
				if err != nil {
					return fmt.Errorf("binding s3://%s/%s: %w", b.Bucket, b.Prefix, err)
				}
				rows = append(rows, bindingRow{Bucket: b.Bucket, Prefix: b.Prefix, Pipeline: b.Pipeline.Name,
					Processor: b.Pipeline.Processor.Kind, Archive: "s3://" + ab + "/" + ak, Spec: spec})
			}
			if a.format == cli.FormatJSON {
				return cli.WriteJSON(a.stdout, rows)
			}
			if len(rows) == 0 {
				fmt.Fprintln(a.stdout, "no bindings")
				return nil
			}
			table := make([][]string, 0, len(rows))
			for _, r := range rows {
				table = append(table, []string{"s3://" + r.Bucket + "/" + r.Prefix, r.Pipeline, r.Processor, r.Archive})
			}
			return cli.WriteTable(a.stdout, []string{"SOURCE", "PIPELINE", "PROCESSOR", "ARCHIVE"}, table)
		},
	}
}

func (a *app) s3UnbindCommand() *cobra.Command {
	var bucket, prefix string
	var keepEvents bool
	cmd := &cobra.Command{
		Use:   "unbind --bucket BUCKET --prefix PREFIX",
		Short: "Remove a bucket/prefix binding and the bucket notification setup-events added",
		Long: `unbind first removes the bucket's queue configuration that setup-events added for the prefix
(other configurations, the queue and its policy stay; already removed is fine), so S3 stops sending
events for it, then the binding; workers stop starting runs for it within seconds. With
--keep-events the notification stays: events still sent for the prefix are then left on the queue
(logged) until its redrive policy moves them to the dead-letter queue.`,
		Example: `  starter s3 unbind --bucket reports-inbox --prefix incoming/`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkBucketPrefix(bucket, prefix); err != nil {
				return err
			}
			ctx := cmd.Context()
			if !keepEvents {
				aw, err := a.awsClients(ctx)
				if err != nil {
					return err
				}
				rep, err := setup.RemoveS3Events(ctx, aw, setup.ObjectCreatedEvents(bucket, prefix, ""))
				if err != nil {
					return setupFailed(err)
				}
				if a.format != cli.FormatJSON {
					for _, s := range rep.Steps {
						fmt.Fprintf(a.stdout, "%-8s %s %s\n", s.Action, s.Resource, s.Name)
					}
				}
			}
			c, err := a.connect(ctx)
			if err != nil {
				return err
			}
			defer c.Close()
			if err := s3bind.Unbind(ctx, c, bucket, prefix); err != nil {
				if errors.Is(err, s3bind.ErrNoBinding) {
					return cli.NotFound(err)
				}
				return err
			}
			if a.format == cli.FormatJSON {
				return cli.WriteJSON(a.stdout, map[string]any{"bucket": bucket, "prefix": prefix, "unbound": true})
			}
			fmt.Fprintf(a.stdout, "unbound s3://%s/%s\n", bucket, prefix)
			return nil
		},
	}
	cmd.Flags().StringVar(&bucket, "bucket", "", "bucket name (required)")
	cmd.Flags().StringVar(&prefix, "prefix", "", "the bound prefix")
	cmd.Flags().BoolVar(&keepEvents, "keep-events", false, "leave the bucket's notification configuration as it is")
	return cmd
}

// boundPipeline returns the pipeline of the binding find picks from the
// registered ones (exit 3 with missing when none does), for the verbs
// that run without --pipeline.
func (a *app) boundPipeline(ctx context.Context, find func([]flowdata.S3Binding) (flowdata.S3Binding, bool), missing string) (flowdata.Pipeline, error) {
	c, err := a.connect(ctx)
	if err != nil {
		return flowdata.Pipeline{}, err
	}
	defer c.Close()
	bs, err := s3bind.List(ctx, c)
	if err != nil {
		return flowdata.Pipeline{}, err
	}
	b, ok := find(bs)
	if !ok {
		return flowdata.Pipeline{}, cli.NotFound(errors.New(missing + ": pass --pipeline"))
	}
	return b.Pipeline, nil
}
