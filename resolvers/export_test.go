package resolvers

// ClassifiedMutations returns the mutation names mutationTransactions has.
func ClassifiedMutations() []string {
	out := make([]string, 0, len(mutationTransactions))
	for name := range mutationTransactions {
		out = append(out, name)
	}
	return out
}

// ViewerIndependentCount returns how many resolvers are vouched for.
func ViewerIndependentCount() int { return len(viewerIndependentResolvers) }
