package connectaws

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
)

// QuickConnect is a transfer destination of an instance: Type is USER,
// QUEUE or PHONE_NUMBER.
type QuickConnect struct {
	ID, Name, Type string
}

// QuickConnects lists every quick connect of the instance, page by page.
func (c *Clients) QuickConnects(ctx context.Context, inst Instance) ([]QuickConnect, error) {
	t, r, err := c.tenant(inst)
	if err != nil {
		return nil, err
	}
	p := connect.NewListQuickConnectsPaginator(t.connect, &connect.ListQuickConnectsInput{
		InstanceId: aws.String(r.id), MaxResults: aws.Int32(100),
	})
	out := []QuickConnect{}
	for pages := 0; p.HasMorePages(); pages++ {
		if pages == maxPages {
			return nil, fmt.Errorf("connectaws: ListQuickConnects gave more than %d pages", maxPages)
		}
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, upstream("Connect", "ListQuickConnects", err)
		}
		for _, q := range page.QuickConnectSummaryList {
			out = append(out, QuickConnect{ID: aws.ToString(q.Id), Name: aws.ToString(q.Name), Type: string(q.QuickConnectType)})
		}
	}
	return out, nil
}
