package livestatus

import "switchboard/ent"

// WriterNames names the writers that run on a store: ent's on both, and
// PostgreSQL's own on PostgreSQL.
func WriterNames(postgres bool) []string {
	if postgres {
		return []string{"ent", "postgres"}
	}
	return []string{"ent"}
}

// NewServiceWriting is NewService with the writer named (WriterNames), for
// a store that is PostgreSQL or not.
func NewServiceWriting(client *ent.Client, pub *Publisher, o Options, name string) *Service {
	var w writer
	switch name {
	case "postgres":
		w = pgWriter{}
	case "ent":
		w = entWriter{forUpdate: o.Postgres}
	default:
		panic("livestatus: no writer " + name)
	}
	return newService(client, pub, o, w)
}
