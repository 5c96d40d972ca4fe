CREATE EXTENSION IF NOT EXISTS pg_trgm;
--> statement-breakpoint
-- array_to_string is only STABLE, so a generated tsvector column needs this IMMUTABLE wrapper.
CREATE OR REPLACE FUNCTION hangar_tags_tsvector(tags text[]) RETURNS tsvector
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT to_tsvector('simple', coalesce(array_to_string(tags, ' '), '')) $$;
