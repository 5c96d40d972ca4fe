-- One tokenizer for the catalog's search document and for search queries, so a query term always
-- matches the word as it was stored: lower-cased runs of letters and digits. PostgreSQL's text
-- search parser is used for neither: it reads tokens such as 16978e6c or 3e8f1a2 as numbers in
-- scientific notation (16978e6 + c) and splits them differently depending on what surrounds them
-- (3e8f1a2 alone is 3e8 + f1a2, inside ci-runner-3e8f1a2 it is kept whole), so a query tokenized
-- by it could miss the very name it was typed from. Words too long for a tsvector are left out.
CREATE OR REPLACE FUNCTION hangar_search_words(doc text) RETURNS text[]
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT coalesce(array_agg(word), '{}') FROM regexp_split_to_table(lower(doc), '[^[:alnum:]]+') AS word WHERE word <> '' AND octet_length(word) < 2048 $$;
--> statement-breakpoint
-- array_to_string and concat_ws are only STABLE, so the generated column needs this IMMUTABLE wrapper.
-- Its search_path is pinned: pg_restore recomputes generated columns with an empty one.
CREATE OR REPLACE FUNCTION hangar_search_document(name text, slug text, os text, os_version text, tags text[], description text) RETURNS tsvector
  LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path FROM CURRENT
  AS $$ SELECT array_to_tsvector(hangar_search_words(concat_ws(' ', name, slug, os, os_version, array_to_string(tags, ' '), description))) $$;
--> statement-breakpoint
-- Every word of the query becomes a prefix term ("deb 12" → 'deb':* & '12':*), at most eight, so
-- search works as people type. Words hold only letters and digits, so quoting them as lexemes
-- needs no escaping and no input can be read as tsquery syntax. NULL when the query has no word.
CREATE OR REPLACE FUNCTION hangar_search_query(q text) RETURNS tsquery
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SET search_path FROM CURRENT
  AS $$ SELECT string_agg('''' || word || ''':*', ' & ' ORDER BY n)::tsquery FROM unnest(hangar_search_words(q)) WITH ORDINALITY AS t(word, n) WHERE n <= 8 $$;
