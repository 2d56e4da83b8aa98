package tenants

import (
	"context"
	"fmt"
	"sort"

	"entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/schema"

	"switchboard/apierror"
	"switchboard/ent"
	"switchboard/ent/migrate"
	"switchboard/ent/tenant"
	"switchboard/gid"
)

// Deleted is how many rows of one entity decommissioning removed.
type Deleted struct {
	Entity string
	Count  int
}

// TenantColumn is the column by which a table's rows belong to a tenant.
const TenantColumn = "tenant_id"

// Decommission deletes every row of an unsubscribed tenant, in every table
// that carries a tenant and then the tenant's own, and nothing of any other
// tenant; it returns the rows deleted per entity (those with none
// included). confirmName must be the tenant's name. Nothing in the
// tenant's own AWS account is touched.
//
// The tables come from ent's generated schema, so an entity added later is
// deleted with the rest without a change here. client must be a
// transaction's (the request's, or Retention's): the deletes stand or fall
// together. The tenant's own row goes through ent, whose Tenant policy
// decides who may; should it refuse, the transaction rolls everything back.
func (s *Service) Decommission(ctx context.Context, client *ent.Client, id gid.ID, confirmName string) ([]Deleted, error) {
	tx := ent.TxFromContext(ctx)
	if tx == nil || tx.Client() != client {
		return nil, fmt.Errorf("tenants: Decommission needs a transaction")
	}
	t, err := get(ctx, client, id)
	if err != nil {
		return nil, err
	}
	if t.Lifecycle != tenant.LifecycleUNSUBSCRIBED {
		return nil, apierror.New(apierror.Conflict, "only an unsubscribed tenant is decommissioned; unsubscribe it first")
	}
	if confirmName != t.Name {
		return nil, apierror.New(apierror.BadUserInput, "confirmName must be the tenant's name, exactly")
	}
	var deleted []Deleted
	for _, table := range DeletionOrder() {
		q, args := sql.Dialect(s.dialect).Delete(table.Name).Where(sql.EQ(TenantColumn, string(id))).Query()
		res, err := client.ExecContext(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("tenants: deleting %s: %w", table.Name, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return nil, err
		}
		deleted = append(deleted, Deleted{Entity: ent.EntityByTable[table.Name], Count: int(n)})
	}
	if err := client.Tenant.DeleteOneID(id).Exec(ctx); err != nil {
		return nil, err
	}
	deleted = append(deleted, Deleted{Entity: ent.EntityByTable[tenant.Table], Count: 1})
	s.afterCommit(ctx, client, func() { s.gate.changed(id, "", false) })
	return deleted, nil
}

// DeletionOrder returns every table that carries a tenant, each after the
// tables whose rows refer to it, so that no delete leaves a dangling
// reference on the way.
func DeletionOrder() []*schema.Table {
	var owned []*schema.Table
	for _, t := range migrate.Tables {
		for _, c := range t.Columns {
			if c.Name == TenantColumn {
				owned = append(owned, t)
				break
			}
		}
	}
	sort.Slice(owned, func(i, j int) bool { return owned[i].Name < owned[j].Name })
	done := map[string]bool{}
	var order []*schema.Table
	for len(order) < len(owned) {
		progressed := false
		for _, t := range owned {
			if done[t.Name] || referredToByPending(t, owned, done) {
				continue
			}
			done[t.Name] = true
			order = append(order, t)
			progressed = true
		}
		if !progressed {
			panic("tenants: the tenant-owned tables refer to each other in a cycle")
		}
	}
	return order
}

// referredToByPending reports whether a table not yet deleted (other than
// t itself) has a foreign key to t.
func referredToByPending(t *schema.Table, owned []*schema.Table, done map[string]bool) bool {
	for _, o := range owned {
		if o == t || done[o.Name] {
			continue
		}
		for _, fk := range o.ForeignKeys {
			if fk.RefTable != nil && fk.RefTable.Name == t.Name {
				return true
			}
		}
	}
	return false
}
