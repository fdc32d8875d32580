"""Demo content for a believable world: organisation, people, customers, articles, orders."""
