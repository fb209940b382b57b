//! Linking policy: which identifiers and rules link records (owned by the resolver work).
