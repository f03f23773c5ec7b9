package awsconn

import (
	"context"
	"testing"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
)

func TestCallNamesOfOlderClients(t *testing.T) {
	older := middleware.WithOperationName(middleware.WithServiceID(context.Background(), "SFN"), "ListActivities")
	if s, o := callNames(older); IAMAction(s, o) != "states:ListActivities" {
		t.Errorf("callNames of a smithy-stacked call = %q %q", s, o)
	}
	newer := awsmiddleware.SetServiceID(awsmiddleware.SetOperationName(context.Background(), "ListFunctions"), "Lambda")
	if s, o := callNames(newer); IAMAction(s, o) != "lambda:ListFunctions" {
		t.Errorf("callNames of an aws-stacked call = %q %q", s, o)
	}
}
