"""Which tables are tenant tables: schema sources emit ModelFacts, `resolve.build_schema` turns them into a Schema."""
