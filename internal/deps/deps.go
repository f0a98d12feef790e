// Package deps pins module dependencies while the packages that use them are
// being written. Remove once every import here is used elsewhere.
package deps

import (
	_ "cloud.google.com/go/datastore"
	_ "cloud.google.com/go/datastore/admin/apiv1"
	_ "github.com/aws/aws-sdk-go-v2/config"
	_ "github.com/aws/aws-sdk-go-v2/service/glacier"
	_ "github.com/aws/aws-sdk-go-v2/service/s3"
	_ "github.com/aws/aws-sdk-go-v2/service/sns"
	_ "github.com/aws/aws-sdk-go-v2/service/sqs"
	_ "github.com/johannesboyne/gofakes3"
	_ "github.com/johannesboyne/gofakes3/backend/s3afero"
	_ "github.com/johannesboyne/gofakes3/backend/s3bolt"
	_ "github.com/johannesboyne/gofakes3/backend/s3mem"
	_ "github.com/spf13/cobra"
	_ "github.com/temporalio/ui-server/v2/server"
	_ "go.temporal.io/sdk/client"
	_ "go.temporal.io/sdk/contrib/envconfig"
	_ "go.temporal.io/sdk/testsuite"
	_ "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	_ "go.temporal.io/server/schema/sqlite"
	_ "go.temporal.io/server/temporal"
	_ "go.temporal.io/server/temporaltest"
	_ "go.yaml.in/yaml/v3"
)
