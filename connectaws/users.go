package connectaws

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"
	"golang.org/x/time/rate"
)

// User is a Connect user of an instance, with the name of its routing
// profile.
type User struct {
	ID, ARN, Username          string
	FirstName, LastName, Email string
	RoutingProfileID           string
	// RoutingProfileName is empty when the profile is not listed.
	RoutingProfileName string
}

// DescribeUser's pace: Connect allows the account 2 a second, burst 5,
// shared with every other caller. Users keeps under it, with at most two
// calls in flight and a burst one short of Connect's, so that requests
// arriving closer together than they left do not overrun the bucket (what
// does, the SDK's retryer takes care of).
const (
	describeUserRate    = 2
	describeUserBurst   = 4
	describeUserWorkers = 2
)

// Users lists the instance's users with their names, emails and routing
// profiles: ListUsers and ListRoutingProfiles page by page, then
// DescribeUser for each user, paced within Connect's quota for it (2 a
// second), so an instance of n users takes about n/2 seconds: callers
// should keep the answer a while rather than ask again, and callers bound
// by a request's deadline take them a batch at a time (UserBatchFrom). A
// user deleted between the list and its description is left out. The
// order is ListUsers'.
func (c *Clients) Users(ctx context.Context, inst Instance) ([]User, error) {
	t, r, err := c.tenant(inst)
	if err != nil {
		return nil, err
	}
	var users []User
	up := connect.NewListUsersPaginator(t.connect, &connect.ListUsersInput{InstanceId: aws.String(r.id), MaxResults: aws.Int32(100)},
		func(o *connect.ListUsersPaginatorOptions) { o.StopOnDuplicateToken = true })
	for pages := 0; up.HasMorePages(); pages++ {
		if pages == maxPages {
			return nil, fmt.Errorf("connectaws: ListUsers gave more than %d pages", maxPages)
		}
		page, err := up.NextPage(ctx)
		if err != nil {
			return nil, upstream("Connect", "ListUsers", err)
		}
		users = appendSummaries(users, page.UserSummaryList)
	}
	return describeUsers(ctx, t, r, users)
}

// MaxUserBatch is the most users UserBatchFrom takes at once: 50 seconds
// of DescribeUser at Connect's pace.
const MaxUserBatch = 100

// UserBatch is a run of an instance's users, in ListUsers' order, and
// where the next run starts.
type UserBatch struct {
	Users []User
	// Next is the ListUsers token the next batch starts from; "" when
	// this batch ends with the instance's last user.
	Next string
}

// UserBatchFrom lists the instance's users from after (a batch's Next;
// "" for the first), described as Users describes them: as many as
// DescribeUser's pace gets through in half the time ctx has left, at
// least one and at most MaxUserBatch (MaxUserBatch when ctx has no
// deadline), so that a caller bound by a request's deadline goes through
// an instance of any size a batch at a time. A user deleted between the
// list and its description is left out (a batch may then be short, or
// even empty with a Next).
func (c *Clients) UserBatchFrom(ctx context.Context, inst Instance, after string) (UserBatch, error) {
	t, r, err := c.tenant(inst)
	if err != nil {
		return UserBatch{}, err
	}
	size := userBatchSize(ctx)
	var users []User
	token := after
	for pages := 0; len(users) < size; pages++ {
		if pages == maxPages {
			return UserBatch{}, fmt.Errorf("connectaws: ListUsers gave more than %d pages", maxPages)
		}
		in := &connect.ListUsersInput{InstanceId: aws.String(r.id), MaxResults: aws.Int32(int32(size - len(users)))}
		if token != "" {
			in.NextToken = aws.String(token)
		}
		page, err := t.connect.ListUsers(ctx, in)
		if err != nil {
			return UserBatch{}, upstream("Connect", "ListUsers", err)
		}
		users = appendSummaries(users, page.UserSummaryList)
		next := aws.ToString(page.NextToken)
		if next == token { // the last page, or a service that repeats itself
			next = ""
		}
		if token = next; token == "" {
			break
		}
	}
	described, err := describeUsers(ctx, t, r, users)
	if err != nil {
		return UserBatch{}, err
	}
	return UserBatch{Users: described, Next: token}, nil
}

// userBatchSize is how many users DescribeUser's pace describes in half
// the time ctx has left, within [1, MaxUserBatch].
func userBatchSize(ctx context.Context) int {
	deadline, ok := ctx.Deadline()
	if !ok {
		return MaxUserBatch
	}
	n := int(time.Until(deadline).Seconds() / 2 * describeUserRate)
	return min(max(n, 1), MaxUserBatch)
}

// appendSummaries appends ListUsers' users to users.
func appendSummaries(users []User, list []types.UserSummary) []User {
	for _, u := range list {
		users = append(users, User{ID: aws.ToString(u.Id), ARN: aws.ToString(u.Arn), Username: aws.ToString(u.Username)})
	}
	return users
}

// describeUsers completes users, as ListUsers listed them, with their
// routing profiles' names and DescribeUser's answers, at Connect's pace,
// and leaves out those deleted since.
func describeUsers(ctx context.Context, t *tenantClients, r resolved, users []User) ([]User, error) {
	if len(users) == 0 {
		return []User{}, nil
	}
	profiles := map[string]string{}
	pp := connect.NewListRoutingProfilesPaginator(t.connect, &connect.ListRoutingProfilesInput{InstanceId: aws.String(r.id), MaxResults: aws.Int32(100)},
		func(o *connect.ListRoutingProfilesPaginatorOptions) { o.StopOnDuplicateToken = true })
	for pages := 0; pp.HasMorePages(); pages++ {
		if pages == maxPages {
			return nil, fmt.Errorf("connectaws: ListRoutingProfiles gave more than %d pages", maxPages)
		}
		page, err := pp.NextPage(ctx)
		if err != nil {
			return nil, upstream("Connect", "ListRoutingProfiles", err)
		}
		for _, p := range page.RoutingProfileSummaryList {
			profiles[aws.ToString(p.Id)] = aws.ToString(p.Name)
		}
	}

	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu     sync.Mutex
		failed error // the first error, which stops the others
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if failed == nil {
			failed = err
		}
		cancel()
	}
	pace := rate.NewLimiter(describeUserRate, describeUserBurst)
	gone := make([]bool, len(users))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(describeUserWorkers, len(users)) {
		wg.Go(func() {
			for i := range next {
				if err := pace.Wait(ctx); err != nil {
					if ctx.Err() == nil { // the caller's deadline comes before the next turn
						fail(fmt.Errorf("connectaws: Connect DescribeUser: %d users take longer than the deadline at Connect's pace: %w",
							len(users), context.DeadlineExceeded))
					}
					return
				}
				d, err := t.connect.DescribeUser(ctx, &connect.DescribeUserInput{InstanceId: aws.String(r.id), UserId: aws.String(users[i].ID)})
				if _, ok := errors.AsType[*types.ResourceNotFoundException](err); ok {
					gone[i] = true
					continue
				}
				if err != nil {
					fail(upstream("Connect", "DescribeUser", err))
					return
				}
				describe(&users[i], d.User, profiles)
			}
		})
	}
feed:
	for i := range users {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if failed != nil {
		return nil, failed
	}
	if err := parent.Err(); err != nil {
		return nil, fmt.Errorf("connectaws: Connect DescribeUser: %w", err)
	}
	out := []User{}
	for i, u := range users {
		if !gone[i] {
			out = append(out, u)
		}
	}
	return out, nil
}

// describe completes u from DescribeUser's answer.
func describe(u *User, d *types.User, profiles map[string]string) {
	if d == nil {
		return
	}
	if d.Username != nil {
		u.Username = *d.Username
	}
	if d.Arn != nil {
		u.ARN = *d.Arn
	}
	if id := d.IdentityInfo; id != nil {
		u.FirstName, u.LastName, u.Email = aws.ToString(id.FirstName), aws.ToString(id.LastName), aws.ToString(id.Email)
	}
	u.RoutingProfileID = aws.ToString(d.RoutingProfileId)
	u.RoutingProfileName = profiles[u.RoutingProfileID]
}

// ContactFlow is a flow of an instance: Type is a ContactFlowType
// (CONTACT_FLOW, CUSTOMER_QUEUE, ...), State ACTIVE or ARCHIVED, Status
// PUBLISHED or SAVED.
type ContactFlow struct {
	ID, ARN, Name       string
	Type, State, Status string
}

// ContactFlowTypes are the flow types ListContactFlows takes, as this
// SDK knows them: CONTACT_FLOW, CUSTOMER_QUEUE, AGENT_TRANSFER, ...
func ContactFlowTypes() []string {
	var out []string
	for _, v := range types.ContactFlowType("").Values() {
		out = append(out, string(v))
	}
	return out
}

// ContactFlows lists the instance's flows of the types given (every type
// when none), page by page.
func (c *Clients) ContactFlows(ctx context.Context, inst Instance, flowTypes ...string) ([]ContactFlow, error) {
	t, r, err := c.tenant(inst)
	if err != nil {
		return nil, err
	}
	in := &connect.ListContactFlowsInput{InstanceId: aws.String(r.id), MaxResults: aws.Int32(100)}
	for _, ft := range flowTypes {
		in.ContactFlowTypes = append(in.ContactFlowTypes, types.ContactFlowType(ft))
	}
	p := connect.NewListContactFlowsPaginator(t.connect, in, func(o *connect.ListContactFlowsPaginatorOptions) { o.StopOnDuplicateToken = true })
	out := []ContactFlow{}
	for pages := 0; p.HasMorePages(); pages++ {
		if pages == maxPages {
			return nil, fmt.Errorf("connectaws: ListContactFlows gave more than %d pages", maxPages)
		}
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, upstream("Connect", "ListContactFlows", err)
		}
		for _, f := range page.ContactFlowSummaryList {
			out = append(out, ContactFlow{
				ID: aws.ToString(f.Id), ARN: aws.ToString(f.Arn), Name: aws.ToString(f.Name),
				Type: string(f.ContactFlowType), State: string(f.ContactFlowState), Status: string(f.ContactFlowStatus),
			})
		}
	}
	return out, nil
}
