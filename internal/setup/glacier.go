package setup

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	gtypes "github.com/aws/aws-sdk-go-v2/service/glacier/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/vigilops/vigil/internal/awsconf"
)

// GlacierEvents are the vault events vigil listens to.
var GlacierEvents = []string{"ArchiveRetrievalCompleted", "InventoryRetrievalCompleted"}

// GlacierOptions configure a vault's notifications.
type GlacierOptions struct {
	Vault     string
	AccountID string // "-" when empty
	// TopicName defaults to "vigil-glacier-<vault>".
	TopicName string
	// QueueName defaults to DefaultQueue.
	QueueName string
}

// Glacier sets up vault → SNS topic → SQS queue for job completions.
func Glacier(ctx context.Context, c *awsconf.Clients, o GlacierOptions) (Report, error) {
	var rep Report
	if o.AccountID == "" {
		o.AccountID = "-"
	}
	if o.TopicName == "" {
		o.TopicName = "vigil-glacier-" + o.Vault
	}
	if o.QueueName == "" {
		o.QueueName = DefaultQueue
	}
	if _, err := c.Glacier.DescribeVault(ctx, &glacier.DescribeVaultInput{AccountId: aws.String(o.AccountID), VaultName: aws.String(o.Vault)}); err != nil {
		var nf *gtypes.ResourceNotFoundException
		if errors.As(err, &nf) {
			return rep, &NotFoundError{Kind: "vault", Name: o.Vault}
		}
		return rep, fmt.Errorf("describing vault %s: %w", o.Vault, err)
	}
	q, err := ensureQueue(ctx, c, o.QueueName, &rep)
	if err != nil {
		return rep, err
	}
	rep.QueueURL = q.URL
	topicARN, err := ensureTopic(ctx, c, o.TopicName, &rep)
	if err != nil {
		return rep, err
	}
	if err := allowSender(ctx, c, q, "vigil-"+strings.TrimPrefix(o.TopicName, "vigil-"), "sns.amazonaws.com", topicARN, &rep); err != nil {
		return rep, err
	}
	if err := ensureSubscription(ctx, c, topicARN, q.ARN, &rep); err != nil {
		return rep, err
	}
	cur, err := c.Glacier.GetVaultNotifications(ctx, &glacier.GetVaultNotificationsInput{AccountId: aws.String(o.AccountID), VaultName: aws.String(o.Vault)})
	var nf *gtypes.ResourceNotFoundException
	if err != nil && !errors.As(err, &nf) {
		return rep, fmt.Errorf("reading vault notifications: %w", err)
	}
	if err == nil && cur.VaultNotificationConfig != nil && aws.ToString(cur.VaultNotificationConfig.SNSTopic) == topicARN &&
		sameSet(cur.VaultNotificationConfig.Events, GlacierEvents) {
		rep.add("found", "vault notifications", o.Vault)
		return rep, nil
	}
	action := "created"
	if err == nil && cur.VaultNotificationConfig != nil {
		action = "updated"
	}
	if _, err := c.Glacier.SetVaultNotifications(ctx, &glacier.SetVaultNotificationsInput{AccountId: aws.String(o.AccountID), VaultName: aws.String(o.Vault),
		VaultNotificationConfig: &gtypes.VaultNotificationConfig{SNSTopic: aws.String(topicARN), Events: GlacierEvents}}); err != nil {
		return rep, fmt.Errorf("setting vault notifications: %w", err)
	}
	rep.add(action, "vault notifications", o.Vault)
	return rep, nil
}

func ensureTopic(ctx context.Context, c *awsconf.Clients, name string, rep *Report) (string, error) {
	p := sns.NewListTopicsPaginator(c.SNS, &sns.ListTopicsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", fmt.Errorf("listing topics: %w", err)
		}
		for _, t := range page.Topics {
			if arn := aws.ToString(t.TopicArn); arnName(arn) == name {
				rep.add("found", "sns topic", name)
				return arn, nil
			}
		}
	}
	out, err := c.SNS.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name)})
	if err != nil {
		return "", fmt.Errorf("creating topic %s: %w", name, err)
	}
	rep.add("created", "sns topic", name)
	return aws.ToString(out.TopicArn), nil
}

func ensureSubscription(ctx context.Context, c *awsconf.Clients, topicARN, queueARN string, rep *Report) error {
	p := sns.NewListSubscriptionsByTopicPaginator(c.SNS, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(topicARN)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("listing subscriptions: %w", err)
		}
		for _, s := range page.Subscriptions {
			if aws.ToString(s.Protocol) == "sqs" && aws.ToString(s.Endpoint) == queueARN {
				rep.add("found", "sns subscription", arnName(topicARN)+" → "+arnName(queueARN))
				return nil
			}
		}
	}
	if _, err := c.SNS.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(topicARN), Protocol: aws.String("sqs"), Endpoint: aws.String(queueARN)}); err != nil {
		return fmt.Errorf("subscribing the queue to %s: %w", topicARN, err)
	}
	rep.add("created", "sns subscription", arnName(topicARN)+" → "+arnName(queueARN))
	return nil
}

// arnName is the last ":"-separated part of an ARN.
func arnName(arn string) string {
	for i := len(arn) - 1; i >= 0; i-- {
		if arn[i] == ':' {
			return arn[i+1:]
		}
	}
	return arn
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}
