-- Trigram indexes for contact search (pg_trgm, a trusted extension: the
-- database owner may create it).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
