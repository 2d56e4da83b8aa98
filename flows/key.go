package flows

import (
	"context"
	"errors"
	"time"

	"switchboard/credential"
	"switchboard/ent"
	"switchboard/ent/flowskey"
	"switchboard/ent/privacy"
	"switchboard/gid"
	"switchboard/viewer"
)

// KeyPrefix begins every flows key.
const KeyPrefix = "sbf_"

// KeyHeader is the header the forwarding Lambda sends the key in.
const KeyHeader = "X-Switchboard-Flows-Key"

// RotateKey gives the tenant a new flows key and returns it, once; the key
// it replaces stops working when the transaction c belongs to commits.
func RotateKey(ctx context.Context, c *ent.Client) (key string, createdAt time.Time, err error) {
	if _, err := c.FlowsKey.Delete().Exec(ctx); err != nil {
		return "", time.Time{}, err
	}
	key, hash := credential.New(KeyPrefix)
	k, err := c.FlowsKey.Create().SetKeyHash(hash).SetCreatedBy(viewer.FromContext(ctx).Email).Save(ctx)
	if err != nil {
		return "", time.Time{}, err
	}
	return key, k.CreatedAt, nil
}

// ErrUnknownKey is TenantOfKey's answer for a key of no tenant.
var ErrUnknownKey = errors.New("flows: unknown key")

// TenantOfKey returns the tenant whose flows key is key, across tenants:
// the key is the caller's only credential, found by its hash. Whether the
// tenant is active is the caller's tenants.Gate to say.
func TenantOfKey(ctx context.Context, c *ent.Client, key string) (gid.ID, error) {
	if len(key) != len(KeyPrefix)+43 {
		return "", ErrUnknownKey
	}
	k, err := c.FlowsKey.Query().Where(flowskey.KeyHash(credential.Hash(key))).
		Only(privacy.DecisionContext(ctx, privacy.Allow))
	if ent.IsNotFound(err) {
		return "", ErrUnknownKey
	}
	if err != nil {
		return "", err
	}
	return k.TenantID, nil
}
