package sqsemu

// JSON shapes of the SQS requests and responses. Member names are the
// Smithy member names (service/sqs schemas); encoding/json matches request
// keys case-insensitively, responses use the exact names.

// attributeValue is a MessageAttributeValue / MessageSystemAttributeValue.
type attributeValue struct {
	DataType         string   `json:"DataType"`
	StringValue      *string  `json:"StringValue,omitempty"`
	BinaryValue      []byte   `json:"BinaryValue,omitempty"`
	StringListValues []string `json:"StringListValues,omitempty"`
	BinaryListValues [][]byte `json:"BinaryListValues,omitempty"`
}

type queueURLRequest struct {
	QueueUrl string
}

type queueURLResponse struct {
	QueueUrl string
}

type createQueueRequest struct {
	QueueName  string
	Attributes map[string]string
	Tags       map[string]string `json:"tags"`
}

type getQueueURLRequest struct {
	QueueName              string
	QueueOwnerAWSAccountId string
}

type getQueueAttributesRequest struct {
	QueueUrl       string
	AttributeNames []string
}

type attributesResponse struct {
	Attributes map[string]string `json:"Attributes,omitempty"`
}

type setQueueAttributesRequest struct {
	QueueUrl   string
	Attributes map[string]string
}

type listQueuesRequest struct {
	QueueNamePrefix string
	NextToken       string
	MaxResults      *int
}

type listQueuesResponse struct {
	QueueUrls []string `json:"QueueUrls,omitempty"`
	NextToken string   `json:"NextToken,omitempty"`
}

type listDeadLetterSourceQueuesRequest struct {
	QueueUrl   string
	NextToken  string
	MaxResults *int
}

type listDeadLetterSourceQueuesResponse struct {
	QueueUrls []string `json:"queueUrls"`
	NextToken string   `json:"NextToken,omitempty"`
}

type tagQueueRequest struct {
	QueueUrl string
	Tags     map[string]string
	TagKeys  []string
}

type tagsResponse struct {
	Tags map[string]string `json:"Tags,omitempty"`
}

type sendRequest struct {
	QueueUrl                string
	Id                      string // batch entries only
	MessageBody             *string
	DelaySeconds            *int
	MessageAttributes       map[string]attributeValue
	MessageSystemAttributes map[string]attributeValue
	MessageDeduplicationId  *string
	MessageGroupId          *string
}

type sendResult struct {
	Id                           string `json:"Id,omitempty"`
	MessageId                    string
	MD5OfMessageBody             string
	MD5OfMessageAttributes       string `json:"MD5OfMessageAttributes,omitempty"`
	MD5OfMessageSystemAttributes string `json:"MD5OfMessageSystemAttributes,omitempty"`
}

type sendBatchRequest struct {
	QueueUrl string
	Entries  []sendRequest
}

// batchError is a BatchResultErrorEntry.
type batchError struct {
	Id          string
	SenderFault bool
	Code        string
	Message     string
}

type sendBatchResponse struct {
	Successful []sendResult `json:"Successful"`
	Failed     []batchError `json:"Failed"`
}

type receiveRequest struct {
	QueueUrl                    string
	AttributeNames              []string
	MessageSystemAttributeNames []string
	MessageAttributeNames       []string
	MaxNumberOfMessages         *int
	VisibilityTimeout           *int
	WaitTimeSeconds             *int
	ReceiveRequestAttemptId     string
}

type wireMessage struct {
	MessageId              string
	ReceiptHandle          string
	MD5OfBody              string
	Body                   string
	Attributes             map[string]string         `json:"Attributes,omitempty"`
	MD5OfMessageAttributes string                    `json:"MD5OfMessageAttributes,omitempty"`
	MessageAttributes      map[string]attributeValue `json:"MessageAttributes,omitempty"`
}

type receiveResponse struct {
	Messages []wireMessage `json:"Messages,omitempty"`
}

type handleRequest struct {
	QueueUrl          string
	Id                string // batch entries only
	ReceiptHandle     string
	VisibilityTimeout *int
}

type handleBatchRequest struct {
	QueueUrl string
	Entries  []handleRequest
}

type idResult struct {
	Id string
}

type handleBatchResponse struct {
	Successful []idResult   `json:"Successful"`
	Failed     []batchError `json:"Failed"`
}
